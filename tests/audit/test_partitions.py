"""Monthly partitions of the audit trail on PostgreSQL: every record lands in its
month's partition, every partition is append-only and indexed like the parent, and the
partitions ahead are made idempotently."""

import datetime as dt

import pytest
from django.db import Error, connection, transaction

from audit import partitions
from audit.canonical import canonical_text, mac
from audit.capture import build
from audit.choices import Action
from audit.models import AuditLog
from audit.store import insert

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

FAR_MONTH = dt.date(2031, 5, 1)


def record_at(when, **fields):
    """A record as the application writes it, dated ``when``."""
    record = build(action=Action.CREATE, resource_type="tests.partition", **fields)
    record["timestamp"] = when.isoformat(timespec="microseconds")
    record["mac"] = mac(canonical_text(record))
    insert([record])
    return record


def _partition_of(record_id):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM audit_auditlog WHERE id = %s", [record_id]
        )
        return cursor.fetchone()[0]


def _this_month():
    return dt.datetime.now(dt.UTC).date().replace(day=1)


def _refused(sql):
    with pytest.raises(Error) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    return str(caught.value)


def test_the_audit_table_is_partitioned_by_month():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partstrat FROM pg_partitioned_table "
            "WHERE partrelid = 'audit_auditlog'::regclass"
        )
        strategy = cursor.fetchone()
    names = [p.name for p in partitions.list_partitions()]

    assert strategy == ("r",)
    assert partitions.partition_name(_this_month()) in names
    assert names[-1] == partitions.DEFAULT_PARTITION


def test_a_record_lands_in_its_months_partition():
    start = dt.datetime.now(dt.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    this_month = start + dt.timedelta(microseconds=5)
    next_month = (start + dt.timedelta(days=32)).replace(day=1)
    last_instant = next_month - dt.timedelta(microseconds=1)

    records = [record_at(t) for t in (this_month, last_instant, next_month)]

    assert [_partition_of(r["id"]) for r in records] == [
        partitions.partition_name(this_month.date()),
        partitions.partition_name(this_month.date()),
        partitions.partition_name(next_month.date()),
    ]


def test_a_month_without_partition_lands_in_default_and_moves_when_it_gets_one():
    far = record_at(dt.datetime(2031, 5, 31, 23, 59, tzinfo=dt.UTC))
    other = record_at(dt.datetime(2031, 6, 1, tzinfo=dt.UTC))
    assert _partition_of(far["id"]) == partitions.DEFAULT_PARTITION

    created = partitions.create_partition(month=FAR_MONTH)

    assert created == partitions.partition_name(FAR_MONTH)
    assert _partition_of(far["id"]) == created
    assert _partition_of(other["id"]) == partitions.DEFAULT_PARTITION
    moved = AuditLog.objects.get(pk=far["id"])
    assert mac(canonical_text(moved)) == moved.mac == far["mac"]
    assert partitions.create_partition(month=FAR_MONTH) is None


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET action = 'login'",
        "DELETE FROM {table}",
        "TRUNCATE {table}",
    ],
)
def test_every_partition_refuses_changes(statement):
    record_at(dt.datetime.now(dt.UTC))
    record_at(dt.datetime(2031, 5, 2, tzinfo=dt.UTC))
    tables = [partitions.partition_name(_this_month()), partitions.DEFAULT_PARTITION]
    before = AuditLog.objects.count()

    messages = [_refused(statement.format(table=table)) for table in tables]

    assert all("append-only" in message for message in messages)
    assert AuditLog.objects.count() == before


def test_a_new_partition_refuses_truncate_too():
    partitions.create_partition(month=FAR_MONTH)

    message = _refused(f"TRUNCATE {partitions.partition_name(FAR_MONTH)}")

    assert "append-only" in message


def test_ensure_partitions_is_idempotent():
    made = partitions.ensure_partitions(ahead=6)
    again = partitions.ensure_partitions(ahead=6)
    months = [p.month for p in partitions.list_partitions() if p.month]

    assert again == []
    assert len(made) >= 1
    assert all(name in {partitions.partition_name(m) for m in months} for name in made)
    start = months.index(_this_month())
    ahead = months[start : start + 7]
    assert all(
        (later.year * 12 + later.month) - (earlier.year * 12 + earlier.month) == 1
        for earlier, later in zip(ahead, ahead[1:], strict=False)
    )
    assert len(ahead) == 7


def test_ensure_partitions_refuses_an_unbounded_window():
    with pytest.raises(Error, match="ahead must be between"), transaction.atomic():
        partitions.ensure_partitions(ahead=partitions.MAX_AHEAD + 1)


def test_the_models_indexes_are_on_every_partition():
    partitions.create_partition(month=FAR_MONTH)
    count = len(partitions.list_partitions())
    names = [index.name for index in AuditLog._meta.indexes]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT parent.relname, count(*) FROM pg_inherits i "
            "JOIN pg_class parent ON parent.oid = i.inhparent "
            "WHERE parent.relname = ANY(%s) GROUP BY parent.relname",
            [names],
        )
        per_index = dict(cursor.fetchall())

    assert per_index == dict.fromkeys(names, count)


def test_a_redelivered_record_is_skipped_on_the_partitioned_table():
    record = record_at(dt.datetime.now(dt.UTC))

    insert([record])
    insert([record, record])

    assert AuditLog.objects.filter(pk=record["id"]).count() == 1
