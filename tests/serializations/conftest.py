"""Fixtures of the serializations tests: a batch in production and its whole EPCIS story."""

import pytest

from batches.choices import BatchStatus
from core import reasons
from serializations import services
from serializations.choices import SerialStatus
from serializations.models import SerialNumber
from serializations.services import SerialRef
from tests.batches.factories import BatchFactory
from tests.serializations.factories import code, generate


@pytest.fixture
def batch(site):
    return BatchFactory(site=site, status=BatchStatus.IN_PRODUCTION, batch_number="0012")


@pytest.fixture
def lifecycle(batch, site, operator_user):
    """Every kind of event the services write: commissioning, packing into a case and the
    case onto a pallet, unpacking, decommissioning a packed pack, shipping the pallet,
    and status moves."""
    generate(batch, 12)
    rows = list(SerialNumber.objects.filter(batch=batch).order_by("id"))
    case = services.container_create(site=site, kind="case")
    pallet = services.container_create(site=site, kind="pallet")
    services.container_pack(container=case, codes=[code(r) for r in rows[:6]])
    services.container_unpack(container=case, codes=[code(rows[5])])
    services.container_pack(container=pallet, codes=[f"(00){case.sscc}", code(rows[6])])
    services.serials_move(
        actor=operator_user,
        refs=[SerialRef(rows[0].gtin, rows[0].serial)],
        status=SerialStatus.DECOMMISSIONED,
        reason="damaged",
    )
    with reasons.given("Test"):
        type(batch).objects.filter(pk=batch.pk).update(status=BatchStatus.RELEASED)
        services.serials_move(
            actor=operator_user,
            refs=[SerialRef(r.gtin, r.serial) for r in rows[7:9]],
            status=SerialStatus.PACKED,
        )
    services.container_ship(container=pallet, destination_gln="4012345000009", reference="DN-1")
    with reasons.given("Test"):
        services.serials_move(
            actor=operator_user,
            refs=[SerialRef(r.gtin, r.serial) for r in rows[1:3]],
            status=SerialStatus.DISPENSED,
        )
    return {"rows": rows, "case": case, "pallet": pallet}
