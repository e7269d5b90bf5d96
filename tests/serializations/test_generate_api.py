"""POST /api/batches/{id}/serials/: generation in the request, what is stored, refusals."""

import re

import pytest
from django.db import transaction
from django.utils import timezone

from audit.models import AuditLog
from batches.choices import BatchStatus
from serializations import events as serial_events
from serializations.generation import ALPHABET, write_serials
from serializations.models import SerialJob, SerialNumber
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory
from tests.conftest import assign
from tests.serializations.factories import make_serials
from tests.sites.factories import SiteFactory

# Changes of GMP records need a reason (tests/audit/test_reasons.py tests that rule).
REASON = "Corrected after review"

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(site):
    return BatchFactory(site=site, status=BatchStatus.IN_PRODUCTION)


def url(batch):
    return f"/api/batches/{batch.pk}/serials/"


def test_random_generation_stores_full_values_and_answers_a_summary(
    auth_client, operator_user, batch
):
    response = auth_client(operator_user).post(url(batch), {"count": 500}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["generated"] == 500
    assert body["strategy"] == "random" and body["length"] == 12
    rows = list(SerialNumber.objects.filter(batch=batch).values_list("gtin", "serial", "status"))
    assert len(rows) == 500
    pattern = re.compile(rf"^[{ALPHABET}]{{12}}$")
    for gtin, serial, status in rows:
        assert gtin == batch.product.gtin  # the full 14 digits, not a truncated cast
        assert pattern.match(serial), serial
        assert status == "commissioned"
    assert len({serial for _, serial, _ in rows}) == 500
    ids = SerialNumber.objects.filter(batch=batch).values_list("id", flat=True)
    assert body["first_id"] == min(ids) and body["last_id"] == max(ids)
    listed = auth_client(operator_user).get(body["serials"] + "&page_size=1000").json()["results"]
    assert len(listed) == 500


def test_generation_is_one_bulk_audit_event(auth_client, operator_user, batch):
    auth_client(operator_user).post(url(batch), {"count": 300}, format="json")

    [record] = AuditLog.objects.filter(action=serial_events.SERIAL_GENERATE)
    assert record.site_id == batch.site_id
    assert record.resource_id == str(batch.pk)
    assert record.actor_id == operator_user.pk
    touched = record.new_values["touched"]
    assert touched["count"] == 300
    first, last = (int(i) for i in touched["id_range"])
    assert SerialNumber.objects.filter(batch=batch, id__range=(first, last)).count() == 300
    assert record.new_values["values"]["strategy"] == "random"
    # no per-row records and no generic bulk record besides it
    assert (
        not AuditLog.objects.filter(resource_type="serializations.serialnumber")
        .exclude(pk=record.pk)
        .exists()
    )


def test_prefix_and_length(auth_client, operator_user, batch):
    response = auth_client(operator_user).post(
        url(batch), {"count": 50, "prefix": "PX", "length": 10}, format="json"
    )

    assert response.status_code == 201, response.content
    serials = SerialNumber.objects.filter(batch=batch).values_list("serial", flat=True)
    assert all(s.startswith("PX") and len(s) == 10 for s in serials)


def test_sequential_continues_after_the_highest_used_for_the_gtin(auth_client, operator_user, site):
    batch = BatchFactory(site=site)
    other = BatchFactory(site=site, product=batch.product)
    make_serials(other, ["S000041", "S00004X", "S0000ZZ"])  # only S000041 is sequential

    response = auth_client(operator_user).post(
        url(batch),
        {"count": 3, "strategy": "sequential", "prefix": "S", "length": 7},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert list(SerialNumber.objects.filter(batch=batch).values_list("serial", flat=True)) == [
        "S000042",
        "S000043",
        "S000044",
    ]
    assert response.json()["first_serial"] == "S000042"


def test_sequential_skips_numbers_taken_in_between(auth_client, operator_user, site):
    batch = BatchFactory(site=site)
    other = BatchFactory(site=site, product=batch.product)
    make_serials(other, ["N0001"])

    client = auth_client(operator_user)
    body = {"count": 2, "strategy": "sequential", "prefix": "N", "length": 5}
    assert client.post(url(batch), body, format="json").status_code == 201

    assert sorted(SerialNumber.objects.filter(batch=batch).values_list("serial", flat=True)) == [
        "N0002",
        "N0003",
    ]


def test_random_collisions_with_existing_serials_are_replaced(auth_client, operator_user, site):
    """Length 3 over 32 symbols is 32,768 serials; with 28,000 taken for the GTIN,
    a new generation of 30 keeps hitting taken ones and still yields 30 new ones."""
    batch = BatchFactory(site=site)
    other = BatchFactory(site=site, product=batch.product)
    taken = [a + b + c for a in ALPHABET for b in ALPHABET for c in ALPHABET][:28_000]
    make_serials(other, taken)

    response = auth_client(operator_user).post(
        url(batch), {"count": 30, "length": 3}, format="json"
    )

    assert response.status_code == 201, response.content
    new = set(SerialNumber.objects.filter(batch=batch).values_list("serial", flat=True))
    assert len(new) == 30
    assert not new & set(taken)


def test_sequential_exhaustion_is_a_conflict_and_writes_nothing(auth_client, operator_user, batch):
    client = auth_client(operator_user)
    body = {"count": 9, "strategy": "sequential", "prefix": "Q", "length": 2}
    assert client.post(url(batch), body, format="json").status_code == 201

    response = client.post(url(batch), {**body, "count": 1}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "sequence_exhausted"
    assert SerialNumber.objects.filter(batch=batch).count() == 9


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "count"),
        ({"count": 0}, "count"),
        ({"count": -5}, "count"),
        ({"count": "many"}, "count"),
        ({"count": 1_000_001}, "count"),
        ({"count": 10, "strategy": "guess"}, "strategy"),
        ({"count": 10, "length": 21}, "length"),
        ({"count": 10, "length": 0}, "length"),
        ({"count": 10, "prefix": "é"}, "prefix"),
        ({"count": 10, "prefix": "=cmd"}, "prefix"),
        ({"count": 10, "prefix": "ABCDEFGHIJKL"}, "prefix"),
        ({"count": 5000, "length": 3}, "length"),
        ({"count": 100, "strategy": "sequential", "length": 2}, "length"),
        ({"count": 10, "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(
    auth_client, operator_user, batch, body, field
):
    response = auth_client(operator_user).post(url(batch), body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not SerialNumber.objects.exists()
    assert not SerialJob.objects.exists()


@pytest.mark.parametrize(
    "status", [BatchStatus.QUARANTINE, BatchStatus.RELEASED, BatchStatus.REJECTED]
)
def test_only_planned_or_running_batches_get_serials(auth_client, operator_user, site, status):
    batch = BatchFactory(site=site, status=status)

    response = auth_client(operator_user).post(url(batch), {"count": 5}, format="json")

    assert response.status_code == 409
    assert response.json()["status"] == status
    assert not SerialNumber.objects.exists()


def test_permissions_and_site_scope(auth_client, batch, site):
    qa = UserFactory()
    assign(qa, "qa", site=site)  # sees serials, may not generate
    stranger = UserFactory()
    assign(stranger, "operator", site=SiteFactory())

    assert auth_client(qa).post(url(batch), {"count": 5}, format="json").status_code == 403
    assert auth_client(stranger).post(url(batch), {"count": 5}, format="json").status_code == 404
    assert auth_client(stranger).get(url(batch)).status_code == 404
    assert not SerialNumber.objects.exists()


def test_unknown_batch_is_404(auth_client, operator_user):
    client = auth_client(operator_user)
    assert (
        client.post(
            "/api/batches/00000000-0000-0000-0000-000000000000/serials/",
            {"count": 1},
            format="json",
        ).status_code
        == 404
    )
    assert client.get("/api/batches/not-a-uuid/serials/").status_code == 404


def test_a_batch_with_serials_cannot_be_deleted(auth_client, site):
    admin = UserFactory()
    assign(admin, "admin")
    batch = BatchFactory(site=site)
    make_serials(batch, ["A1", "A2"])

    response = auth_client(admin).delete(f"/api/batches/{batch.pk}/", HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 409
    assert SerialNumber.objects.filter(batch=batch).count() == 2


def test_large_count_becomes_a_job(
    auth_client, operator_user, batch, settings, django_capture_on_commit_callbacks
):
    """Through eager Celery here; a real worker runs one in test_jobs_worker."""
    settings.SERIAL_SYNC_MAX = 100
    client = auth_client(operator_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(batch), {"count": 250}, format="json")

    assert response.status_code == 202, response.content
    body = response.json()
    job = SerialJob.objects.get()
    assert body["url"] == f"/api/serial-jobs/{job.pk}/"
    assert response["Location"] == body["url"]
    assert body["status"] == "queued"
    read = client.get(body["url"]).json()
    assert read["status"] == "succeeded"
    assert read["generated"] == 250
    assert SerialNumber.objects.filter(batch=batch).count() == 250
    [record] = AuditLog.objects.filter(action=serial_events.SERIAL_GENERATE)
    assert record.new_values["touched"]["job"] == str(job.pk)
    assert record.actor_id == operator_user.pk


def test_committed_generations_count_in_the_metric(
    auth_client, operator_user, batch, django_capture_on_commit_callbacks
):
    from core.metrics import SERIALS_GENERATED, shared_values

    before = shared_values().get(SERIALS_GENERATED.name, 0)
    with django_capture_on_commit_callbacks(execute=True):
        auth_client(operator_user).post(url(batch), {"count": 120}, format="json")

    assert shared_values().get(SERIALS_GENERATED.name, 0) == before + 120


def test_a_nearly_full_space_never_runs_out_of_rounds(site):
    """With 85% of the space taken, the last missing serials are drawn with enough
    spare candidates that twenty fruitless rounds in a row do not happen by chance:
    200 generations in a row each yield all 30."""
    other = BatchFactory(site=site)
    make_serials(other, [a + b + c for a in ALPHABET for b in ALPHABET for c in ALPHABET][:28_000])
    for _ in range(200):
        batch = BatchFactory(site=site, product=other.product)
        with transaction.atomic():
            savepoint = transaction.savepoint()
            written = write_serials(
                batch=batch, count=30, strategy="random", length=3, prefix="", now=timezone.now()
            )
            assert written.count == 30
            assert SerialNumber.objects.filter(batch=batch).count() == 30
            transaction.savepoint_rollback(savepoint)
