"""Verification that costs what is new: signed checkpoints let a routine run read only
what came after the last verified one; a full run reads everything from the first seal."""

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from audit import sealing
from audit.capture import build
from audit.choices import Action
from audit.models import AuditCheckpoint, AuditLog, AuditSeal
from audit.store import insert
from tests.audit.helpers import behind_the_applications_back as _as_superuser

VERIFY = "/api/audit-logs/verify/"


def _record(n):
    records = [build(action=Action.UPDATE, resource_type="sites.site") for _ in range(n)]
    with transaction.atomic():
        insert(records)
    return [r["id"] for r in records]


@pytest.fixture
def verified(db):
    """40 records sealed and verified: a checkpoint at the tip."""
    _record(40)
    sealing.seal()
    result = sealing.verify()
    assert result.ok, result.as_dict()
    assert result.mode == "full"  # no checkpoint yet
    return AuditCheckpoint.objects.get()


@pytest.mark.django_db
def test_incremental_run_reads_only_what_came_after_the_checkpoint(verified):
    total = AuditLog.objects.count()
    _record(5)
    sealing.seal()
    _record(2)  # waiting to be sealed

    with CaptureQueriesContext(connection) as queries:
        result = sealing.verify()

    assert result.ok, result.as_dict()
    assert (result.mode, result.checkpoint_seq) == ("incremental", verified.seq)
    assert (result.checked_seals, result.checked_records) == (5, 7)
    assert result.sealed == verified.seq + 5
    assert (result.records, result.unsealed) == (total + 7, 2)
    assert len(queries) < 20
    latest = AuditCheckpoint.objects.order_by("-id").first()
    assert latest.seq == verified.seq + 5
    assert latest.signature == sealing.checkpoint_signature(latest)

    again = sealing.verify()
    assert (again.checkpoint_seq, again.checked_seals, again.checked_records) == (
        latest.seq,
        0,
        2,
    )


@pytest.mark.django_db
def test_full_run_reads_everything_from_the_first_seal(verified):
    result = sealing.verify(full=True)

    assert result.ok
    assert (result.mode, result.checkpoint_seq) == ("full", None)
    assert result.checked_seals == AuditSeal.objects.count() == result.sealed
    assert result.checked_records == AuditLog.objects.count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_old_sealed_record_altered_is_seen_by_the_full_run_only(verified):
    """What an incremental run cannot see, and why auditors run the full one."""
    old = AuditSeal.objects.order_by("seq").last().log_id
    _as_superuser("UPDATE audit_auditlog SET reason = 'approved' WHERE id = %s", [old])

    assert sealing.verify().ok
    full = sealing.verify(full=True)
    assert (full.problem, full.row_id) == ("altered", str(old))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_forged_checkpoint_is_refused_and_the_run_is_full(verified):
    """A checkpoint at the tip, written without the key, to skip an altered record."""
    victim = AuditSeal.objects.order_by("seq").last().log_id
    _as_superuser("UPDATE audit_auditlog SET actor_username = 'mallory' WHERE id = %s", [victim])
    _record(1)
    sealing.seal()
    tip = AuditSeal.objects.order_by("-seq").first()
    _as_superuser(
        "INSERT INTO audit_auditcheckpoint (seq, hash, records, window_start, verified_at, "
        "signature) VALUES (%s, %s, %s, now(), now(), %s)",
        [tip.seq, tip.hash, AuditSeal.objects.count(), "0" * 64],
    )

    result = sealing.verify()

    assert result.mode == "full"
    kinds = [(p["problem"], p["row_id"]) for p in result.problems]
    assert kinds == [("checkpoint_invalid", None), ("altered", str(victim))]
    assert AuditCheckpoint.objects.order_by("-id").first().signature == "0" * 64  # none written


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_checkpoint_moved_forward_behind_the_applications_back_is_refused(verified):
    _record(3)
    sealing.seal()
    tip = AuditSeal.objects.order_by("-seq").first()
    _as_superuser(
        "UPDATE audit_auditcheckpoint SET seq = %s, hash = %s WHERE id = %s",
        [tip.seq, tip.hash, verified.pk],
    )

    result = sealing.verify()

    assert (result.problem, result.seq, result.mode) == ("checkpoint_invalid", tip.seq, "full")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_checkpoints_are_append_only(verified):
    for sql in (
        "UPDATE audit_auditcheckpoint SET seq = seq + 1",
        "DELETE FROM audit_auditcheckpoint",
        "TRUNCATE audit_auditcheckpoint",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    with pytest.raises(PermissionError):
        AuditCheckpoint.objects.all().delete()
    assert AuditCheckpoint.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_full_run_through_the_api_and_the_command(verified, staff_user, auth_client):
    admin = auth_client(staff_user)
    old = AuditSeal.objects.order_by("seq").last().log_id
    _as_superuser("UPDATE audit_auditlog SET reason = 'approved' WHERE id = %s", [old])

    routine = admin.get(VERIFY).json()
    full = admin.get(VERIFY, {"full": "true"}).json()
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    with pytest.raises(CommandError, match="altered"):
        call_command("verify_audit", "--full", stdout=io.StringIO())

    assert (routine["ok"], routine["mode"]) == (True, "incremental")
    assert routine["checkpoint_seq"] is not None
    assert (full["ok"], full["mode"], full["problem"]) == (False, "full", "altered")
    assert full["checked_records"] == AuditLog.objects.count()
    assert json.loads(out.getvalue())["mode"] == "incremental"


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["maybe", "2", "yes please"])
def test_a_bad_full_value_is_a_400_and_verifies_nothing(value, staff_user, auth_client):
    admin = auth_client(staff_user)

    response = admin.get(VERIFY, {"full": value})

    assert response.status_code == 400
    assert "full" in response.json()
    assert not AuditCheckpoint.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 8},
        {"hash": "b" * 64},
        {"records": 6},
        {"window_start": dt.datetime(2026, 1, 1, 0, 0, 1, tzinfo=dt.UTC)},
        {"verified_at": dt.datetime(2026, 1, 1, 0, 3, tzinfo=dt.UTC)},
    ],
)
def test_checkpoint_signature_covers_every_field(change):
    fields = {
        "seq": 7,
        "hash": "a" * 64,
        "records": 7,
        "window_start": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "verified_at": dt.datetime(2026, 1, 1, 0, 2, tzinfo=dt.UTC),
    }

    signed = sealing.checkpoint_signature(AuditCheckpoint(**fields))

    assert sealing.checkpoint_signature(AuditCheckpoint(**{**fields, **change})) != signed
