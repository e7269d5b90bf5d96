"""``GET /api/batches/{id}/certificate/``: the certificate of analysis of a released
batch, read back as text from the PDF for every field it must state."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from audit.models import AuditLog
from batches.choices import BatchStatus
from reports import certificates
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory, ProductFactory
from tests.conftest import member
from tests.inspections.factories import InspectionFactory, SignatureFactory
from tests.sites.factories import SiteFactory

pytestmark = pytest.mark.django_db
SIGNED_AT = datetime(2026, 11, 20, 14, 30, 5, tzinfo=UTC)


def results(n: int, first: float = 99.0) -> list[dict]:
    return [
        {
            "parameter": f"impurity {k}" if k else "assay",
            "value": first + k / 10,
            "unit": "%",
            "min": 95.0,
            "max": 105.0 + k,
            "in_spec": True,
        }
        for k in range(n)
    ]


@pytest.fixture
def released(site):
    product = ProductFactory(
        name="Paracetamol", strength="500 mg", dosage_form="film-coated tablet"
    )
    releaser = UserFactory(first_name="Rita", last_name="Releaser")
    batch = BatchFactory(
        product=product,
        site=site,
        batch_number="CA-0001",
        status=BatchStatus.RELEASED,
        produced_quantity=9_750,
        started_at=datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
        completed_at=datetime(2026, 11, 2, 18, 0, tzinfo=UTC),
        released_at=SIGNED_AT,
        released_by=releaser,
        release_signature=SignatureFactory(
            signer=releaser,
            printed_name="Rita Releaser",
            signed_at=SIGNED_AT,
            meaning="approval",
            reason="All results within specification",
            record_type="batches.batch",
            content_hash="a" * 64,
        ),
    )
    analyst = UserFactory(first_name="Ana", last_name="Lyst")
    InspectionFactory(
        batch=batch,
        results=results(3),
        performed_by=analyst,
        passed=True,
        signature__printed_name="Ana Lyst",
        signature__signed_at=SIGNED_AT,
        signature__reason="Reviewed the chromatograms",
        signature__content_hash="b" * 64,
    )
    return batch


def fetch(client, batch, **headers):
    return client.get(f"/api/batches/{batch.pk}/certificate/", **headers)


def pages(response) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_certificate_states_product_batch_results_and_signatures(qa, released):
    response = fetch(qa, released)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    assert "certificate-" in response["Content-Disposition"]
    text = flat("\n".join(pages(response)))
    packed = "".join(text.split())  # a long hash or time may wrap inside its cell
    product = released.product
    for expected in (
        "Certificate of analysis",
        "Paracetamol",
        "500 mg",
        "film-coated tablet",
        product.gtin,
        "CA-0001",
        released.site.name,
        released.site.code,
        "2025-03-01",  # manufactured
        "2027-03-01",  # expiry
        "2026-11-01T06:00:00Z",  # started
        "2026-11-02T18:00:00Z",  # completed
        "2026-11-20T14:30:05Z",  # released, and the signatures' time
        "10000",  # planned
        "9750",  # produced
        "assay",
        "impurity 1",
        "impurity 2",
        "99 % 95 – 105",
        "99.1 % 95 – 106",
        "99.2 % 95 – 107",
        "passed",
        "Rita Releaser",
        "approval",
        "All results within specification",
        "a" * 64,
        "Ana Lyst",
        "Reviewed the chromatograms",
        "b" * 64,
        f"https://id.gs1.org/01/{product.gtin}/10/CA-0001?17=270301",
    ):
        assert "".join(expected.split()) in packed, expected


def test_every_page_carries_the_document_hash_and_it_is_the_same_every_time(qa, released):
    for _ in range(9):  # ten inspections of twenty results: several pages
        InspectionFactory(batch=released, results=results(20), passed=True)
    first, second = fetch(qa, released), fetch(qa, released)
    digest = first["X-Document-SHA256"]
    assert len(digest) == 64 and second["X-Document-SHA256"] == digest
    assert first.content == second.content  # the same bytes, not just the same hash
    texts = pages(first)
    assert len(texts) > 1
    assert all(f"Document SHA-256: {digest}" in flat(page) for page in texts)
    issued = AuditLog.objects.filter(action="certificate_issued", resource_id=str(released.pk))
    assert issued.count() == 2
    assert {record.new_values["document_hash"] for record in issued} == {digest}


def test_the_qr_code_carries_the_batchs_digital_link(qa, released, monkeypatch):
    encoded = []
    widget = certificates.QrCodeWidget

    def spy(value, *args, **kwargs):
        encoded.append(value)
        return widget(value, *args, **kwargs)

    monkeypatch.setattr(certificates, "QrCodeWidget", spy)
    fetch(qa, released)
    gtin = released.product.gtin
    assert encoded == [f"https://id.gs1.org/01/{gtin}/10/CA-0001?17=270301"]


def test_a_superseded_or_pending_inspection_is_not_certified(qa, released):
    old = InspectionFactory(batch=released, results=results(1, first=50.0), failed=True)
    InspectionFactory(batch=released, results=results(1, first=98.5), passed=True, supersedes=old)
    InspectionFactory(batch=released, results=results(1, first=77.0))  # pending
    text = flat("\n".join(pages(fetch(qa, released))))
    assert "98.5" in text and "50 %" not in text and "77 %" not in text


@pytest.mark.parametrize("status", [BatchStatus.QUARANTINE, BatchStatus.REJECTED])
def test_only_a_released_batch_has_a_certificate(qa, site, status):
    batch = BatchFactory(site=site, status=status)
    response = fetch(qa, batch)
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "batch_not_released"
    assert not AuditLog.objects.filter(action="certificate_issued").exists()


def test_another_sites_batch_or_an_unknown_one_is_a_404(auth_client, released):
    elsewhere = auth_client(member("qa", SiteFactory(), "q.elsewhere"))
    assert fetch(elsewhere, released).status_code == 404
    response = elsewhere.get(f"/api/batches/{uuid.uuid4()}/certificate/")
    assert response.status_code == 404 and response.json()


def test_refused_without_batch_view_and_without_credentials(auth_client, api_client, released):
    response = fetch(auth_client(UserFactory(username="no.roles")), released)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert fetch(api_client, released).status_code == 401
    assert not AuditLog.objects.filter(action="certificate_issued").exists()


def test_a_client_that_accepts_only_json_is_told_so_in_json(qa, released):
    response = fetch(qa, released, HTTP_ACCEPT="application/json")
    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"


def review(client, product, year="2026", **headers):
    return client.get(f"/api/products/{product.pk}/quality-review/?year={year}", **headers)


def test_the_annual_quality_review_counts_batches_and_draws_each_parameter(qa, site):
    product = ProductFactory(name="Ibuprofen", strength="400 mg", dosage_form="tablet")
    for n, value in enumerate([99.0, 99.5, 100.0, 100.5, 101.0]):
        batch = BatchFactory(
            product=product,
            site=site,
            batch_number=f"PQR-{n}",
            manufacturing_date=datetime(2026, 2, n + 1, tzinfo=UTC).date(),
            status=BatchStatus.RELEASED if n < 4 else BatchStatus.REJECTED,
        )
        InspectionFactory(batch=batch, results=results(2, first=value), passed=True)
    failed = BatchFactory(
        product=product,
        site=site,
        batch_number="PQR-F",
        status=BatchStatus.QUARANTINE,
        manufacturing_date=datetime(2026, 3, 1, tzinfo=UTC).date(),
    )
    bad = results(1, first=90.0)
    bad[0]["in_spec"] = False
    InspectionFactory(batch=failed, results=bad, failed=True)
    BatchFactory(product=product, site=SiteFactory(), batch_number="PQR-ELSEWHERE")
    BatchFactory(
        product=product,
        site=site,
        batch_number="PQR-2025",
        manufacturing_date=datetime(2025, 6, 1, tzinfo=UTC).date(),
    )

    first, second = review(qa, product), review(qa, product)
    assert first.status_code == 200, first.content
    assert first["Content-Type"] == "application/pdf"
    assert first.content == second.content
    digest = first["X-Document-SHA256"]
    texts = pages(first)
    assert all(f"Document SHA-256: {digest}" in flat(page) for page in texts)
    text = flat("\n".join(texts))
    assert "Product quality review 2026" in text and "Ibuprofen" in text
    # Batches made, released, rejected, failed inspections: 6 (not 2025's, not elsewhere)
    assert "Batches made Released Rejected Failed inspections 6 4 1 1" in text
    assert "PQR-F assay" in text and "assay" in text and "impurity 1" in text
    reader = PdfReader(io.BytesIO(first.content))
    images = [image for page in reader.pages for image in page.images]
    assert len(images) == 2  # one control chart per parameter: assay, impurity 1


@pytest.mark.parametrize("year", ["", "1999", "2999", "abc"])
def test_a_quality_review_of_no_or_a_bad_year_is_a_json_400(qa, year):
    response = review(qa, ProductFactory(), year=year)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")


def test_a_quality_review_needs_inspection_view(auth_client, api_client):
    product = ProductFactory()
    assert review(auth_client(UserFactory(username="no.roles")), product).status_code == 403
    assert review(api_client, product).status_code == 401
