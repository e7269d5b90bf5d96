"""What the tests of QA's documents and pages share: a batch awaiting review."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from batches.choices import BatchStatus
from batches.models import Batch
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory, ProductFactory
from tests.inspections.factories import InspectionFactory, SignatureFactory
from tests.sites.factories import SiteFactory

QA = ("batch.view", "inspection.view", "audit.view", "batch.release", "batch.reject")
COMPLETED = datetime(2026, 11, 2, 18, 0, tzinfo=UTC)


def assay(value: float) -> list[dict[str, Any]]:
    return [
        {
            "parameter": "assay",
            "value": value,
            "unit": "%",
            "min": 95.0,
            "max": 105.0,
            "in_spec": 95.0 <= value <= 105.0,
        },
    ]


@pytest.fixture
def awaiting() -> Batch:
    """A batch in quarantine, completed by its operator, its assay passed and signed."""
    site = SiteFactory(code="FRA-01")
    product = ProductFactory(name="Paracetamol", strength="500 mg")
    operator = UserFactory(first_name="Olga", last_name="Ferreira")
    for n, value in enumerate([100.4, 100.1, 99.8]):
        past = BatchFactory(
            product=product, site=site, batch_number=f"P-{n}", status=BatchStatus.RELEASED
        )
        InspectionFactory(batch=past, passed=True, results=assay(value))
    batch = BatchFactory(
        product=product,
        site=site,
        batch_number="Q-0001",
        status=BatchStatus.QUARANTINE,
        produced_quantity=9_750,
        started_at=datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
        started_by=operator,
        completed_at=COMPLETED,
        completed_by=operator,
    )
    inspector = UserFactory(first_name="Ines", last_name="Inspector")
    InspectionFactory(
        batch=batch,
        passed=True,
        performed_by=inspector,
        results=assay(99.1),
        signature=SignatureFactory(
            signer=inspector,
            printed_name="Ines Inspector",
            meaning="review",
            reason="Within limits",
            content_hash="ab" * 32,
        ),
    )
    return batch
