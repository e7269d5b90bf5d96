"""The batch lifecycle through the API: planned -> in_production -> quarantine ->
released | rejected, each step by a user of the role that may take it, with every
refusal, its audit records, electronic signatures and the QA e-mails."""

import re

import pytest
from django.core import mail

from accounts.models import ElectronicSignature
from accounts.signatures import content_hash
from audit.choices import Action
from audit.models import AuditLog
from batches import events as batch_events
from batches.choices import BatchStatus
from batches.models import Batch
from batches.services import SIGNATURE_EXCLUDE
from core import reasons
from inspections import events as inspection_events
from inspections.choices import InspectionStatus
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory
from tests.conftest import DEFAULT_PASSWORD, assign, member
from tests.inspections.factories import InspectionFactory
from tests.sites.factories import SiteFactory

# Changes of GMP records need a reason (tests/audit/test_reasons.py tests that rule).
REASON = "Corrected after review"

BATCHES = "/api/batches/"
INSPECTIONS = "/api/inspections/"
WRONG_PASSWORD = "not-my-password-1"
ACTIONS = ("start", "complete", "release", "reject")
ALLOWED_FROM = {
    "start": {BatchStatus.PLANNED},
    "complete": {BatchStatus.IN_PRODUCTION},
    "release": {BatchStatus.QUARANTINE},
    "reject": {BatchStatus.IN_PRODUCTION, BatchStatus.QUARANTINE},
}
RESULTS = [
    {"parameter": "assay", "value": 99.1, "unit": "%", "min": 95, "max": 105},
    {"parameter": "water", "value": 0.4, "unit": "%", "min": None, "max": 0.5},
]


def _url(batch, action=""):
    return f"{BATCHES}{batch.pk}/" + (f"{action}/" if action else "")


def _body(action, **overrides):
    """A valid body for each lifecycle action."""
    bodies = {
        "start": {},
        "complete": {"produced_quantity": 9_800},
        "release": {"password": DEFAULT_PASSWORD, "meaning": "approval"},
        "reject": {"password": DEFAULT_PASSWORD, "reason": "Particles found in vials."},
    }
    return bodies[action] | overrides


def _snapshot(batch):
    fresh = Batch.objects.get(pk=batch.pk)
    return {f.attname: getattr(fresh, f.attname) for f in Batch._meta.concrete_fields}


def _batch_signatures():
    return ElectronicSignature.objects.filter(record_type="batches.batch")


def _records(action, **filters):
    return list(AuditLog.objects.filter(action=action, **filters).order_by("timestamp"))


def _quarantined(site, completed_by, *, inspection="passed", inspector=None):
    """A batch in quarantine, completed by ``completed_by``, with one inspection."""
    batch = BatchFactory(
        site=site,
        status=BatchStatus.QUARANTINE,
        produced_quantity=9_500,
        completed_by=completed_by,
    )
    if inspection:
        InspectionFactory(
            batch=batch,
            performed_by=inspector or UserFactory(),
            **({inspection: True} if inspection != "pending" else {}),
        )
    return batch


# --- the whole lifecycle ----------------------------------------------------------------


@pytest.mark.django_db
def test_whole_lifecycle_through_the_api(
    operator, qa, operator_user, qa_user, product, site, django_capture_on_commit_callbacks
):
    # The operator plans, starts and completes the batch.
    planned = operator.post(
        BATCHES,
        {
            "product": str(product.pk),
            "site": str(site.pk),
            "batch_number": "L-0001",
            "planned_quantity": 10_000,
            "manufacturing_date": "2025-06-01",
            "expiry_date": "2027-06-01",
        },
        format="json",
    )
    assert planned.status_code == 201, planned.content
    batch = Batch.objects.get(pk=planned.json()["id"])

    started = operator.post(_url(batch, "start"), {}, format="json")
    assert started.status_code == 200, started.content
    assert started.json()["status"] == "in_production"
    assert started.json()["started_by"] == str(operator_user.pk)
    assert started.json()["started_at"] is not None

    completed = operator.post(_url(batch, "complete"), {"produced_quantity": 9_750}, format="json")
    assert completed.status_code == 200, completed.content
    assert completed.json()["status"] == "quarantine"
    assert completed.json()["produced_quantity"] == 9_750
    assert completed.json()["completed_by"] == str(operator_user.pk)

    # QA records an inspection and signs its outcome.
    recorded = qa.post(
        INSPECTIONS,
        {"batch": str(batch.pk), "kind": "assay", "results": RESULTS},
        format="json",
    )
    assert recorded.status_code == 201, recorded.content
    inspection_id = recorded.json()["id"]
    assert [r["in_spec"] for r in recorded.json()["results"]] == [True, True]
    passed = qa.post(
        f"{INSPECTIONS}{inspection_id}/complete/",
        {"outcome": "passed", "password": DEFAULT_PASSWORD, "meaning": "approval"},
        format="json",
    )
    assert passed.status_code == 200, passed.content
    assert passed.json()["status"] == "passed"
    assert passed.json()["signature"]["printed_name"] == qa_user.printed_name

    # QA releases it with an electronic signature; the site's QA users are told.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        released = qa.post(
            _url(batch, "release"),
            {"password": DEFAULT_PASSWORD, "meaning": "approval", "reason": "Meets spec."},
            format="json",
        )
    assert released.status_code == 200, released.content
    body = released.json()
    assert body["status"] == "released"
    assert body["released_by"] == str(qa_user.pk)
    signature = body["release_signature"]
    assert signature["signer"] == str(qa_user.pk)
    assert signature["printed_name"] == qa_user.printed_name == "Quinn " + qa_user.last_name
    assert signature["meaning"] == "approval"
    assert signature["reason"] == "Meets spec."
    assert (signature["record_type"], signature["record_id"]) == ("batches.batch", str(batch.pk))
    assert re.fullmatch(r"[0-9a-f]{64}", signature["content_hash"])
    assert signature["signed_at"].endswith("Z")
    assert body["released_at"] == signature["signed_at"]
    assert "password" not in str(body)
    [message] = mail.outbox
    assert message.to == [qa_user.email]
    assert "L-0001" in message.subject

    # Every transition is in the audit trail, by its actor, at the batch's site.
    for action, actor in [
        (batch_events.BATCH_START, operator_user),
        (batch_events.BATCH_COMPLETE, operator_user),
        (batch_events.BATCH_RELEASE, qa_user),
        (inspection_events.INSPECTION_COMPLETE, qa_user),
    ]:
        [record] = _records(action)
        assert record.actor_id == actor.pk, action
        assert record.site_id == site.pk, action
    [start] = _records(batch_events.BATCH_START, resource_id=str(batch.pk))
    assert start.new_values["status"] == "in_production"
    assert start.new_values["started_by_id"] == str(operator_user.pk)
    [complete] = _records(batch_events.BATCH_COMPLETE, resource_id=str(batch.pk))
    assert complete.new_values["produced_quantity"] == 9_750
    [release] = _records(batch_events.BATCH_RELEASE, resource_id=str(batch.pk))
    assert release.resource_type == "batches.batch"
    assert release.new_values["status"] == "released"
    assert release.new_values["released_by_id"] == str(qa_user.pk)
    signatures = _records(Action.ESIGNATURE, resource_type="accounts.electronicsignature")
    assert {r.resource_id for r in signatures} == {
        signature["id"],
        passed.json()["signature"]["id"],
    }
    assert all(r.actor_id == qa_user.pk for r in signatures)

    # The signature shows on the batch's detail.
    detail = qa.get(_url(batch)).json()
    assert detail["release_signature"] == signature
    assert detail["rejection_signature"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("from_status", [BatchStatus.IN_PRODUCTION, BatchStatus.QUARANTINE])
def test_reject_with_reason_and_signature(
    qa, qa_user, site, from_status, django_capture_on_commit_callbacks
):
    batch = BatchFactory(site=site, status=from_status)

    with django_capture_on_commit_callbacks(execute=True):
        response = qa.post(_url(batch, "reject"), _body("reject"), format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "rejected"
    assert body["rejected_by"] == str(qa_user.pk)
    assert body["release_signature"] is None
    signature = body["rejection_signature"]
    assert signature["meaning"] == "rejection"
    assert signature["reason"] == "Particles found in vials."
    assert signature["record_id"] == str(batch.pk)
    [record] = _records(batch_events.BATCH_REJECT, resource_id=str(batch.pk))
    assert record.actor_id == qa_user.pk
    assert record.new_values["status"] == "rejected"
    assert _records(Action.ESIGNATURE, resource_id=signature["id"])
    [message] = mail.outbox
    assert message.to == [qa_user.email]
    assert batch.batch_number in message.subject
    assert "Particles found in vials." in message.body


@pytest.mark.django_db
@pytest.mark.parametrize("meaning", ["review", "approval", "responsibility"])
def test_reject_signed_with_a_meaning_that_does_not_fit_is_refused(qa, site, meaning):
    batch = BatchFactory(site=site, status=BatchStatus.QUARANTINE)

    response = qa.post(_url(batch, "reject"), _body("reject", meaning=meaning), format="json")

    assert response.status_code == 400
    assert "meaning" in response.json()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUARANTINE and batch.rejection_signature_id is None


@pytest.mark.django_db
@pytest.mark.parametrize("meaning", ["rejection", "review"])
def test_release_signed_as_a_rejection_or_review_is_refused(qa, site, meaning):
    """A release means approval or responsibility; "rejection" on a release is a 400 and
    costs no sign-in attempt."""
    batch = BatchFactory(site=site, status=BatchStatus.QUARANTINE)

    response = qa.post(_url(batch, "release"), _body("release", meaning=meaning), format="json")

    assert response.status_code == 400
    assert "meaning" in response.json()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUARANTINE and batch.release_signature_id is None


@pytest.mark.django_db
def test_release_signed_as_responsibility(qa, operator_user, site):
    batch = _quarantined(site, operator_user, inspection="passed")

    response = qa.post(
        _url(batch, "release"), _body("release", meaning="responsibility"), format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["release_signature"]["meaning"] == "responsibility"


# --- state conflicts ----------------------------------------------------------------------

WRONG_STATE = [
    pytest.param(action, status, id=f"{action}-from-{status}")
    for action in ACTIONS
    for status in BatchStatus
    if status not in ALLOWED_FROM[action]
]


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "status"), WRONG_STATE)
def test_action_in_the_wrong_state_is_409_with_the_status(
    staff_user, auth_client, site, action, status
):
    batch = BatchFactory(site=site, status=status, completed_by=UserFactory())
    InspectionFactory(batch=batch, passed=True)
    before = _snapshot(batch)

    response = auth_client(staff_user).post(_url(batch, action), _body(action), format="json")

    assert response.status_code == 409, response.content
    body = response.json()
    assert set(body) == {"detail", "code", "status"}
    assert body["status"] == status
    assert body["code"] == "invalid_status"
    assert status in body["detail"]
    assert _snapshot(batch) == before
    assert not _batch_signatures().exists()
    assert not _records(Action.LOGIN_FAILED)


@pytest.mark.django_db
def test_wrong_state_is_answered_before_the_password_is_checked(qa, qa_user, site):
    batch = BatchFactory(site=site, status=BatchStatus.RELEASED)

    response = qa.post(
        _url(batch, "release"), _body("release", password=WRONG_PASSWORD), format="json"
    )

    assert response.status_code == 409
    assert not _records(Action.LOGIN_FAILED, actor_username=qa_user.username)


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["start", "complete", "reject"])
def test_second_identical_action_is_409(staff_user, auth_client, site, action):
    status = {"start": "planned", "complete": "in_production", "reject": "quarantine"}[action]
    batch = BatchFactory(site=site, status=status)
    client = auth_client(staff_user)

    first = client.post(_url(batch, action), _body(action), format="json")
    second = client.post(_url(batch, action), _body(action), format="json")

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["status"] == first.json()["status"]


# --- permissions --------------------------------------------------------------------------

MISSING_PERMISSION = [
    ("qa", "start"),
    ("qa", "complete"),
    ("operator", "release"),
    ("operator", "reject"),
    ("auditor", "start"),
    ("auditor", "complete"),
    ("auditor", "release"),
    ("auditor", "reject"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "action"), MISSING_PERMISSION)
def test_action_without_its_permission_is_403(auth_client, site, role, action):
    status = sorted(ALLOWED_FROM[action])[-1]
    batch = _quarantined(site, UserFactory()) if action == "release" else None
    batch = batch or BatchFactory(site=site, status=status)
    user = member(role, site, f"{role}.denied")
    before = _snapshot(batch)

    response = auth_client(user).post(_url(batch, action), _body(action), format="json")

    assert response.status_code == 403
    assert _snapshot(batch) == before
    [denied] = _records(Action.PERMISSION_DENIED, actor_id=user.pk)
    assert denied.new_values["codename"] == f"batch.{action}"


@pytest.mark.django_db
def test_release_permission_at_another_site_only_is_403(auth_client, site):
    batch = _quarantined(site, UserFactory())
    user = member("auditor", site, "viewer.here")  # sees the batch
    assign(user, "qa", site=SiteFactory())  # may release elsewhere
    before = _snapshot(batch)

    response = auth_client(user).post(_url(batch, "release"), _body("release"), format="json")

    assert response.status_code == 403
    assert _snapshot(batch) == before
    [denied] = _records(Action.PERMISSION_DENIED, actor_id=user.pk)
    assert denied.resource_id == str(batch.pk)
    assert denied.site_id == site.pk


@pytest.mark.django_db
@pytest.mark.parametrize("action", ACTIONS)
def test_batch_of_another_site_is_404(auth_client, site, action):
    other = SiteFactory()
    batch = _quarantined(other, UserFactory())
    if action in ("start", "complete"):
        batch.status = sorted(ALLOWED_FROM[action])[0]
        with reasons.given("test set-up"):
            batch.save()
    role = "operator" if action in ("start", "complete") else "qa"
    user = member(role, site, f"{role}.elsewhere")
    before = _snapshot(batch)

    response = auth_client(user).post(_url(batch, action), _body(action), format="json")

    assert response.status_code == 404
    assert _snapshot(batch) == before


# --- release rules ------------------------------------------------------------------------


@pytest.mark.django_db
def test_release_without_any_inspection_is_409(qa, operator_user, site):
    batch = _quarantined(site, operator_user, inspection=None)

    response = qa.post(_url(batch, "release"), _body("release"), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "inspection_missing"
    assert Batch.objects.get(pk=batch.pk).status == "quarantine"
    assert not _batch_signatures().exists()


@pytest.mark.django_db
@pytest.mark.parametrize("outcome", ["pending", "failed"])
def test_release_with_an_inspection_not_passed_is_409(qa, operator_user, site, outcome):
    batch = _quarantined(site, operator_user, inspection=outcome)

    response = qa.post(_url(batch, "release"), _body("release"), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "inspections_not_passed"
    assert outcome in response.json()["detail"]
    assert Batch.objects.get(pk=batch.pk).status == "quarantine"
    assert not _batch_signatures().exists()


@pytest.mark.django_db
def test_release_needs_every_current_inspection_passed(qa, operator_user, site):
    batch = _quarantined(site, operator_user, inspection="passed")
    failed = InspectionFactory(batch=batch, failed=True, kind="microbial")

    response = qa.post(_url(batch, "release"), _body("release"), format="json")

    assert response.status_code == 409
    assert str(failed.pk) in response.json()["detail"]


@pytest.mark.django_db
def test_failed_inspection_corrected_by_a_passed_one_allows_release(
    qa, qa_user, operator_user, site
):
    batch = _quarantined(site, operator_user, inspection="failed")
    failed = batch.inspections.get()
    blocked = qa.post(_url(batch, "release"), _body("release"), format="json")
    correction = qa.post(
        INSPECTIONS,
        {
            "batch": str(batch.pk),
            "kind": "assay",
            "results": RESULTS,
            "supersedes": str(failed.pk),
            "correction_reason": "Sample mislabelled; re-tested.",
        },
        format="json",
    )
    still_blocked = qa.post(_url(batch, "release"), _body("release"), format="json")
    completed = qa.post(
        f"{INSPECTIONS}{correction.json()['id']}/complete/",
        {"outcome": "passed", "password": DEFAULT_PASSWORD, "meaning": "approval"},
        format="json",
    )

    response = qa.post(_url(batch, "release"), _body("release"), format="json")

    assert blocked.status_code == 409
    assert correction.status_code == 201, correction.content
    assert still_blocked.status_code == 409  # the correction is still pending
    assert completed.status_code == 200, completed.content
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "released"
    failed.refresh_from_db()
    assert failed.status == InspectionStatus.FAILED  # kept as it was, only superseded


@pytest.mark.django_db
def test_person_who_completed_may_not_release(auth_client, site):
    both = member("operator", site, "sam.both")
    assign(both, "qa", site=site)
    client = auth_client(both)
    batch = BatchFactory(site=site, status=BatchStatus.IN_PRODUCTION)
    InspectionFactory(batch=batch, passed=True)
    assert client.post(_url(batch, "complete"), _body("complete"), format="json").status_code == 200

    response = client.post(_url(batch, "release"), _body("release"), format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "segregation_of_duties"
    assert Batch.objects.get(pk=batch.pk).status == "quarantine"
    assert not _records(batch_events.BATCH_RELEASE)
    assert not ElectronicSignature.objects.filter(record_id=str(batch.pk)).exists()


@pytest.mark.django_db
def test_wrong_password_is_400_audited_and_changes_nothing(qa, qa_user, operator_user, site):
    batch = _quarantined(site, operator_user)
    before = _snapshot(batch)

    response = qa.post(
        _url(batch, "release"), _body("release", password=WRONG_PASSWORD), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["password"]
    assert _snapshot(batch) == before
    assert not ElectronicSignature.objects.filter(record_id=str(batch.pk)).exists()
    assert not _records(batch_events.BATCH_RELEASE)
    [failed] = _records(Action.LOGIN_FAILED, actor_username=qa_user.username)
    assert WRONG_PASSWORD not in str(failed.new_values)


@pytest.mark.django_db
def test_wrong_reject_password_is_400_and_audited(qa, qa_user, site):
    batch = BatchFactory(site=site, status=BatchStatus.QUARANTINE)

    response = qa.post(
        _url(batch, "reject"), _body("reject", password=WRONG_PASSWORD), format="json"
    )

    assert response.status_code == 400
    assert "password" in response.json()
    assert Batch.objects.get(pk=batch.pk).status == "quarantine"
    assert len(_records(Action.LOGIN_FAILED, actor_username=qa_user.username)) == 1


@pytest.mark.django_db
def test_wrong_signature_passwords_count_toward_the_login_lockout(
    qa, qa_user, operator_user, site, api_client
):
    batch = _quarantined(site, operator_user)
    wrong = _body("release", password=WRONG_PASSWORD)

    responses = [qa.post(_url(batch, "release"), wrong, format="json") for _ in range(5)]
    right = qa.post(_url(batch, "release"), _body("release"), format="json")
    login = api_client.post(
        "/api/auth/token/",
        {"username": qa_user.username, "password": DEFAULT_PASSWORD},
        format="json",
    )

    # The fifth failure locks the account, as five failed sign-ins would; from then on
    # even the right password neither signs nor signs in.
    assert [r.status_code for r in responses] == [400, 400, 400, 400, 429]
    assert responses[4].json()["code"] == "locked_out"
    assert right.status_code == 429
    assert login.status_code == 429
    assert login.json()["code"] == "locked_out"
    assert len(_records(Action.LOGIN_FAILED, actor_username=qa_user.username)) >= 5
    assert _records(Action.LOCKOUT, actor_username=qa_user.username)
    assert Batch.objects.get(pk=batch.pk).status == "quarantine"
    assert not _batch_signatures().exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("release", {"meaning": "approval"}, "password"),
        ("release", {"password": DEFAULT_PASSWORD}, "meaning"),
        ("release", {"password": DEFAULT_PASSWORD, "meaning": "yes"}, "meaning"),
        ("release", _body("release", status="released"), "status"),
        ("reject", {"password": DEFAULT_PASSWORD}, "reason"),
        ("reject", _body("reject", reason=""), "reason"),
        ("reject", _body("reject", reason="   "), "reason"),
        ("reject", _body("reject", meaning="maybe"), "meaning"),
        ("reject", {"reason": "Broken seal"}, "password"),
        ("start", {"note": "go"}, "note"),
        ("complete", {}, "produced_quantity"),
        ("complete", {"produced_quantity": -1}, "produced_quantity"),
        ("complete", {"produced_quantity": "lots"}, "produced_quantity"),
    ],
)
def test_bad_action_body_is_400_and_changes_nothing(
    staff_user, auth_client, site, action, body, field
):
    status = sorted(ALLOWED_FROM[action])[-1]
    batch = _quarantined(site, UserFactory())
    batch.status = status
    with reasons.given("test set-up"):
        batch.save()
    before = _snapshot(batch)

    response = auth_client(staff_user).post(_url(batch, action), body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert _snapshot(batch) == before
    assert not _batch_signatures().exists()


# --- e-mails ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["release", "reject"])
def test_release_and_reject_email_the_sites_qa_users(
    auth_client, operator_user, site, action, django_capture_on_commit_callbacks
):
    signer = member("qa", site, "signer.qa")
    site_qa = member("qa", site, "site.qa")
    global_qa = member("qa", None, "global.qa")
    global_admin = member("admin", None, "global.admin")
    member("qa", SiteFactory(), "other.qa")
    member("auditor", site, "site.auditor")
    inactive = member("qa", site, "inactive.qa")
    inactive.is_active = False
    inactive.save()
    batch = _quarantined(site, operator_user)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client(signer).post(_url(batch, action), _body(action), format="json")

    assert response.status_code == 200, response.content
    [message] = mail.outbox
    assert sorted(message.to) == sorted(u.email for u in (signer, site_qa, global_qa, global_admin))
    assert batch.batch_number in message.subject
    assert site.code in message.subject
    assert signer.printed_name in message.body


@pytest.mark.django_db
def test_refused_release_sends_no_email(
    qa, operator_user, site, django_capture_on_commit_callbacks
):
    batch = _quarantined(site, operator_user, inspection="failed")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = qa.post(_url(batch, "release"), _body("release"), format="json")

    assert response.status_code == 409
    assert mail.outbox == []


# --- signatures ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_signature_hash_is_the_batch_content_at_signing(qa, qa_user, operator_user, site):
    batch = _quarantined(site, operator_user)
    expected = content_hash(Batch.objects.get(pk=batch.pk), exclude=SIGNATURE_EXCLUDE)

    response = qa.post(_url(batch, "release"), _body("release"), format="json")

    assert response.status_code == 200
    signature = ElectronicSignature.objects.get(record_id=str(batch.pk))
    assert signature.content_hash == expected
    assert response.json()["release_signature"]["content_hash"] == expected
    assert signature.signer == qa_user
    assert signature.printed_name == qa_user.printed_name
    assert str(signature.signed_at.tzinfo) == "UTC"
    assert Batch.objects.get(pk=batch.pk).release_signature == signature


@pytest.mark.django_db
def test_exactly_one_signature_per_release(qa, operator_user, site):
    batch = _quarantined(site, operator_user)

    qa.post(_url(batch, "release"), _body("release"), format="json")
    again = qa.post(_url(batch, "release"), _body("release"), format="json")

    assert again.status_code == 409
    assert ElectronicSignature.objects.filter(record_type="batches.batch").count() == 1
    assert len(_records(batch_events.BATCH_RELEASE)) == 1


@pytest.mark.django_db
def test_electronic_signatures_are_immutable(qa, operator_user, site):
    batch = _quarantined(site, operator_user)
    qa.post(_url(batch, "release"), _body("release"), format="json")
    signature = ElectronicSignature.objects.get(record_id=str(batch.pk))
    original = (signature.meaning, signature.reason, signature.content_hash)

    signature.reason = "Tampered"
    with pytest.raises(PermissionError):
        signature.save()
    with pytest.raises(PermissionError):
        signature.delete()
    with pytest.raises(PermissionError):
        ElectronicSignature.objects.filter(pk=signature.pk).update(reason="Tampered")
    with pytest.raises(PermissionError):
        ElectronicSignature.objects.filter(pk=signature.pk).delete()

    stored = ElectronicSignature.objects.get(pk=signature.pk)
    assert (stored.meaning, stored.reason, stored.content_hash) == original


# --- released and rejected batches are read-only ---------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("status", [BatchStatus.RELEASED, BatchStatus.REJECTED])
def test_final_batches_are_read_only(staff_user, auth_client, site, status):
    batch = BatchFactory(site=site, status=status)
    client = auth_client(staff_user)
    before = _snapshot(batch)

    responses = [
        client.patch(
            _url(batch), {"planned_quantity": 1}, format="json", HTTP_X_CHANGE_REASON=REASON
        ),
        client.delete(_url(batch), HTTP_X_CHANGE_REASON=REASON),
        *(client.post(_url(batch, a), _body(a), format="json") for a in ACTIONS),
    ]

    assert [r.status_code for r in responses] == [409] * 6
    read = client.get(_url(batch)).json()
    patched_back = client.patch(_url(batch), read, format="json", HTTP_X_CHANGE_REASON=REASON)
    assert patched_back.status_code == 409  # what was read is accepted; the state is not
    assert {r.json()["status"] for r in responses} == {status}
    assert _snapshot(batch) == before
    assert client.get(_url(batch)).status_code == 200


@pytest.mark.django_db
def test_released_batch_patched_back_as_read_is_409(
    qa, operator_user, site, staff_user, auth_client
):
    batch = _quarantined(site, operator_user)
    qa.post(_url(batch, "release"), _body("release"), format="json")
    admin = auth_client(staff_user)
    read = admin.get(_url(batch)).json()
    assert read["release_signature"] is not None
    before = _snapshot(batch)

    response = admin.patch(_url(batch), read, format="json", HTTP_X_CHANGE_REASON=REASON)

    # Every echoed field, the signature included, matches what is stored: the refusal is
    # the state's (409), not a read-only field's (400).
    assert response.status_code == 409, response.content
    assert response.json()["status"] == "released"
    assert _snapshot(batch) == before
