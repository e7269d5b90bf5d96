"""QA inspections: record, change while pending, complete with a signature; in-spec
computation; corrections; read-only once the batch is released or rejected; site
scoping through the batch; a list whose query count does not grow with its rows."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ElectronicSignature
from audit.choices import Action
from audit.models import AuditLog
from batches.choices import BatchStatus
from inspections import events as inspection_events
from inspections.choices import InspectionStatus
from inspections.models import Inspection
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory
from tests.conftest import DEFAULT_PASSWORD, assign
from tests.inspections.factories import InspectionFactory
from tests.sites.factories import SiteFactory

# Changes of GMP records need a reason (tests/audit/test_reasons.py tests that rule).
REASON = "Corrected after review"

INSPECTIONS = "/api/inspections/"
ASSAY = {"parameter": "assay", "value": 99.5, "unit": "%", "min": 95.0, "max": 105.0}
SIGN = {"password": DEFAULT_PASSWORD, "meaning": "approval"}
OUT_OF_SPEC = [{**ASSAY, "value": 90.0}]


def _url(inspection, action=""):
    return f"{INSPECTIONS}{inspection.pk}/" + (f"{action}/" if action else "")


def _create_body(batch, results=None, **extra):
    return {"batch": str(batch.pk), "kind": "assay", "results": results or [ASSAY]} | extra


def _snapshot(inspection):
    fresh = Inspection.objects.get(pk=inspection.pk)
    return {f.attname: getattr(fresh, f.attname) for f in Inspection._meta.concrete_fields}


@pytest.fixture
def batch(site):
    return BatchFactory(site=site, status=BatchStatus.QUARANTINE)


# --- create ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("status", [BatchStatus.IN_PRODUCTION, BatchStatus.QUARANTINE])
def test_record_an_inspection(qa, qa_user, site, status):
    batch = BatchFactory(site=site, status=status)

    response = qa.post(INSPECTIONS, _create_body(batch, notes="Sampled 20 tablets."), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["batch"] == str(batch.pk)
    assert body["status"] == "pending"
    assert body["performed_by"] == str(qa_user.pk)
    assert body["results"] == [{**ASSAY, "in_spec": True}]
    assert body["notes"] == "Sampled 20 tablets."
    assert body["signature"] is None
    assert body["supersedes"] is None
    assert body["superseded_by"] is None
    assert AuditLog.objects.filter(
        action=Action.CREATE, resource_type="inspections.inspection", resource_id=body["id"]
    ).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "low", "high", "in_spec"),
    [
        (100.0, 95.0, 105.0, True),
        (95.0, 95.0, 105.0, True),  # limits are inclusive
        (105.0, 95.0, 105.0, True),
        (94.99, 95.0, 105.0, False),
        (105.01, 95.0, 105.0, False),
        (3.0, 3.0, 3.0, True),
        (0.2, None, 0.5, True),  # upper limit only
        (0.6, None, 0.5, False),
        (7.0, 5.0, None, True),  # lower limit only
        (4.0, 5.0, None, False),
        (-1e9, None, None, True),  # no limits: reported, always in spec
        (-0.5, -1.0, 0.0, True),
    ],
)
def test_in_spec_is_computed(qa, batch, value, low, high, in_spec):
    result = {"parameter": "p", "value": value, "unit": "mg", "min": low, "max": high}

    response = qa.post(INSPECTIONS, _create_body(batch, [result]), format="json")

    assert response.status_code == 201, response.content
    [stored] = response.json()["results"]
    assert stored == {**result, "in_spec": in_spec}
    assert Inspection.objects.get().results[0]["in_spec"] is in_spec


@pytest.mark.django_db
def test_limits_may_be_left_out(qa, batch):
    response = qa.post(
        INSPECTIONS,
        _create_body(batch, [{"parameter": "appearance score", "value": 4}]),
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["results"] == [
        {
            "parameter": "appearance score",
            "value": 4.0,
            "unit": "",
            "min": None,
            "max": None,
            "in_spec": True,
        }
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "result",
    [
        {**ASSAY, "min": 105.0, "max": 95.0},
        {**ASSAY, "value": "NaN"},
        {**ASSAY, "value": "Infinity"},
        {**ASSAY, "value": "-Infinity"},
        {**ASSAY, "min": "NaN"},
        {**ASSAY, "max": "Infinity"},
        {**ASSAY, "value": True},
        {**ASSAY, "min": False},
        {**ASSAY, "value": "ninety"},
        {**ASSAY, "value": None},
        {key: v for key, v in ASSAY.items() if key != "value"},
        {key: v for key, v in ASSAY.items() if key != "parameter"},
        {**ASSAY, "parameter": ""},
        {**ASSAY, "in_spec": False},
        {**ASSAY, "value": 90.0, "in_spec": True},
        {**ASSAY, "comment": "x"},
        "assay=99.5",
    ],
    ids=[
        "min-above-max",
        "nan",
        "infinity",
        "minus-infinity",
        "nan-min",
        "infinite-max",
        "boolean-value",
        "boolean-min",
        "not-a-number",
        "null-value",
        "no-value",
        "no-parameter",
        "blank-parameter",
        "in-spec-false-when-in-spec",
        "in-spec-true-when-out-of-spec",
        "unknown-key",
        "not-an-object",
    ],
)
def test_bad_result_refused(qa, batch, result):
    response = qa.post(INSPECTIONS, _create_body(batch, [result]), format="json")

    assert response.status_code == 400, response.content
    assert "results" in response.json()
    assert not Inspection.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "taste"}, "kind"),
        ({"results": "none"}, "results"),
        ({"results": [ASSAY] * 201}, "results"),
        ({"batch": "00000000-0000-0000-0000-000000000000"}, "batch"),
        ({"status": "passed"}, "status"),
        ({"performed_by": "00000000-0000-0000-0000-000000000000"}, "performed_by"),
        ({"notes": "x" * 5001}, "notes"),
        ({"performed_at": "yesterday"}, "performed_at"),
    ],
)
def test_bad_input_refused(qa, batch, overrides, field):
    response = qa.post(INSPECTIONS, _create_body(batch) | overrides, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Inspection.objects.exists()


@pytest.mark.django_db
def test_create_for_a_planned_batch_is_409(qa, site):
    planned = BatchFactory(site=site)

    response = qa.post(INSPECTIONS, _create_body(planned), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "batch_not_inspectable"
    assert response.json()["status"] == "planned"
    assert not Inspection.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("status", [BatchStatus.RELEASED, BatchStatus.REJECTED])
def test_create_for_a_released_or_rejected_batch_is_409(qa, site, status):
    final = BatchFactory(site=site, status=status)

    response = qa.post(INSPECTIONS, _create_body(final), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "batch_read_only"
    assert response.json()["status"] == status
    assert not Inspection.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["operator", "auditor"])
def test_create_without_inspection_create_is_403(auth_client, site, batch, role):
    user = UserFactory()
    assign(user, role, site=site)

    response = auth_client(user).post(INSPECTIONS, _create_body(batch), format="json")

    assert response.status_code == 403
    assert not Inspection.objects.exists()


# --- PATCH ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_patch_pending_inspection_recomputes_in_spec(qa, batch):
    inspection = InspectionFactory(batch=batch)

    response = qa.patch(
        _url(inspection),
        {"kind": "dissolution", "results": OUT_OF_SPEC, "notes": "Re-measured."},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["in_spec"] is False
    inspection.refresh_from_db()
    assert inspection.kind == "dissolution"
    assert inspection.notes == "Re-measured."
    assert inspection.results == [{**OUT_OF_SPEC[0], "in_spec": False}]
    assert inspection.status == "pending"


@pytest.mark.django_db
@pytest.mark.parametrize("status", [InspectionStatus.PASSED, InspectionStatus.FAILED])
def test_patch_completed_inspection_is_409_and_changes_nothing(qa, batch, status):
    inspection = InspectionFactory(batch=batch, **{status: True})
    before = _snapshot(inspection)

    response = qa.patch(
        _url(inspection),
        {"notes": "Changed afterwards."},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_status"
    assert response.json()["status"] == status
    assert _snapshot(inspection) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "passed"}, "status"),
        ({"batch": "00000000-0000-0000-0000-000000000000"}, "batch"),
        ({"supersedes": "00000000-0000-0000-0000-000000000000"}, "supersedes"),
        ({"colour": "blue"}, "colour"),
        ({"results": [{**ASSAY, "value": "NaN"}]}, "results"),
        ({"results": [{**ASSAY, "min": 2, "max": 1}]}, "results"),
        ({"kind": "taste"}, "kind"),
    ],
)
def test_patch_bad_input_is_400_and_changes_nothing(qa, batch, changes, field):
    inspection = InspectionFactory(batch=batch)
    before = _snapshot(inspection)

    response = qa.patch(_url(inspection), changes, format="json", HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert _snapshot(inspection) == before


@pytest.mark.django_db
def test_patch_back_what_was_read(qa, batch):
    inspection = InspectionFactory(batch=batch, results=[])
    qa.patch(
        _url(inspection),
        {"results": [ASSAY, OUT_OF_SPEC[0]]},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )
    read = qa.get(_url(inspection)).json()

    response = qa.patch(
        _url(inspection),
        read | {"notes": "Round trip."},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 200, response.content
    inspection.refresh_from_db()
    assert inspection.notes == "Round trip."
    assert [r["in_spec"] for r in inspection.results] == [True, False]


@pytest.mark.django_db
def test_patch_back_a_correction_as_read(qa, batch):
    failed = InspectionFactory(batch=batch, failed=True)
    correction = InspectionFactory(batch=batch, supersedes=failed, correction_reason="Redo.")
    read = qa.get(_url(correction)).json()

    response = qa.patch(
        _url(correction),
        read | {"notes": "Round trip."},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 200, response.content
    assert response.json()["supersedes"] == str(failed.pk)


@pytest.mark.django_db
def test_patch_back_a_completed_inspection_is_409_not_400(qa, batch):
    inspection = InspectionFactory(batch=batch, passed=True)
    read = qa.get(_url(inspection)).json()

    response = qa.patch(
        _url(inspection), read | {"notes": "Late."}, format="json", HTTP_X_CHANGE_REASON=REASON
    )

    assert response.status_code == 409
    assert response.json()["status"] == "passed"


@pytest.mark.django_db
def test_patch_without_inspection_update_is_403(auth_client, site, batch):
    inspection = InspectionFactory(batch=batch)
    operator = UserFactory()
    assign(operator, "operator", site=site)
    before = _snapshot(inspection)

    response = auth_client(operator).patch(
        _url(inspection), {"notes": "x"}, format="json", HTTP_X_CHANGE_REASON=REASON
    )

    assert response.status_code == 403
    assert _snapshot(inspection) == before


@pytest.mark.django_db
def test_put_is_not_offered(qa, batch):
    inspection = InspectionFactory(batch=batch)

    response = qa.put(_url(inspection), {"notes": "x"}, format="json", HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 405


# --- complete -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_complete_passed_is_signed_and_audited(qa, qa_user, batch):
    inspection = InspectionFactory(batch=batch)

    response = qa.post(_url(inspection, "complete"), {"outcome": "passed", **SIGN}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "passed"
    assert body["completed_by"] == str(qa_user.pk)
    assert body["completed_at"] is not None
    signature = body["signature"]
    assert signature["signer"] == str(qa_user.pk)
    assert signature["printed_name"] == qa_user.printed_name
    assert (signature["record_type"], signature["record_id"]) == (
        "inspections.inspection",
        str(inspection.pk),
    )
    assert len(signature["content_hash"]) == 64
    [record] = AuditLog.objects.filter(action=inspection_events.INSPECTION_COMPLETE)
    assert record.actor_id == qa_user.pk
    assert record.resource_id == str(inspection.pk)
    assert record.site_id == batch.site_id
    assert (record.old_values["status"], record.new_values["status"]) == ("pending", "passed")
    assert record.new_values["signature_id"] == signature["id"]
    # One change, one record: the inspection's save wrote no generic diff besides.
    assert not AuditLog.objects.filter(action="update", resource_id=str(inspection.pk)).exists()
    [signed] = AuditLog.objects.filter(action=Action.ESIGNATURE, resource_id=signature["id"])
    assert signed.actor_id == qa_user.pk
    assert signed.new_values["record_type"] == "inspections.inspection"
    assert signed.new_values["record_id"] == str(inspection.pk)
    assert signed.new_values["content_hash"] == signature["content_hash"]


@pytest.mark.django_db
def test_complete_failed_emails_the_sites_qa(
    qa, qa_user, batch, django_capture_on_commit_callbacks
):
    inspection = InspectionFactory(batch=batch, results=[{**OUT_OF_SPEC[0], "in_spec": False}])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = qa.post(
            _url(inspection, "complete"),
            {"outcome": "failed", **SIGN, "meaning": "review", "reason": "Assay low."},
            format="json",
        )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "failed"
    assert response.json()["signature"]["reason"] == "Assay low."
    [message] = mail.outbox
    assert message.to == [qa_user.email]
    assert batch.batch_number in message.subject + message.body


@pytest.mark.django_db
def test_passed_with_an_out_of_spec_result_is_400(qa, batch):
    out_of_spec = {**OUT_OF_SPEC[0], "parameter": "uniformity", "in_spec": False}
    inspection = InspectionFactory(batch=batch, results=[{**ASSAY, "in_spec": True}, out_of_spec])
    before = _snapshot(inspection)

    response = qa.post(_url(inspection, "complete"), {"outcome": "passed", **SIGN}, format="json")

    assert response.status_code == 400
    assert "uniformity" in str(response.json()["outcome"])
    assert _snapshot(inspection) == before
    assert not ElectronicSignature.objects.exists()


@pytest.mark.django_db
def test_out_of_spec_patched_then_passing_is_refused(qa, batch):
    created = qa.post(INSPECTIONS, _create_body(batch, OUT_OF_SPEC), format="json").json()

    response = qa.post(
        f"{INSPECTIONS}{created['id']}/complete/", {"outcome": "passed", **SIGN}, format="json"
    )

    assert response.status_code == 400
    assert "assay" in str(response.json()["outcome"])


@pytest.mark.django_db
def test_passed_without_results_is_400(qa, batch):
    inspection = InspectionFactory(batch=batch, results=[])

    response = qa.post(_url(inspection, "complete"), {"outcome": "passed", **SIGN}, format="json")

    assert response.status_code == 400
    assert "outcome" in response.json()


@pytest.mark.django_db
def test_complete_twice_is_409(qa, batch):
    inspection = InspectionFactory(batch=batch)
    first = qa.post(_url(inspection, "complete"), {"outcome": "passed", **SIGN}, format="json")

    second = qa.post(_url(inspection, "complete"), {"outcome": "failed", **SIGN}, format="json")

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["status"] == "passed"
    inspection.refresh_from_db()
    assert inspection.status == "passed"
    assert ElectronicSignature.objects.count() == 1


@pytest.mark.django_db
def test_complete_with_wrong_password_is_400_and_audited(qa, qa_user, batch):
    inspection = InspectionFactory(batch=batch)
    before = _snapshot(inspection)

    response = qa.post(
        _url(inspection, "complete"),
        {"outcome": "passed", "password": "wrong-password-1", "meaning": "approval"},
        format="json",
    )

    assert response.status_code == 400
    assert "password" in response.json()
    assert _snapshot(inspection) == before
    assert AuditLog.objects.filter(
        action=Action.LOGIN_FAILED, actor_username=qa_user.username
    ).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "passed", "password": DEFAULT_PASSWORD}, "meaning"),
        ({"outcome": "maybe", **SIGN}, "outcome"),
        ({**SIGN}, "outcome"),
        ({"outcome": "passed", "meaning": "approval"}, "password"),
        ({"outcome": "passed", **SIGN, "status": "passed"}, "status"),
    ],
)
def test_complete_bad_body_is_400(qa, batch, body, field):
    inspection = InspectionFactory(batch=batch)

    response = qa.post(_url(inspection, "complete"), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert Inspection.objects.get(pk=inspection.pk).status == "pending"


@pytest.mark.django_db
def test_complete_without_inspection_complete_is_403(auth_client, site, batch):
    inspection = InspectionFactory(batch=batch)
    operator = UserFactory()
    assign(operator, "operator", site=site)

    response = auth_client(operator).post(
        _url(inspection, "complete"), {"outcome": "passed", **SIGN}, format="json"
    )

    assert response.status_code == 403
    assert Inspection.objects.get(pk=inspection.pk).status == "pending"


# --- released and rejected batches: their inspections are read-only --------------------


@pytest.mark.django_db
@pytest.mark.parametrize("status", [BatchStatus.RELEASED, BatchStatus.REJECTED])
def test_inspections_of_final_batches_are_read_only(qa, site, status):
    final = BatchFactory(site=site, status=status)
    pending = InspectionFactory(batch=final)
    done = InspectionFactory(batch=final, failed=True)
    before = [_snapshot(pending), _snapshot(done)]

    responses = [
        qa.patch(_url(pending), {"notes": "late"}, format="json", HTTP_X_CHANGE_REASON=REASON),
        qa.post(_url(pending, "complete"), {"outcome": "passed", **SIGN}, format="json"),
        qa.post(
            INSPECTIONS,
            _create_body(final, supersedes=str(done.pk), correction_reason="Late fix."),
            format="json",
        ),
    ]

    assert [r.status_code for r in responses] == [409, 409, 409]
    assert {r.json()["code"] for r in responses} == {"batch_read_only"}
    assert {r.json()["status"] for r in responses} == {status}
    assert [_snapshot(pending), _snapshot(done)] == before
    assert Inspection.objects.count() == 2
    assert qa.get(_url(pending)).status_code == 200


# --- corrections ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_correction_supersedes_a_completed_inspection(qa, batch):
    failed = InspectionFactory(batch=batch, failed=True)

    response = qa.post(
        INSPECTIONS,
        _create_body(batch, supersedes=str(failed.pk), correction_reason="  Wrong sample.  "),
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["supersedes"] == str(failed.pk)
    assert body["correction_reason"] == "Wrong sample."
    assert qa.get(_url(failed)).json()["superseded_by"] == body["id"]
    failed.refresh_from_db()
    assert failed.status == "failed"
    current = qa.get(INSPECTIONS, {"batch": batch.pk, "current": "true"}).json()["results"]
    assert [i["id"] for i in current] == [body["id"]]


@pytest.mark.django_db
def test_correction_of_a_pending_inspection_is_400(qa, batch):
    pending = InspectionFactory(batch=batch)

    response = qa.post(
        INSPECTIONS,
        _create_body(batch, supersedes=str(pending.pk), correction_reason="Why not."),
        format="json",
    )

    assert response.status_code == 400
    assert "supersedes" in response.json()
    assert Inspection.objects.count() == 1


@pytest.mark.django_db
def test_correction_for_another_batch_is_400(qa, site, batch):
    other = InspectionFactory(batch=BatchFactory(site=site, status="quarantine"), passed=True)

    response = qa.post(
        INSPECTIONS,
        _create_body(batch, supersedes=str(other.pk), correction_reason="Mixed up."),
        format="json",
    )

    assert response.status_code == 400
    assert "supersedes" in response.json()
    assert Inspection.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_correction_needs_a_reason(qa, batch, reason):
    failed = InspectionFactory(batch=batch, failed=True)
    extra = {"supersedes": str(failed.pk)}
    if reason is not None:
        extra["correction_reason"] = reason

    response = qa.post(INSPECTIONS, _create_body(batch, **extra), format="json")

    assert response.status_code == 400
    assert "correction_reason" in response.json()
    assert Inspection.objects.count() == 1


@pytest.mark.django_db
def test_an_inspection_cannot_be_superseded_twice(qa, batch):
    failed = InspectionFactory(batch=batch, failed=True)
    body = _create_body(batch, supersedes=str(failed.pk), correction_reason="Re-test.")
    first = qa.post(INSPECTIONS, body, format="json")

    second = qa.post(INSPECTIONS, body, format="json")

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["code"] == "already_superseded"
    assert Inspection.objects.count() == 2


@pytest.mark.django_db
def test_superseding_an_unknown_inspection_is_400(qa, batch):
    response = qa.post(
        INSPECTIONS,
        _create_body(
            batch,
            supersedes="00000000-0000-0000-0000-000000000000",
            correction_reason="Ghost.",
        ),
        format="json",
    )

    assert response.status_code == 400
    assert "supersedes" in response.json()


# --- site scoping ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "action", "body"),
    [
        ("get", "", None),
        ("patch", "", {"notes": "Taken over."}),
        ("post", "complete", {"outcome": "passed", **SIGN}),
    ],
)
def test_other_site_inspections_are_404(qa, method, action, body):
    foreign = InspectionFactory(batch=BatchFactory(site=SiteFactory(), status="quarantine"))
    before = _snapshot(foreign)

    response = getattr(qa, method)(_url(foreign, action), body, format="json")

    assert response.status_code == 404
    assert _snapshot(foreign) == before


@pytest.mark.django_db
def test_list_shows_only_own_sites(qa, batch):
    own = InspectionFactory(batch=batch)
    InspectionFactory(batch=BatchFactory(site=SiteFactory(), status="quarantine"))

    response = qa.get(INSPECTIONS)

    assert response.status_code == 200
    assert [i["id"] for i in response.json()["results"]] == [str(own.pk)]


@pytest.mark.django_db
def test_create_for_another_sites_batch_is_400(qa):
    foreign = BatchFactory(site=SiteFactory(), status="quarantine")

    response = qa.post(INSPECTIONS, _create_body(foreign), format="json")

    assert response.status_code == 400
    assert "batch" in response.json()
    assert not Inspection.objects.exists()


@pytest.mark.django_db
def test_correction_of_another_sites_inspection_is_400(qa, batch):
    foreign = InspectionFactory(
        batch=BatchFactory(site=SiteFactory(), status="quarantine"), failed=True
    )

    response = qa.post(
        INSPECTIONS,
        _create_body(batch, supersedes=str(foreign.pk), correction_reason="Sneaky."),
        format="json",
    )

    assert response.status_code == 400
    assert "supersedes" in response.json()
    assert Inspection.objects.count() == 1


# --- list -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_filters(qa, site, batch):
    other_batch = BatchFactory(site=site, status="in_production")
    pending = InspectionFactory(batch=batch, kind="visual")
    failed = InspectionFactory(batch=batch, failed=True, kind="assay")
    correction = InspectionFactory(
        batch=batch, passed=True, kind="assay", supersedes=failed, correction_reason="Redo."
    )
    elsewhere = InspectionFactory(batch=other_batch, kind="microbial")

    def ids(**params):
        response = qa.get(INSPECTIONS, params)
        assert response.status_code == 200, response.content
        return {i["id"] for i in response.json()["results"]}

    assert ids(batch=batch.pk) == {str(pending.pk), str(failed.pk), str(correction.pk)}
    assert ids(status="passed") == {str(correction.pk)}
    assert ids(kind="microbial") == {str(elsewhere.pk)}
    assert ids(batch=batch.pk, current="true") == {str(pending.pk), str(correction.pk)}
    assert ids(current="false") == {str(failed.pk)}
    assert qa.get(INSPECTIONS, {"status": "bogus"}).status_code == 400


@pytest.mark.django_db
def test_list_query_count_is_constant_in_the_number_of_rows(qa, batch):
    def add(n):
        """n/3 pending; 2n/3 signed: failed ones, each corrected by a passed one."""
        for i in range(n):
            if i % 3 == 0:
                InspectionFactory(batch=batch)
            else:
                done = InspectionFactory(batch=batch, failed=True)
                InspectionFactory(
                    batch=batch, passed=True, supersedes=done, correction_reason="Re-test."
                )

    def listed():
        with CaptureQueriesContext(connection) as queries:
            response = qa.get(INSPECTIONS, {"page_size": 100})
        assert response.status_code == 200
        return response.json()["count"], queries

    add(6)
    qa.get(INSPECTIONS, {"page_size": 100})  # warm-up: user, session, permissions cached
    rows_few, few = listed()
    add(18)
    rows_many, many = listed()

    assert (rows_few, rows_many) == (10, 40)
    # 1. SELECT COUNT(*) FROM inspections_inspection JOIN batches_batch
    #    WHERE batch.site_id IN (the caller's sites), for the paginator.
    # 2. SELECT the page of inspections JOIN batches_batch (select_related "batch") LEFT
    #    JOIN accounts_electronicsignature ("signature") LEFT JOIN inspections_inspection
    #    AS the correction ("superseded_by", reverse one-to-one), same WHERE, LIMIT 100.
    # Authentication, the session and the caller's permissions come from the cache.
    assert len(few) == 2, [q["sql"] for q in few.captured_queries]
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


@pytest.mark.django_db
def test_correction_of_an_inspection_at_another_site_is_400_as_if_unknown(qa, batch):
    elsewhere = InspectionFactory(failed=True)  # a batch at another site

    response = qa.post(
        INSPECTIONS,
        _create_body(batch, supersedes=str(elsewhere.pk), correction_reason="Recount"),
    )

    assert response.status_code == 400
    assert "does not exist" in response.json()["supersedes"][0]  # no hint it exists elsewhere
    assert not Inspection.objects.filter(supersedes=elsewhere).exists()
