"""Reasons for change (EU GMP Annex 11 §9): updates, deletes and status moves of GMP
records need one, through every door (API, admin, commands, tasks, the ORM itself);
creates, reads and other models do not."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.forms.models import model_to_dict
from django.test import override_settings

from audit.choices import Action
from audit.models import AuditLog
from batches import events as batch_events
from batches import services as batch_services
from batches.choices import BatchStatus
from batches.models import Batch, Product
from core import jobs, reasons
from core.admin_base import REASON_FIELD
from core.context import bind_actor, get_context
from core.management.base import ActorCommand
from core.models import OutboxEmail
from inspections.models import Inspection
from serializations import events as serial_events
from serializations.models import SerialNumber
from sites.models import Site
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory, ProductFactory
from tests.conftest import DEFAULT_PASSWORD, assign
from tests.core.admin_helpers import admin_client, change_form_data
from tests.inspections.factories import InspectionFactory
from tests.serializations.factories import make_serials
from tests.sites.factories import SiteFactory

REASON = "CAPA-2026-031: planned quantity corrected"


def _serial(batch):
    [row] = make_serials(batch, ["R1"])
    return row


# name -> (make the record, method, url, body, model). Each is a change the caller may
# make, so the only thing that can refuse it is the missing reason.
CASES = {
    "product patch": (
        lambda: ProductFactory(),
        "patch",
        lambda o: f"/api/products/{o.pk}/",
        {"name": "Renamed"},
        Product,
    ),
    "product delete": (
        lambda: ProductFactory(),
        "delete",
        lambda o: f"/api/products/{o.pk}/",
        None,
        Product,
    ),
    "batch patch": (
        lambda: BatchFactory(),
        "patch",
        lambda o: f"/api/batches/{o.pk}/",
        {"planned_quantity": 4321},
        Batch,
    ),
    "batch delete": (
        lambda: BatchFactory(),
        "delete",
        lambda o: f"/api/batches/{o.pk}/",
        None,
        Batch,
    ),
    "inspection patch": (
        lambda: InspectionFactory(),
        "patch",
        lambda o: f"/api/inspections/{o.pk}/",
        {"notes": "Re-read the balance."},
        Inspection,
    ),
    "serial status move": (
        lambda: _serial(BatchFactory(status=BatchStatus.RELEASED)),
        "post",
        lambda o: "/api/serials/status/",
        None,  # built from the row
        SerialNumber,
    ),
}


def _body(name, obj):
    body = CASES[name][3]
    if name == "serial status move":
        return {"serials": [{"gtin": obj.gtin, "serial": obj.serial}], "status": "packed"}
    return body


def _send(client, name, obj, *, body_extra=None, **headers):
    _, method, url, _, _ = CASES[name]
    body = _body(name, obj)
    if body is None:
        return getattr(client, method)(url(obj), **headers)
    return getattr(client, method)(
        url(obj), {**body, **(body_extra or {})}, format="json", **headers
    )


def _state(obj):
    row = type(obj).objects.filter(pk=obj.pk).first()
    return None if row is None else model_to_dict(row)


def _changes(response):
    return AuditLog.objects.filter(request_id=response["X-Request-ID"]).exclude(
        action=Action.REQUEST
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", CASES)
def test_without_a_reason_a_gmp_change_is_400_and_changes_nothing(admin, name, mailoutbox):
    obj = CASES[name][0]()
    before = _state(obj)

    response = _send(admin, name, obj)

    assert response.status_code == 400, response.content
    assert response.data["reason"][0].code == "reason_required"
    assert "reason" in response.json()
    assert _state(obj) == before
    assert not _changes(response).exists()
    assert not OutboxEmail.objects.exists() and mailoutbox == []


@pytest.mark.django_db
@pytest.mark.parametrize("name", CASES)
def test_the_header_reason_is_stored_on_the_change_record(admin, staff_user, name):
    obj = CASES[name][0]()
    before = _state(obj)

    response = _send(admin, name, obj, HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code in (200, 204), response.content
    assert _state(obj) != before
    changes = list(_changes(response))
    assert changes and {r.reason for r in changes} == {REASON}
    assert {r.actor_username for r in changes} == {staff_user.username}


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["product patch", "batch patch", "inspection patch"])
def test_a_body_reason_is_stored_like_the_header(admin, name):
    obj = CASES[name][0]()

    response = _send(admin, name, obj, body_extra={"reason": REASON})

    assert response.status_code == 200, response.content
    assert {r.reason for r in _changes(response)} == {REASON}
    assert "reason" not in response.json()  # write only


@pytest.mark.django_db
def test_a_decommission_code_is_that_moves_reason(admin):
    row = _serial(BatchFactory(status=BatchStatus.RELEASED))
    body = {"serials": [{"gtin": row.gtin, "serial": row.serial}], "status": "decommissioned"}

    response = admin.post("/api/serials/status/", {**body, "reason": "damaged"}, format="json")

    assert response.status_code == 200, response.content
    [record] = _changes(response)
    assert record.action == serial_events.SERIAL_STATUS and record.reason == "damaged"


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["   ", "\t"])
def test_a_whitespace_reason_is_none(admin, header):
    batch = BatchFactory()

    response = _send(admin, "batch patch", batch, HTTP_X_CHANGE_REASON=header)

    assert response.status_code == 400
    assert response.data["reason"][0].code == "reason_required"


@pytest.mark.django_db
def test_an_over_long_reason_is_400_and_changes_nothing(admin):
    batch = BatchFactory()
    before = _state(batch)

    header = _send(admin, "batch patch", batch, HTTP_X_CHANGE_REASON="x" * 2001)
    body = _send(admin, "batch patch", batch, body_extra={"reason": "x" * 2001})

    assert header.status_code == 400 and header.json()["code"] == "reason_too_long"
    assert body.status_code == 400 and "reason" in body.json()
    assert _state(batch) == before
    assert not AuditLog.objects.filter(resource_id=str(batch.pk), action=Action.UPDATE).exists()


@pytest.mark.django_db
def test_creates_need_no_reason(admin):
    response = admin.post(
        "/api/products/", {"gtin": "04012345000016", "name": "Paracetamol"}, format="json"
    )

    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_users_and_sites_keep_an_optional_reason(admin):
    site, user = SiteFactory(), UserFactory()

    site_response = admin.patch(f"/api/sites/{site.pk}/", {"name": "Renamed"}, format="json")
    user_response = admin.patch(f"/api/users/{user.pk}/", {"first_name": "Ann"}, format="json")

    assert site_response.status_code == 200, site_response.content
    assert user_response.status_code == 200, user_response.content
    assert {r.reason for r in _changes(site_response)} == {""}


@pytest.mark.django_db
def test_the_setting_names_the_models(admin):
    site, product = SiteFactory(), ProductFactory()

    with override_settings(AUDIT_REASON_REQUIRED_FOR=["sites.Site"]):
        site_response = admin.patch(f"/api/sites/{site.pk}/", {"name": "X"}, format="json")
        product_response = admin.patch(f"/api/products/{product.pk}/", {"name": "Y"}, format="json")

    assert site_response.status_code == 400
    assert site_response.data["reason"][0].code == "reason_required"
    assert product_response.status_code == 200
    assert Site.objects.get(pk=site.pk).name == site.name


@pytest.mark.django_db
def test_the_orm_itself_refuses_a_gmp_change_without_a_reason():
    """The net under every door: a write that bypasses the services (the shell, a data
    fix) rolls back with its transaction."""
    batch = BatchFactory()

    with pytest.raises(reasons.ReasonRequired), transaction.atomic():
        Batch.objects.filter(pk=batch.pk).update(planned_quantity=1)

    assert Batch.objects.get(pk=batch.pk).planned_quantity == batch.planned_quantity
    with reasons.given(REASON):
        Batch.objects.filter(pk=batch.pk).update(planned_quantity=1)
    record = AuditLog.objects.get(action=Action.BULK_UPDATE, resource_type="batches.batch")
    assert record.reason == REASON


@pytest.mark.django_db
def test_lifecycle_acts_need_no_reason_and_a_rejection_carries_its_own(auth_client):
    site = SiteFactory()
    operator, qa = UserFactory(), UserFactory()
    assign(operator, "operator", site=site)
    assign(qa, "qa", site=site)
    batch = BatchFactory(site=site)

    started = auth_client(operator).post(f"/api/batches/{batch.pk}/start/", {}, format="json")
    rejected = auth_client(qa).post(
        f"/api/batches/{batch.pk}/reject/",
        {"password": DEFAULT_PASSWORD, "reason": "Particles found in vials."},
        format="json",
    )

    assert started.status_code == 200, started.content
    assert {r.reason for r in _changes(started)} == {""}
    assert rejected.status_code == 200, rejected.content
    # One change, one record: the rejection's named event, carrying the signature's reason.
    [record] = [r for r in _changes(rejected) if r.resource_type == "batches.batch"]
    assert (record.action, record.reason) == (
        batch_events.BATCH_REJECT,
        "Particles found in vials.",
    )


# --- the admin ----------------------------------------------------------------------------


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.mark.django_db
def test_the_admin_change_form_asks_for_the_reason(superuser):
    batch = BatchFactory()
    client = admin_client(superuser)
    url = f"/admin/batches/batch/{batch.pk}/change/"
    data = {**change_form_data(client.get(url)), "planned_quantity": "4321"}

    refused = client.post(url, data)

    assert refused.status_code == 200
    assert REASON_FIELD in refused.context["adminform"].form.errors
    assert Batch.objects.get(pk=batch.pk).planned_quantity == batch.planned_quantity
    assert not AuditLog.objects.filter(action=Action.UPDATE, resource_type="batches.batch").exists()

    saved = client.post(url, {**data, REASON_FIELD: REASON})

    assert saved.status_code == 302
    assert Batch.objects.get(pk=batch.pk).planned_quantity == 4321
    record = AuditLog.objects.get(action=Action.UPDATE, resource_id=str(batch.pk))
    assert (record.reason, record.actor_username) == (REASON, superuser.username)


@pytest.mark.django_db
def test_the_admin_delete_confirmation_asks_for_the_reason(superuser):
    product = ProductFactory()
    client = admin_client(superuser)
    url = f"/admin/batches/product/{product.pk}/delete/"

    page = client.get(url)
    refused = client.post(url, {"post": "yes"})

    assert REASON_FIELD in page.content.decode()
    assert refused.status_code == 302 and refused["Location"] == url
    assert Product.objects.filter(pk=product.pk).exists()

    client.post(url, {"post": "yes", REASON_FIELD: REASON})

    assert not Product.objects.filter(pk=product.pk).exists()
    record = AuditLog.objects.get(action=Action.DELETE, resource_id=str(product.pk))
    assert (record.reason, record.actor_username) == (REASON, superuser.username)


@pytest.mark.django_db
def test_the_admin_asks_no_reason_for_a_site(superuser):
    site = SiteFactory()
    client = admin_client(superuser)
    url = f"/admin/sites/site/{site.pk}/change/"
    page = client.get(url)

    client.post(url, {**change_form_data(page), "name": "Renamed"})

    assert REASON_FIELD not in page.context["adminform"].form.fields
    assert Site.objects.get(pk=site.pk).name == "Renamed"


# --- commands and tasks -------------------------------------------------------------------


class ReplanCommand(ActorCommand):
    """A command that changes a GMP record through the service, as any would."""

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("batch")

    def handle_as(self, actor, *args, **options):
        batch = Batch.objects.get(pk=options["batch"])
        batch_services.batch_update(batch=batch, data={"planned_quantity": 77})


@pytest.mark.django_db
def test_a_command_that_changes_a_gmp_record_needs_reason(staff_user):
    batch = BatchFactory()
    args = [str(batch.pk), "--actor", staff_user.username]

    with pytest.raises(CommandError, match="--reason"):
        call_command(ReplanCommand(), *args)
    assert Batch.objects.get(pk=batch.pk).planned_quantity == batch.planned_quantity

    call_command(ReplanCommand(), *args, "--reason", REASON)

    assert Batch.objects.get(pk=batch.pk).planned_quantity == 77
    record = AuditLog.objects.get(action=Action.UPDATE, resource_id=str(batch.pk))
    assert (record.reason, record.actor_username) == (REASON, staff_user.username)


@pytest.mark.django_db
def test_an_over_long_command_reason_is_refused(staff_user):
    batch = BatchFactory()

    with pytest.raises(CommandError, match="2000"):
        call_command(
            ReplanCommand(), str(batch.pk), "--actor", staff_user.username, "--reason", "x" * 2001
        )


def test_a_task_carries_the_reason_of_the_request_that_published_it():
    headers: dict = {}
    with bind_actor(user_id="7", username="qa.lead", change_reason=REASON):
        jobs.on_publish(headers=headers)
    task = SimpleNamespace(name="app.tasks.work", request=SimpleNamespace(headers=headers))

    jobs.bind_task_actor(task_id="t-1", task=task)
    try:
        assert (get_context().username, get_context().change_reason) == ("qa.lead", REASON)
    finally:
        jobs.unbind_task_actor(task_id="t-1")
    assert get_context().change_reason == ""
