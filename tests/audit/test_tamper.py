"""Tamper evidence: the seal chain and the records' MACs name the row that a database
superuser altered, removed or inserted with the audit triggers switched off."""

import hashlib
import io
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from audit import chain, sealing
from audit.capture import record_event
from audit.choices import Action
from audit.models import AuditLog, AuditSeal, SealState
from tests.audit.helpers import behind_the_applications_back as _behind_the_applications_back

SITES = "/api/sites/"
VERIFY = "/api/audit-logs/verify/"
NEW_SITE = {"code": "TMP-01", "name": "Tamper 1", "gln": "4012345000009", "country": "DE"}


class Boom(Exception):
    pass


def _forge_copy_of(row_id):
    """A new row copied from ``row_id``, with a fresh id and a made-up MAC."""
    forged = uuid.uuid4()
    columns = [f.column for f in AuditLog._meta.concrete_fields if f.column not in ("id", "mac")]
    names = ", ".join(columns)
    _behind_the_applications_back(
        f"INSERT INTO audit_auditlog (id, mac, {names}) "
        f"SELECT %s, %s, {names} FROM audit_auditlog WHERE id = %s",
        [forged, "f" * 64, row_id],
    )
    return forged


@pytest.fixture
def sealed_trail(admin):
    """Records written through the API, all sealed; returns the site update's record."""
    site_id = admin.post(SITES, NEW_SITE).json()["id"]
    admin.patch(f"{SITES}{site_id}/", {"name": "Tamper 1b"}, HTTP_X_CHANGE_REASON="typo")
    admin.post(SITES, {**NEW_SITE, "code": "TMP-02", "gln": "4012345000016"})
    sealing.seal()
    assert sealing.verify().ok
    assert sealing.backlog()["unsealed"] == 0
    return AuditLog.objects.get(action=Action.UPDATE, resource_type="sites.site")


def _assert_named_everywhere(admin, problem, row_id):
    """By a full run: the trail was verified (a checkpoint written) before the change."""
    result = sealing.verify(full=True)
    assert not result.ok
    assert (result.problem, result.row_id) == (problem, str(row_id))

    with pytest.raises(CommandError) as failed:
        call_command("verify_audit", "--full", stdout=io.StringIO())
    assert str(row_id) in str(failed.value)
    assert problem in str(failed.value)

    response = admin.get(VERIFY, {"full": "true"})
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False
    assert (body["problem"], body["row_id"]) == (problem, str(row_id))
    assert SealState.objects.get().last_verification_ok is False


# --- PostgreSQL: a superuser who disabled the triggers --------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_altered_sealed_row_is_named(admin, sealed_trail):
    _behind_the_applications_back(
        "UPDATE audit_auditlog SET reason = %s WHERE id = %s", ["approved", sealed_trail.pk]
    )

    assert AuditLog.objects.get(pk=sealed_trail.pk).reason == "approved"
    _assert_named_everywhere(admin, "altered", sealed_trail.pk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_removed_sealed_row_is_named(admin, sealed_trail):
    _behind_the_applications_back("DELETE FROM audit_auditlog WHERE id = %s", [sealed_trail.pk])

    assert not AuditLog.objects.filter(pk=sealed_trail.pk).exists()
    _assert_named_everywhere(admin, "removed", sealed_trail.pk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_inserted_forged_row_is_named(admin, sealed_trail):
    forged = _forge_copy_of(sealed_trail.pk)

    assert AuditLog.objects.filter(pk=forged).exists()
    _assert_named_everywhere(admin, "inserted", forged)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_seal_refuses_a_forged_row_and_seals_the_rest(admin, sealed_trail):
    forged = _forge_copy_of(sealed_trail.pk)
    with transaction.atomic():
        genuine = record_event(action=Action.DELETE, resource_type="sites.site")

    sealing.seal()

    assert AuditSeal.objects.filter(log_id=genuine["id"]).exists()
    assert not AuditSeal.objects.filter(log_id=forged).exists()
    assert chain.unsealed().filter(pk=forged).exists()
    assert sealing.backlog()["unsealed"] == 1
    _assert_named_everywhere(admin, "inserted", forged)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_row_and_its_seal_altered_together_break_the_chain(admin, sealed_trail):
    link = AuditSeal.objects.get(log_id=sealed_trail.pk)
    _behind_the_applications_back(
        "UPDATE audit_auditlog SET reason = %s WHERE id = %s", ["approved", sealed_trail.pk]
    )
    _behind_the_applications_back(
        "UPDATE audit_auditseal SET text = replace(text, '\"typo\"', '\"approved\"') "
        "WHERE seq = %s",
        [link.seq],
    )

    result = sealing.verify(full=True)

    assert not result.ok
    assert (result.problem, result.row_id, result.seq) == (
        "chain_broken",
        str(sealed_trail.pk),
        link.seq,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_row_removed_with_its_seal_and_the_chain_relinked_is_detected(sealed_trail):
    victim = AuditSeal.objects.get(log_id=sealed_trail.pk)
    _behind_the_applications_back("DELETE FROM audit_auditlog WHERE id = %s", [sealed_trail.pk])
    _behind_the_applications_back("DELETE FROM audit_auditseal WHERE seq = %s", [victim.seq])
    # The attacker has no key, only the table: the sealed texts and the documented
    # link formula sha256(prev_hash + "\n" + text). Relink and renumber what follows.
    prev = victim.prev_hash
    for link in AuditSeal.objects.filter(seq__gt=victim.seq).order_by("seq"):
        relinked = hashlib.sha256(f"{prev}\n{link.text}".encode()).hexdigest()
        _behind_the_applications_back(
            "UPDATE audit_auditseal SET seq = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [link.seq - 1, prev, relinked, link.seq],
        )
        prev = relinked

    result = sealing.verify(full=True)

    assert not result.ok, "a sealed record vanished and verify() did not notice"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sealing_run_that_rolled_back_is_not_reported_as_tampering(sealed_trail):
    with transaction.atomic():
        record_event(action=Action.DELETE, resource_type="sites.site")
    with pytest.raises(Boom), transaction.atomic():
        sealing.seal()  # e.g. the sealer's connection dropped before its commit
        raise Boom

    sealing.seal()
    result = sealing.verify()

    assert result.ok, result.as_dict()


# --- any database: the ordinary path -------------------------------------------------


@pytest.mark.django_db
def test_seal_then_verify_ok_and_backlog_counts_what_waits(admin):
    admin.post(SITES, NEW_SITE)
    waiting = sealing.backlog()
    assert waiting["unsealed"] == AuditLog.objects.count() > 0
    assert waiting["oldest_unsealed_age_seconds"] >= 0

    sealed = sealing.seal()

    assert sealed == waiting["unsealed"]
    assert sealing.backlog() == {"unsealed": 0, "oldest_unsealed_age_seconds": None}
    result = sealing.verify()
    assert result.ok, result.as_dict()
    assert result.sealed == result.records == AuditLog.objects.count()
    assert result.unsealed == 0
    assert SealState.objects.get().last_verification_ok is True


@pytest.mark.django_db
def test_new_records_wait_for_the_next_seal_and_extend_the_chain(admin):
    sealing.seal()
    tip = AuditSeal.objects.order_by("-seq").first()
    with transaction.atomic():
        record = record_event(action=Action.UPDATE, resource_type="sites.site")

    assert sealing.backlog()["unsealed"] == 1
    assert sealing.verify().ok  # unsealed is not broken
    assert sealing.seal() == 1

    link = AuditSeal.objects.get(log_id=record["id"])
    assert link.prev_hash == tip.hash
    assert link.hash == chain.chain_hash(tip.hash, link.text)
    assert sealing.backlog()["unsealed"] == 0
    assert sealing.verify().ok


@pytest.mark.django_db
def test_verify_endpoint_and_command_report_ok(admin):
    sealing.seal()

    response = admin.get(VERIFY)
    call_command("verify_audit", stdout=io.StringIO())

    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response.json()["problem"] is None


@pytest.mark.postgres
@pytest.mark.django_db
def test_verify_reports_every_problem_not_only_the_first(admin, sealed_trail):
    """The reported case: with one problem in place, a sealed row altered afterwards by a
    superuser was not reported at all."""
    forged = _forge_copy_of(sealed_trail.pk)
    _behind_the_applications_back(
        "UPDATE audit_auditlog SET actor_username = 'mallory' WHERE id = %s", [sealed_trail.pk]
    )

    result = admin.get(VERIFY, {"full": "true"}).json()

    assert result["ok"] is False
    assert result["problem_count"] == len(result["problems"]) == 2
    found = {(p["problem"], p["row_id"]) for p in result["problems"]}
    assert found == {("inserted", str(forged)), ("altered", str(sealed_trail.pk))}
    assert (result["problem"], result["row_id"]) in found  # the first, as before


@pytest.mark.django_db
def test_verify_names_at_most_a_hundred_problems_and_counts_them():
    result = sealing.Verification()

    for n in range(sealing.MAX_PROBLEMS + 5):
        result.fail("inserted", row_id=n, detail="x")

    assert len(result.problems) == sealing.MAX_PROBLEMS
    assert result.problem_count == sealing.MAX_PROBLEMS + 5
    assert (result.problem, result.row_id) == ("inserted", "0")
