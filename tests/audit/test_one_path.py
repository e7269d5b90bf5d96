"""One path per change: every model is audited or exempted with a reason; every kind is
registered by the app that owns it; each service function writes exactly the records
it should, one per change (a named event is not doubled by a generic diff)."""

import datetime as dt
from contextlib import contextmanager

import pytest
from django.apps import apps
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from accounts.services import user_create, user_deactivate, user_update
from accounts.signatures import Reauthentication
from audit import kinds, registry
from audit.capture import build
from audit.models import AuditLog
from batches import services as batches
from core.context import bind_actor
from core.models import AuditedModel
from inspections import services as inspections
from notifications.services import broadcast_create
from rbac import services as rbac
from rbac.models import Role
from serializations import capture
from serializations import services as serials
from serializations.models import SerialNumber
from sites.services import site_create, site_delete, site_update
from tests.accounts.factories import UserFactory
from tests.conftest import assign
from tests.inspections.factories import in_spec_results
from tests.serializations.factories import epcis_document, packing_event
from tests.sites.factories import _gln

pytestmark = pytest.mark.django_db

REASON = "Change control CC-2026-118"


def test_every_model_is_audited_or_says_why_not():
    undecided, both = [], []
    for model in apps.get_models():
        audited, why = registry.get(model) is not None, registry.exemption(model)
        if audited and why:
            both.append(model._meta.label)
        elif not audited and not why:
            undecided.append(model._meta.label)
    assert undecided == [], "neither audited nor exempted with a reason"
    assert both == [], "audited and exempted at once"


def test_only_our_own_models_carry_the_mixin_and_third_party_ones_are_registered():
    for model in registry.audited_models():
        ours = issubclass(model, AuditedModel)
        assert ours or model._meta.label == "otp_totp.TOTPDevice", model


def test_the_kinds_of_each_domain_are_registered_by_its_app():
    names = {name for name, _ in kinds.choices()}
    assert {"batch_start", "batch_complete", "batch_release", "batch_reject"} <= names
    assert {"serial_generate", "serial_status", "inspection_complete"} <= names
    assert {"broadcast_create", "broadcast_complete", "broadcast_fail"} <= names
    # The column holds names only: no choices in the schema, so no audit migration per verb.
    assert not AuditLog._meta.get_field("action").choices


def test_an_unregistered_kind_is_refused_before_anything_is_written():
    with pytest.raises(LookupError):
        build(action="batch_teleport", resource_type="batches.batch")


@contextmanager
def records():
    """The change records written inside the block, oldest first."""
    seen = AuditLog.objects.count()
    found: list[AuditLog] = []
    yield found
    assert connection.in_atomic_block
    found.extend(
        AuditLog.objects.filter(action__in=kinds.change_kinds()).order_by("timestamp", "id")[seen:]
    )


def shape(found):
    return [(r.action, r.resource_type) for r in found]


def test_each_service_writes_exactly_its_records(django_capture_on_commit_callbacks):
    admin = UserFactory(username="qa.head")
    assign(admin, "admin")
    operator, releaser = UserFactory(), UserFactory()
    assign(operator, "admin")
    assign(releaser, "admin")

    since = timezone.now()

    def signed(user):
        return Reauthentication(user=user, check=lambda: True)

    def acting(user):
        return bind_actor(user_id=str(user.pk), username=user.username, change_reason=REASON)

    with acting(admin):
        with records() as found:
            site = site_create(
                code="ONE-01", name="One path", gln=_gln(9001), country="DE", timezone="UTC"
            )
        assert shape(found) == [("create", "sites.site")]
        assert found[0].actor_username == "qa.head"

        with records() as found:
            site_update(site=site, data={"name": "One path plant"})
        [update] = found
        assert (update.action, update.changed_fields) == ("update", ["name"])
        assert (update.old_values, update.new_values) == (
            {"name": "One path"},
            {"name": "One path plant"},
        )
        assert update.reason == REASON

        with records() as found:
            product = batches.product_create(gtin="04012345000016", name="Paracetamol 500 mg")
        assert shape(found) == [("create", "batches.product")]

        with records() as found:
            batches.product_update(product=product, data={"name": "Paracetamol 500 mg tablets"})
        assert shape(found) == [("update", "batches.product")]

        with records() as found:
            batch = batches.batch_create(
                actor=admin,
                product=product,
                site=site,
                batch_number="ONE-0001",
                planned_quantity=1000,
                manufacturing_date=dt.date(2026, 11, 1),
                expiry_date=dt.date(2028, 11, 1),
            )
        assert shape(found) == [("create", "batches.batch")]

        with records() as found:
            batches.batch_update(batch=batch, data={"planned_quantity": 900})
        [update] = found
        assert (update.old_values, update.new_values) == (
            {"planned_quantity": 1000},
            {"planned_quantity": 900},
        )

    with acting(operator):
        with records() as found:
            batch = batches.batch_start(actor=operator, batch=batch)
        [started] = found
        assert (started.action, started.actor_id) == ("batch_start", operator.pk)
        assert started.old_values["status"] == "planned"
        assert started.new_values["status"] == "in_production"

        with records() as found:
            serials.serials_generate(
                actor=operator, batch=batch, req=serials.GenerationRequest(count=5, length=8)
            )
        [generated] = found
        assert generated.action == "serial_generate"
        assert generated.new_values["touched"]["count"] == 5

        first = SerialNumber.objects.filter(batch=batch).order_by("id").first()
        with records() as found:
            serials.serials_move(
                actor=operator,
                refs=[serials.SerialRef(gtin=first.gtin, serial=first.serial)],
                status="packed",
            )
        [moved] = found
        assert moved.action == "serial_status"
        assert moved.new_values["touched"]["ids"] == [str(first.pk)]
        assert moved.new_values["touched"]["from"] == {"commissioned": 1}

        with records() as found:
            inspection = inspections.inspection_create(
                actor=operator, batch=batch, kind="assay", results=in_spec_results()
            )
        assert shape(found) == [("create", "inspections.inspection")]

        with records() as found:
            inspections.inspection_update(inspection=inspection, data={"notes": "Retested."})
        assert shape(found) == [("update", "inspections.inspection")]

        with records() as found:
            batch = batches.batch_complete(actor=operator, batch=batch, produced_quantity=880)
        [completed] = found
        assert completed.action == "batch_complete"
        assert completed.old_values == {
            "status": "in_production",
            "produced_quantity": None,
            "completed_at": None,
            "completed_by_id": None,
        }

    with acting(releaser):
        with records() as found:
            inspections.inspection_complete(
                reauth=signed(releaser),
                inspection=inspection,
                outcome="passed",
                meaning="approval",
            )
        assert shape(found) == [
            ("esignature", "accounts.electronicsignature"),
            ("inspection_complete", "inspections.inspection"),
        ]

        with records() as found:
            batches.batch_release(reauth=signed(releaser), batch=batch, meaning="approval")
        assert shape(found) == [
            ("esignature", "accounts.electronicsignature"),
            ("batch_release", "batches.batch"),
        ]
        released = found[1]
        assert released.actor_id == releaser.pk
        assert released.old_values["status"] == "quarantine"
        assert released.new_values["status"] == "released"
        assert released.new_values["meaning"] == "approval"

    with acting(operator):
        packs = list(SerialNumber.objects.filter(batch=batch).order_by("id")[:3])
        codes = [f"(01){p.gtin}(21){p.serial}" for p in packs]
        with override_settings(GS1_COMPANY_PREFIX="4012345"), records() as found:
            case = serials.container_create(site=site, kind="case")
        assert shape(found) == [("create", "serializations.container")]

        with records() as found:
            serials.container_pack(container=case, codes=codes[:2])
        assert shape(found) == [("container_pack", "serializations.container")]

        with records() as found:
            serials.container_unpack(container=case, codes=codes[1:2])
        assert shape(found) == [("container_unpack", "serializations.container")]

        partner = epcis_document(packing_event(site, case.sscc, packs[2:3]))
        with records() as found:
            capture.epcis_capture(actor=operator, document=partner)
        assert shape(found) == [("container_pack", "serializations.container")]

        with records() as found:
            serials.container_ship(container=case, destination_gln=_gln(9002))
        assert shape(found) == [("container_ship", "serializations.container")]
        assert found[0].new_values["packs"]["count"] == 2

    with acting(admin):
        other = batches.batch_create(
            actor=admin,
            product=product,
            site=site,
            batch_number="ONE-0002",
            planned_quantity=10,
            manufacturing_date=dt.date(2026, 11, 1),
            expiry_date=dt.date(2028, 11, 1),
        )
        other = batches.batch_start(actor=admin, batch=other)
        with records() as found:
            batches.batch_reject(reauth=signed(admin), batch=other, reason="Contaminated line")
        assert shape(found) == [
            ("esignature", "accounts.electronicsignature"),
            ("batch_reject", "batches.batch"),
        ]

        planned = batches.batch_create(
            actor=admin,
            product=product,
            site=site,
            batch_number="ONE-0003",
            planned_quantity=10,
            manufacturing_date=dt.date(2026, 11, 1),
            expiry_date=dt.date(2028, 11, 1),
        )
        with records() as found:
            batches.batch_delete(batch=planned)
        assert shape(found) == [("delete", "batches.batch")]

        with records() as found:
            user = user_create(
                username="new.person", email="new.person@example.com", password="A-long-pass-2026!"
            )
        assert shape(found) == [("create", "accounts.user")]
        assert "password" not in found[0].new_values or found[0].new_values["password"] != (
            "A-long-pass-2026!"
        )

        with records() as found:
            user_update(actor=admin, user=user, data={"first_name": "New"}, allowed=("first_name",))
        assert shape(found) == [("update", "accounts.user")]

        with records() as found:
            role = rbac.role_create(actor=admin, name="one-path", permissions=["site.view"])
        assert shape(found) == [("create", "rbac.role"), ("m2m_add", "rbac.role")]

        with records() as found:
            assignment = rbac.assignment_create(actor=admin, user=user, role=role, site=site)
        [assigned] = found
        assert (assigned.action, assigned.resource_type) == ("create", "rbac.roleassignment")
        assert assigned.site_id == site.pk

        with records() as found:
            rbac.assignment_delete(actor=admin, assignment=assignment)
        assert shape(found) == [("delete", "rbac.roleassignment")]

        with records() as found:
            user_deactivate(actor=admin, user=user)
        assert ("update", "accounts.user") in shape(found)

        with records() as found:
            broadcast_create(
                actor=admin,
                subject="Line stop",
                body="Line 3 stops.",
                role=Role.objects.get(name="admin"),
                site=None,
            )
        assert shape(found) == [("broadcast_create", "notifications.broadcast")]

        empty = site_create(
            code="ONE-02", name="Empty", gln=_gln(9002), country="DE", timezone="UTC"
        )
        with records() as found:
            site_delete(site=empty)
        assert shape(found) == [("delete", "sites.site")]

    # Every record of the walk names its person; none falls back to a system actor.
    walked = AuditLog.objects.filter(timestamp__gte=since)
    assert {r.actor_username for r in walked} <= {"qa.head", operator.username, releaser.username}
