"""The admin's batch review page: what QA needs in one place, and the release and reject
it offers, which refuse what the API refuses (the same services, signed the same way)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

import pytest
from django.contrib.messages import get_messages

from accounts.models import ElectronicSignature
from audit.models import AuditLog
from batches.choices import BatchStatus
from batches.models import Batch
from core import reasons
from rbac.models import RoleAssignment
from reports import review
from reports.models import BatchReview
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.batches.factories import BatchFactory
from tests.core.admin_helpers import admin_client, role_with, staff_holding
from tests.inspections.factories import InspectionFactory
from tests.reports.conftest import COMPLETED, QA, assay
from tests.sites.factories import SiteFactory

pytestmark = pytest.mark.django_db


def url(batch: Batch, tail: str = "change/") -> str:
    return f"/admin/reports/batchreview/{batch.pk}/{tail}"


def _messages(response: Any) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request)]


def qa_at(batch: Batch, *codenames: str) -> Any:
    return staff_holding(*(codenames or QA), site=batch.site)


# --- what the page shows -------------------------------------------------------------


def test_the_page_shows_lifecycle_inspections_signatures_charts_and_trail(awaiting):
    client = admin_client(qa_at(awaiting))

    response = client.get(url(awaiting))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Review of batch Q-0001" in page
    [planned, started, completed, released] = response.context["lifecycle"]
    assert (started.by, started.at) == ("Olga Ferreira", awaiting.started_at)
    assert (completed.by, completed.at) == ("Olga Ferreira", COMPLETED)
    assert released.at is None and released.label == "Released"
    assert "2026-11-02 18:00:00" in page
    assert "99.1" in page and "95 – 105" in page
    assert "Ines Inspector" in page and "Within limits" in page and "ab" * 32 in page
    [(parameter, chart)] = response.context["charts"]
    assert parameter == "assay" and chart == url(awaiting, "chart/?parameter=assay")
    assert f'src="{url(awaiting, "chart/?parameter=assay")}"' in page.replace("&amp;", "&")
    assert 'id="release-form"' in page and 'id="reject-form"' in page


def test_the_chart_is_the_products_trend_with_this_batch_ringed(awaiting):
    elsewhere = BatchFactory(
        product=awaiting.product, site=SiteFactory(), status=BatchStatus.RELEASED
    )
    InspectionFactory(batch=elsewhere, passed=True, results=assay(96.0))
    client = admin_client(qa_at(awaiting))

    response = client.get(url(awaiting, "chart/"), {"parameter": "assay"})

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    svg = ElementTree.fromstring(response.content)  # noqa: S314 (the service's own chart)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    ids = {element.get("id") for element in svg.iter() if element.get("id")}
    assert {"points", "centre-line", "marked"} <= ids
    # The batches of the reader's site only: three past batches and this one.
    [line] = svg.findall(".//svg:g[@id='points']", ns)
    assert len(line.findall(".//svg:use", ns)) == 4


@pytest.mark.parametrize("query", [{}, {"parameter": ""}, {"parameter": "x" * 201}])
def test_a_chart_without_a_fitting_parameter_is_a_400(awaiting, query):
    client = admin_client(qa_at(awaiting))

    assert client.get(url(awaiting, "chart/"), query).status_code == 400


def test_the_trail_is_the_batches_and_its_inspections_paginated(awaiting, monkeypatch):
    monkeypatch.setattr(review, "AUDIT_PAGE_SIZE", 1)
    inspection = awaiting.inspections.get()
    other = BatchFactory(site=awaiting.site)
    client = admin_client(qa_at(awaiting))

    first = client.get(url(awaiting))
    second = client.get(url(awaiting), {"audit_page": "2"})
    hostile = client.get(url(awaiting), {"audit_page": "'; drop table x"})

    records = AuditLog.objects.filter(
        resource_id__in=[str(awaiting.pk), str(inspection.pk)]
    ).order_by("-timestamp", "-id")
    assert records.count() == 2  # the batch's creation and its inspection's
    assert list(first.context["trail"]) == [records[0]]
    assert list(second.context["trail"]) == [records[1]]
    assert "page 1 of 2 (2 records)" in first.content.decode()
    assert hostile.status_code == 200 and hostile.context["trail"].number == 1
    shown = {r.resource_id for page in (first, second) for r in page.context["trail"]}
    assert str(other.pk) not in shown


def test_a_reader_sees_only_what_their_codenames_show(awaiting):
    client = admin_client(qa_at(awaiting, "batch.view"))

    response = client.get(url(awaiting))

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["inspections"] == [] and response.context["charts"] == []
    assert response.context["trail"] is None and response.context["acts"] == {}
    assert "99.1" not in page and "Ines Inspector" not in page
    assert "You do not hold inspection.view" in page and "You do not hold audit.view" in page
    assert 'id="release-form"' not in page
    assert client.get(url(awaiting, "chart/"), {"parameter": "assay"}).status_code == 403


@pytest.mark.parametrize("tail", ["change/", "chart/?parameter=assay"])
def test_another_sites_batch_and_a_made_up_id_are_404(awaiting, tail):
    client = admin_client(staff_holding(*QA, site=SiteFactory()))

    assert client.get(url(awaiting, tail)).status_code == 404
    assert client.get(f"/admin/reports/batchreview/{uuid.uuid4()}/{tail}").status_code == 404
    assert client.get(f"/admin/reports/batchreview/not-a-uuid/{tail}").status_code == 404


def test_without_batch_view_there_is_no_review_page(awaiting):
    client = admin_client(qa_at(awaiting, "inspection.view", "audit.view"))

    assert client.get("/admin/reports/batchreview/").status_code == 403
    assert client.get(url(awaiting)).status_code == 404


# --- the acts: the API's services, signed ----------------------------------------------


def release(client: Any, batch: Batch, **fields: str) -> Any:
    body = {"act": "release", "meaning": "approval", "password": DEFAULT_PASSWORD, **fields}
    return client.post(url(batch), body)


def test_release_on_the_page_signs_and_is_recorded(awaiting):
    qa = qa_at(awaiting)
    client = admin_client(qa)

    response = release(client, awaiting, reason="Reviewed the record")

    awaiting.refresh_from_db()
    assert response.status_code == 302 and response["Location"] == url(awaiting)
    assert awaiting.status == BatchStatus.RELEASED
    signature = ElectronicSignature.objects.get(pk=awaiting.release_signature_id)
    assert (signature.signer_id, signature.meaning, signature.reason) == (
        qa.pk,
        "approval",
        "Reviewed the record",
    )
    record = AuditLog.objects.get(action="batch_release", resource_id=str(awaiting.pk))
    assert record.actor_id == qa.pk
    after = client.get(url(awaiting))
    assert after.context["trail"][0] == record
    assert not after.context["can_release"] and not after.context["can_reject"]
    assert "Rita" not in after.content.decode()  # nothing made up
    assert qa.printed_name in after.content.decode()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"password": "wrong-password-1"}, "password is not correct"),
        ({"meaning": "rejection"}, "Select a valid choice"),
        ({"meaning": "review"}, "Select a valid choice"),
    ],
)
def test_release_on_the_page_refuses_a_wrong_password_or_meaning(awaiting, fields, expected):
    response = release(admin_client(qa_at(awaiting)), awaiting, **fields)

    awaiting.refresh_from_db()
    assert response.status_code == 200
    shown = response.content.decode() + " ".join(_messages(response))
    assert expected in shown
    assert awaiting.status == BatchStatus.QUARANTINE and awaiting.release_signature_id is None
    assert DEFAULT_PASSWORD not in response.content.decode()


def test_release_on_the_page_keeps_segregation_of_duties(awaiting):
    qa = qa_at(awaiting)
    with reasons.given("test set-up: the reviewer completed the batch"):
        Batch.objects.filter(pk=awaiting.pk).update(completed_by=qa)

    response = release(admin_client(qa), awaiting)

    awaiting.refresh_from_db()
    assert awaiting.status == BatchStatus.QUARANTINE
    assert any("Segregation of duties" in m for m in _messages(response))


def test_release_on_the_page_refuses_a_failed_or_open_inspection(awaiting):
    InspectionFactory(batch=awaiting, failed=True, results=assay(94.0))

    response = release(admin_client(qa_at(awaiting)), awaiting)

    awaiting.refresh_from_db()
    assert awaiting.status == BatchStatus.QUARANTINE
    assert any("failed" in m for m in _messages(response))


def test_release_of_a_batch_still_in_production_is_refused(awaiting):
    with reasons.given("test set-up: the batch is back in production"):
        Batch.objects.filter(pk=awaiting.pk).update(status=BatchStatus.IN_PRODUCTION)

    response = release(admin_client(qa_at(awaiting)), awaiting)

    awaiting.refresh_from_db()
    assert awaiting.status == BatchStatus.IN_PRODUCTION
    assert _messages(response) and response.status_code == 200


@pytest.mark.parametrize(
    "codenames",
    [
        ("batch.view", "inspection.view", "audit.view"),  # a reader
        ("batch.view", "batch.reject"),  # may reject, not release
    ],
)
def test_release_without_batch_release_at_the_site_is_403(awaiting, codenames):
    response = release(admin_client(qa_at(awaiting, *codenames)), awaiting)

    awaiting.refresh_from_db()
    assert response.status_code == 403
    assert awaiting.status == BatchStatus.QUARANTINE


def test_release_held_at_another_site_only_is_403(awaiting):
    qa = staff_holding("batch.release", site=SiteFactory())
    RoleAssignment.objects.create(user=qa, role=role_with("batch.view"), site=awaiting.site)

    response = release(admin_client(qa), awaiting)

    awaiting.refresh_from_db()
    assert response.status_code == 403
    assert awaiting.status == BatchStatus.QUARANTINE


@pytest.mark.parametrize("act", ["", "approve", "delete", "release\x00"])
def test_an_unknown_act_is_refused(awaiting, act):
    response = admin_client(qa_at(awaiting)).post(
        url(awaiting), {"act": act, "password": DEFAULT_PASSWORD, "meaning": "approval"}
    )

    awaiting.refresh_from_db()
    assert response.status_code == 403
    assert awaiting.status == BatchStatus.QUARANTINE


def test_reject_on_the_page_needs_a_reason_and_signs(awaiting):
    qa = qa_at(awaiting)
    client = admin_client(qa)

    refused = client.post(url(awaiting), {"act": "reject", "password": DEFAULT_PASSWORD})
    awaiting.refresh_from_db()
    assert refused.status_code == 200 and awaiting.status == BatchStatus.QUARANTINE

    done = client.post(
        url(awaiting),
        {"act": "reject", "password": DEFAULT_PASSWORD, "reason": "Assay trend out of control"},
    )

    awaiting.refresh_from_db()
    assert done.status_code == 302
    assert awaiting.status == BatchStatus.REJECTED
    signature = ElectronicSignature.objects.get(pk=awaiting.rejection_signature_id)
    assert (signature.signer_id, signature.meaning) == (qa.pk, "rejection")
    [*_, rejected] = client.get(url(awaiting)).context["lifecycle"]
    assert (rejected.label, rejected.by) == ("Rejected", qa.printed_name)


def test_a_write_through_the_review_proxy_is_recorded_as_the_batchs(awaiting):
    with reasons.given("test: a bulk write through the proxy"):
        BatchReview.objects.filter(pk=awaiting.pk).update(produced_quantity=9_000)

    [record] = AuditLog.objects.filter(action="bulk_update")
    assert record.resource_type == "batches.batch"
    assert record.new_values["touched"]["ids"] == [str(awaiting.pk)]


def test_the_list_shows_the_newest_completed_first_and_the_open_batches_last(awaiting):
    earlier = BatchFactory(
        product=awaiting.product,
        site=awaiting.site,
        status=BatchStatus.QUARANTINE,
        completed_at=datetime(2026, 10, 1, tzinfo=UTC),
    )
    BatchFactory(site=awaiting.site, status=BatchStatus.PLANNED)

    response = admin_client(qa_at(awaiting)).get("/admin/reports/batchreview/")

    rows = list(response.context["cl"].result_list)
    assert [row.pk for row in rows[:2]] == [awaiting.pk, earlier.pk]
    assert all(row.completed_at is None for row in rows[2:])


def test_a_refused_act_on_the_review_page_is_recorded_against_the_batch(awaiting):
    reader = qa_at(awaiting, "batch.view")

    release(admin_client(reader), awaiting)

    [denied] = AuditLog.objects.filter(action="permission_denied", actor_id=reader.pk)
    assert (denied.resource_type, denied.resource_id) == ("batches.batch", str(awaiting.pk))
    assert denied.new_values["codename"] == "batch.release"
