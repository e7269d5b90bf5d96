"""Archives of closed months: written to a directory or to S3 (a real S3 API: moto's
server on 127.0.0.1), read back and verified before the month's partition is detached;
a changed or removed line is found; the chain still verifies after archiving."""

import datetime as dt
import gzip
import io
import json
import urllib.request

import pytest
from django.core.management import CommandError, call_command
from django.db import Error, connection, transaction
from django.test import override_settings

from audit import archive, partitions, sealing
from audit.canonical import canonical_text, mac
from audit.capture import build
from audit.choices import Action
from audit.models import AuditArchive, AuditLog
from audit.store import insert
from tools.harness import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

MONTH = dt.date(2020, 3, 1)


def record_at(when):
    record = build(action=Action.CREATE, resource_type="tests.archive", resource_id="r")
    record["timestamp"] = when.isoformat(timespec="microseconds")
    record["mac"] = mac(canonical_text(record))
    insert([record])
    return record


@pytest.fixture
def old_month():
    """Three sealed records in March 2020, one in April 2020 and one now."""
    records = [record_at(dt.datetime(2020, 3, day, 8, tzinfo=dt.UTC)) for day in (1, 15, 31)]
    record_at(dt.datetime(2020, 4, 1, tzinfo=dt.UTC))
    record_at(dt.datetime.now(dt.UTC))
    sealing.seal()
    return [r["id"] for r in records]


def _attached(month):
    return partitions.partition_name(month) in {p.name for p in partitions.list_partitions()}


def _lines(path):
    with gzip.open(path, "rb") as archived:
        return archived.read().splitlines(keepends=True)


def _rewrite(path, lines):
    with gzip.open(path, "wb") as archived:
        archived.write(b"".join(lines))


def _problems(check):
    return {p["problem"] for p in check.problems}


def test_archiving_to_a_directory_detaches_the_month_once_verified(old_month, tmp_path):
    entry = archive.archive_month(month=MONTH, to=str(tmp_path))

    lines = _lines(entry.location)
    assert entry.detached and not entry.dropped and entry.records == 3
    assert len(lines) == 5  # header, three records, trailer
    assert not _attached(MONTH)
    with connection.cursor() as cursor:  # detached, not dropped
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [partitions.partition_name(MONTH)])
        assert cursor.fetchone() == (True,)
    assert not AuditLog.objects.filter(pk__in=old_month).exists()
    assert AuditLog.objects.filter(resource_type="tests.archive").count() == 2
    check = archive.verify_archive(entry.location)
    assert check.ok and check.witnessed and check.records == 3, check.problems
    result = sealing.verify()
    assert result.ok, result.problems
    assert result.archived == 3


def test_the_detached_table_stays_append_only(old_month, tmp_path):
    archive.archive_month(month=MONTH, to=str(tmp_path))
    name = partitions.partition_name(MONTH)

    for statement in (f"UPDATE {name} SET action = 'login'", f"DELETE FROM {name}"):
        with pytest.raises(Error, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {name}")
        assert cursor.fetchone() == (3,)


def test_drop_removes_the_detached_table_only_with_a_verified_archive(old_month, tmp_path):
    entry = archive.archive_month(month=MONTH, to=str(tmp_path), drop=True)

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [partitions.partition_name(MONTH)])
        assert cursor.fetchone() == (None,)
    assert entry.dropped
    assert archive.verify_archive(entry.location).ok
    assert sealing.verify().ok


def test_a_removal_from_an_online_month_is_still_reported(old_month, tmp_path):
    archive.archive_month(month=MONTH, to=str(tmp_path))
    online = AuditLog.objects.get(timestamp__month=4, resource_type="tests.archive")
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM audit_auditlog WHERE id = %s", [online.pk])
        cursor.execute("SET session_replication_role = origin")

    result = sealing.verify()

    assert not result.ok
    assert [(p["problem"], p["row_id"]) for p in result.problems] == [("removed", str(online.pk))]
    assert result.archived == 3


def test_a_changed_line_is_found(old_month, tmp_path):
    entry = archive.archive_month(month=MONTH, to=str(tmp_path))
    lines = _lines(entry.location)
    record = json.loads(lines[2])
    record["text"] = record["text"].replace('"resource_id":"r"', '"resource_id":"x"')
    lines[2] = json.dumps(record).encode() + b"\n"
    _rewrite(entry.location, lines)

    check = archive.verify_archive(entry.location)

    assert not check.ok
    assert {"altered", "chain_broken", "trailer_invalid", "not_witnessed"} <= _problems(check)
    with pytest.raises(CommandError, match="audit archive broken"):
        call_command("verify_audit", "--archive", entry.location, stdout=io.StringIO())


def test_a_removed_line_is_found(old_month, tmp_path):
    entry = archive.archive_month(month=MONTH, to=str(tmp_path))
    lines = _lines(entry.location)
    _rewrite(entry.location, lines[:2] + lines[3:])

    check = archive.verify_archive(entry.location)

    assert not check.ok
    assert {"trailer_invalid", "removed", "not_witnessed"} <= _problems(check)
    removed = json.loads(lines[2])["seq"]
    assert {"problem": "removed", "seq": removed} in [
        {"problem": p["problem"], "seq": p["seq"]} for p in check.problems
    ]


def test_lines_after_the_trailer_are_found(old_month, tmp_path):
    entry = archive.archive_month(month=MONTH, to=str(tmp_path))
    lines = _lines(entry.location)
    _rewrite(entry.location, [*lines, lines[2]])

    check = archive.verify_archive(entry.location)

    assert {"trailing_data", "not_witnessed"} <= _problems(check)


def test_a_cut_short_archive_is_found(old_month, tmp_path):
    entry = archive.archive_month(month=MONTH, to=str(tmp_path))
    _rewrite(entry.location, _lines(entry.location)[:-1])

    check = archive.verify_archive(entry.location)

    assert "trailer_missing" in _problems(check)


def test_nothing_is_detached_when_the_archive_does_not_read_back(old_month, tmp_path, monkeypatch):
    real_fetch = archive.fetch

    def corrupted(location, into):
        # The storage hands back something else than was written.
        real_fetch(location, into)
        data = bytearray(into.read())
        data[len(data) // 2] ^= 0xFF
        into.seek(0)
        into.truncate()
        into.write(bytes(data))
        into.seek(0)

    monkeypatch.setattr(archive, "fetch", corrupted)

    with pytest.raises(archive.ArchiveRefused, match="did not verify"):
        archive.archive_month(month=MONTH, to=str(tmp_path))

    assert AuditLog.objects.filter(pk__in=old_month).count() == 3
    assert not AuditArchive.objects.exists()


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("this", "not closed"),
        ("last", "stays online"),
        ("2019-05", "not sealed"),
        ("2018-01", "no records"),
        ("2020-13", "not a month"),
    ],
)
def test_a_month_that_may_not_be_archived_is_refused(old_month, tmp_path, month, message):
    now = dt.datetime.now(dt.UTC).date().replace(day=1)
    named = {
        "this": f"{now:%Y-%m}",
        "last": f"{now - dt.timedelta(days=1):%Y-%m}",
    }.get(month, month)
    record_at(dt.datetime(2019, 5, 3, tzinfo=dt.UTC))  # not sealed

    with pytest.raises(CommandError, match=message):
        call_command("archive_audit", "--month", named, "--to", str(tmp_path))

    assert not AuditArchive.objects.exists()
    assert list(tmp_path.iterdir()) == []


def test_the_online_window_follows_the_setting(old_month, tmp_path):
    with (
        override_settings(AUDIT_ONLINE_MONTHS=12 * 50),
        pytest.raises(archive.ArchiveRefused, match="stays online"),
    ):
        archive.archive_month(month=MONTH, to=str(tmp_path))


def test_older_than_online_archives_every_old_month(old_month, tmp_path):
    out = io.StringIO()

    call_command("archive_audit", "--older-than-online", "--to", str(tmp_path), stdout=out)

    assert [entry.month for entry in AuditArchive.objects.all()] == [MONTH, dt.date(2020, 4, 1)]
    assert "2020-03: 3 record(s)" in out.getvalue()
    assert sealing.verify().ok


# --- S3 -------------------------------------------------------------------------------


@pytest.fixture
def s3(monkeypatch):
    """An S3 API on 127.0.0.1 (moto's server), with a bucket; stopped afterwards."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        with override_settings(AUDIT_ARCHIVE_S3_ENDPOINT_URL=endpoint):
            client = archive._s3_client()
            client.create_bucket(Bucket="audit-archive")
            yield client
    finally:
        # moto keeps its buckets in the process, across servers: start the next test empty.
        reset = f"{endpoint}/moto-api/reset"  # http on 127.0.0.1, made above
        urllib.request.urlopen(reset, data=b"", timeout=5).close()  # noqa: S310
        server.stop()


def test_archiving_to_s3_reads_back_and_verifies(old_month, s3):
    out = io.StringIO()

    call_command(
        "archive_audit", "--month", "2020-03", "--to", "s3://audit-archive/trail", stdout=out
    )

    entry = AuditArchive.objects.get()
    assert entry.location.startswith("s3://audit-archive/trail/audit-2020-03-")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="audit-archive")["Contents"]]
    assert keys == [entry.location.removeprefix("s3://audit-archive/")]
    assert entry.detached and not _attached(MONTH)
    call_command("verify_audit", "--archive", entry.location, stdout=out)
    assert json.loads(out.getvalue()[out.getvalue().index("{") :])["ok"] is True
    assert sealing.verify().ok


def test_a_tampered_s3_archive_is_found(old_month, s3):
    entry = archive.archive_month(month=MONTH, to="s3://audit-archive/trail")
    bucket, key = archive._s3_parts(entry.location)
    body = gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    lines = body.splitlines(keepends=True)
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(b"".join(lines[:2] + lines[3:])))

    check = archive.verify_archive(entry.location)

    assert not check.ok
    assert "not_witnessed" in _problems(check)


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("s3:///nothing", "names no bucket"),
        ("s3://audit-archive/trail/missing.jsonl.gz", "S3 refused"),
        ("s3://no-such-bucket/a.jsonl.gz", "S3 refused"),
    ],
)
def test_an_unreadable_s3_location_is_a_clear_refusal(s3, location, message):
    with pytest.raises(CommandError, match=message):
        call_command("verify_audit", "--archive", location, stdout=io.StringIO())


def test_an_s3_archive_is_never_overwritten(old_month, s3, monkeypatch):
    entry = archive.archive_month(month=MONTH, to="s3://audit-archive/trail", detach=False)
    monkeypatch.setattr(archive.timezone, "now", lambda: entry.created_at)

    with pytest.raises(archive.ArchiveRefused, match="S3 refused"):
        archive.archive_month(month=MONTH, to="s3://audit-archive/trail", detach=False)

    assert archive.verify_archive(entry.location).ok


def test_a_location_that_is_not_a_directory_is_refused(old_month, tmp_path):
    with pytest.raises(CommandError, match="is not a directory"):
        call_command("archive_audit", "--month", "2020-03", "--to", str(tmp_path / "missing"))

    assert AuditLog.objects.filter(pk__in=old_month).count() == 3
    assert not AuditArchive.objects.exists()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditarchive SET sha256 = sha256",
        "DELETE FROM audit_auditarchive",
        "TRUNCATE audit_auditarchive",
    ],
)
def test_the_manifest_is_append_only(old_month, tmp_path, statement):
    entry = archive.archive_month(month=MONTH, to=str(tmp_path))

    with pytest.raises(Error, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement)
    with pytest.raises(PermissionError):
        entry.save()

    assert AuditArchive.objects.get() == entry
