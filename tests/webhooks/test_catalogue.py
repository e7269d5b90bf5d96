"""Every event type of the catalogue is published by the change it names, once, with
the payload the OpenAPI schema documents (``openapi/v1.yaml``, ``<Type>Event``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from accounts import services as account_services
from batches.choices import BatchStatus
from core import topics
from serializations import services as serial_services
from serializations.choices import SerialStatus
from serializations.models import SerialNumber
from serializations.services import SerialRef
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.batches.factories import BatchFactory, ProductFactory
from tests.inspections.factories import InspectionFactory
from tests.serializations.factories import code, generate
from webhooks import services
from webhooks.schema import component_name

pytestmark = pytest.mark.django_db
SCHEMA = yaml.safe_load((Path(__file__).parents[2] / "openapi" / "v1.yaml").read_text())
SIGN = {"password": DEFAULT_PASSWORD, "meaning": "approval"}


def _documented(name: str) -> dict:
    components = SCHEMA["components"]["schemas"]
    envelope = components[name]
    data = envelope["properties"]["data"]
    ref = data.get("$ref") or data["allOf"][0]["$ref"]
    return components[ref.rsplit("/", 1)[1]]


def test_every_type_is_published_by_its_change_as_documented(
    admin, qa, staff_user, site, receiver, django_capture_on_commit_callbacks
):
    inspector = UserFactory()  # before subscribing: every account made is published
    published = [t.name for t in topics.catalogue() if t.name != "webhook.test"]
    _, secret = services.subscription_create(actor=staff_user, url=receiver.url, types=published)
    receiver.secrets = [secret]
    product = ProductFactory()

    with django_capture_on_commit_callbacks(execute=True):
        planned = admin.post(
            "/api/batches/",
            {
                "product": str(product.pk),
                "site": str(site.pk),
                "batch_number": "WH-0001",
                "planned_quantity": 100,
                "manufacturing_date": "2026-11-01",
                "expiry_date": "2028-11-01",
            },
            format="json",
        )
    assert planned.status_code == 201, planned.content
    batch_id = planned.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post(f"/api/batches/{batch_id}/start/").status_code == 200
    batch = BatchFactory._meta.model.objects.get(pk=batch_id)
    with django_capture_on_commit_callbacks(execute=True):
        generate(batch, 6)
    rows = list(SerialNumber.objects.filter(batch=batch).order_by("id"))
    with django_capture_on_commit_callbacks(execute=True):
        serial_services.serials_move(
            actor=staff_user,
            refs=[SerialRef(rows[5].gtin, rows[5].serial)],
            status=SerialStatus.DECOMMISSIONED,
            reason="damaged",
        )
        completed = admin.post(
            f"/api/batches/{batch_id}/complete/", {"produced_quantity": 95}, format="json"
        )
    assert completed.status_code == 200, completed.content
    inspection = InspectionFactory(batch=batch, performed_by=inspector)
    with django_capture_on_commit_callbacks(execute=True):
        done = qa.post(
            f"/api/inspections/{inspection.pk}/complete/",
            {"outcome": "passed", **SIGN},
            format="json",
        )
        assert done.status_code == 200, done.content
        released = qa.post(f"/api/batches/{batch_id}/release/", SIGN, format="json")
        assert released.status_code == 200, released.content
    with django_capture_on_commit_callbacks(execute=True):
        case = serial_services.container_create(site=site, kind="case")
        serial_services.container_pack(container=case, codes=[code(r) for r in rows[:5]])
        serial_services.container_ship(
            container=case, destination_gln="4012345000009", reference="DN-7"
        )
    doomed = BatchFactory(site=site, status=BatchStatus.IN_PRODUCTION)
    with django_capture_on_commit_callbacks(execute=True):
        rejected = qa.post(
            f"/api/batches/{doomed.pk}/reject/",
            {"password": DEFAULT_PASSWORD, "reason": "Particles found."},
            format="json",
        )
        assert rejected.status_code == 200, rejected.content
        made = admin.post(
            "/api/users/",
            {
                "username": "erp.reader",
                "email": "erp.reader@example.com",
                "password": "a-long-enough-password-2026",
                "first_name": "Erp",
                "last_name": "Reader",
            },
            format="json",
        )
        assert made.status_code == 201, made.content
    with django_capture_on_commit_callbacks(execute=True):
        renamed = admin.patch(f"/api/sites/{site.pk}/", {"name": "Plant Nord"}, format="json")
        assert renamed.status_code == 200, renamed.content
        account_services.user_deactivate(
            actor=staff_user, user=type(staff_user).objects.get(username="erp.reader")
        )

    got = receiver.got()
    assert sorted(r.payload["type"] for r in got) == sorted(published)  # each once
    assert all(r.verified_with == [secret] for r in got)
    for received in got:
        payload = received.payload
        documented = _documented(component_name(topics.get(payload["type"])))
        assert set(payload["data"]) == set(documented["properties"]), payload["type"]
        assert set(documented.get("required", [])) <= set(payload["data"])
    by_type = {r.payload["type"]: r.payload for r in got}
    assert by_type["batch.released"]["data"] == released.json()
    assert by_type["batch.planned"]["data"]["status"] == "planned"
    assert by_type["batch.rejected"]["data"]["status"] == "rejected"
    assert by_type["inspection.completed"]["data"]["status"] == "passed"
    assert by_type["serials.generated"]["data"]["count"] == 6
    moved = by_type["serials.status_changed"]["data"]
    assert moved["status"] == "decommissioned" and moved["count"] == 1
    assert moved["serials"] == [
        {
            "gtin": rows[5].gtin,
            "serial": rows[5].serial,
            "batch": batch_id,
            "previous_status": "commissioned",
        }
    ]
    shipped = by_type["container.shipped"]["data"]
    assert shipped["status"] == "shipped" and shipped["packs"] == 5
    assert shipped["sscc"] == case.sscc
    assert by_type["site.updated"]["data"] == renamed.json()
    assert by_type["site.updated"]["site"] == str(site.pk)
    assert by_type["user.created"]["site"] is None
    assert by_type["user.deactivated"]["data"]["is_active"] is False
