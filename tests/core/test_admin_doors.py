"""The admin is a second door to the same data: each change the API refuses, tried in the
admin by a staff user holding a little less than needed, leaves the database as it was.

It starts with the escalations a staff user would try first: making themselves a
superuser, assigning themselves the admin role, an operator moving a quarantined batch
or changing its quantity."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.messages import get_messages

from accounts.models import ElectronicSignature, User
from batches.choices import BatchStatus
from batches.models import Batch, Product
from core.admin_base import REASON_FIELD
from inspections.models import Inspection
from rbac.models import Role, RoleAssignment
from rbac.resolver import effective_permissions
from sites.models import Site
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.batches.factories import BatchFactory, ProductFactory
from tests.core.admin_helpers import admin_client, change_form_data, role_with, staff_holding
from tests.inspections.factories import InspectionFactory
from tests.serializations.factories import make_serials
from tests.sites.factories import SiteFactory

pytestmark = pytest.mark.django_db


def _errors(response: Any) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request)]


# --- escalations through the admin -----------------------------------------------------


def test_a_user_updater_cannot_make_themselves_superuser_in_the_admin():
    mallory = staff_holding("user.view", "user.update", username="mallory")
    client = admin_client(mallory)
    url = f"/admin/accounts/user/{mallory.pk}/change/"
    data = change_form_data(client.get(url))

    response = client.post(url, {**data, "is_superuser": "on", "is_staff": "on"})

    mallory.refresh_from_db()
    assert response.status_code in (200, 302)
    assert not mallory.is_superuser
    assert not effective_permissions(mallory).is_superuser


def test_own_access_flags_are_read_only_on_ones_own_page():
    mallory = staff_holding("user.view", "user.update")
    client = admin_client(mallory)

    form = client.get(f"/admin/accounts/user/{mallory.pk}/change/").context["adminform"].form

    assert not {"is_superuser", "is_staff", "is_active"} & set(form.fields)
    assert {"first_name", "email"} <= set(form.fields)


def test_a_role_manager_cannot_assign_themselves_the_admin_role_in_the_admin():
    mallory = staff_holding("role.view", "role.manage", "user.view")
    client = admin_client(mallory)
    admin_role = Role.objects.get(name="admin")

    response = client.post(
        "/admin/rbac/roleassignment/add/",
        {"user": str(mallory.pk), "role": str(admin_role.pk), "site": ""},
    )

    assert not RoleAssignment.objects.filter(user=mallory, role=admin_role).exists()
    assert any("every permission you hold" in m for m in _errors(response))
    assert not effective_permissions(User.objects.get(pk=mallory.pk)).has("user.update")


def test_a_role_manager_cannot_assign_themselves_the_admin_role_on_their_user_page():
    mallory = staff_holding("role.view", "role.manage", "user.view", "user.update")
    client = admin_client(mallory)
    url = f"/admin/accounts/user/{mallory.pk}/change/"
    data = change_form_data(client.get(url))
    prefix = "role_assignments"
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": str(total + 1),
            f"{prefix}-{total}-role": str(Role.objects.get(name="admin").pk),
            f"{prefix}-{total}-site": "",
            f"{prefix}-{total}-user": str(mallory.pk),
        }
    )

    client.post(url, data)

    assert not RoleAssignment.objects.filter(user=mallory, role__name="admin").exists()


def test_a_site_operator_cannot_move_a_quarantined_batch_or_change_its_quantity():
    bcn, fra = SiteFactory(code="BCN-02"), SiteFactory(code="FRA-01")
    operator = staff_holding("batch.view", "batch.update", "batch.create", site=bcn)
    batch = BatchFactory(site=bcn, status=BatchStatus.QUARANTINE, planned_quantity=10_000)
    client = admin_client(operator)
    url = f"/admin/batches/batch/{batch.pk}/change/"

    response = client.post(
        url,
        {
            "product": str(batch.product_id),
            "site": str(fra.pk),
            "batch_number": batch.batch_number,
            "planned_quantity": "1",
            "manufacturing_date": "2025-03-01",
            "expiry_date": "2027-03-01",
        },
    )

    batch.refresh_from_db()
    assert response.status_code == 403
    assert (batch.site_id, batch.planned_quantity) == (bcn.pk, 10_000)


def test_an_editable_batch_keeps_its_site_product_and_number():
    bcn, fra = SiteFactory(), SiteFactory()
    operator = staff_holding("batch.view", "batch.update", "batch.create", site=bcn)
    batch = BatchFactory(site=bcn, planned_quantity=10_000)
    other_product = ProductFactory()
    client = admin_client(operator)
    url = f"/admin/batches/batch/{batch.pk}/change/"
    data = change_form_data(client.get(url))

    client.post(
        url,
        {
            **data,
            "site": str(fra.pk),
            "product": str(other_product.pk),
            "batch_number": "MOVED-1",
            "status": "released",
            "planned_quantity": "9000",
            REASON_FIELD: "Planned quantity corrected",
        },
    )

    batch.refresh_from_db()
    assert batch.planned_quantity == 9000  # the one field the API lets change here
    assert batch.site_id == bcn.pk
    assert batch.product_id != other_product.pk
    assert batch.batch_number != "MOVED-1"
    assert batch.status == BatchStatus.PLANNED


def test_another_sites_batch_is_404_in_the_admin():
    bcn, fra = SiteFactory(), SiteFactory()
    operator = staff_holding("batch.view", "batch.update", site=bcn)
    batch = BatchFactory(site=fra)
    client = admin_client(operator)
    url = f"/admin/batches/batch/{batch.pk}/change/"

    assert client.get(url).status_code == 404
    assert client.post(url, {"planned_quantity": "1"}).status_code == 404
    assert client.post(f"/admin/batches/batch/{batch.pk}/delete/", {"post": "yes"}).status_code in (
        403,
        404,
    )
    assert Batch.objects.filter(pk=batch.pk, planned_quantity=batch.planned_quantity).exists()


def test_a_batch_can_be_planned_only_at_a_site_where_the_user_may_plan():
    bcn, fra = SiteFactory(), SiteFactory()
    operator = staff_holding("batch.view", "batch.create", site=bcn)
    product = ProductFactory()
    client = admin_client(operator)

    form = client.get("/admin/batches/batch/add/").context["adminform"].form
    response = client.post(
        "/admin/batches/batch/add/",
        {
            "product": str(product.pk),
            "site": str(fra.pk),
            "batch_number": "L-ADMIN-1",
            "planned_quantity": "100",
            "manufacturing_date": "2026-01-01",
            "expiry_date": "2028-01-01",
        },
    )

    assert set(form.fields["site"].queryset) == {bcn}
    assert response.status_code == 200  # the form's error: not a choice
    assert not Batch.objects.filter(batch_number="L-ADMIN-1").exists()


def test_a_batch_planned_in_the_admin_goes_through_the_service():
    site = SiteFactory()
    operator = staff_holding("batch.view", "batch.create", site=site)
    product = ProductFactory(is_active=False)
    client = admin_client(operator)

    response = client.post(
        "/admin/batches/batch/add/",
        {
            "product": str(product.pk),
            "site": str(site.pk),
            "batch_number": "L-ADMIN-2",
            "planned_quantity": "100",
            "manufacturing_date": "2026-01-01",
            "expiry_date": "2028-01-01",
        },
    )

    assert not Batch.objects.filter(batch_number="L-ADMIN-2").exists()
    assert any("inactive" in m for m in _errors(response))


# --- lifecycle actions, signed ------------------------------------------------------------


def _action(client: Any, batch: Batch, action: str, **fields: str) -> Any:
    body = {"action": action, "_selected_action": [str(batch.pk)], **fields}
    if fields:
        body["apply"] = "1"
    return client.post("/admin/batches/batch/", body)


def test_release_in_the_admin_asks_for_the_signature_and_signs():
    site = SiteFactory()
    operator = UserFactory()
    batch = BatchFactory(site=site, status=BatchStatus.QUARANTINE, completed_by=operator)
    InspectionFactory(batch=batch, passed=True)
    qa = staff_holding("batch.view", "batch.release", site=site)
    client = admin_client(qa)

    asked = _action(client, batch, "release_batch")
    signed = _action(
        client, batch, "release_batch", password=DEFAULT_PASSWORD, meaning="approval", reason="OK"
    )

    batch.refresh_from_db()
    assert asked.status_code == 200 and "password" in asked.context["form"].fields
    assert signed.status_code == 302
    assert batch.status == BatchStatus.RELEASED
    signature = ElectronicSignature.objects.get(pk=batch.release_signature_id)
    assert (signature.signer_id, signature.meaning) == (qa.pk, "approval")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"password": "wrong-password-1", "meaning": "approval"}, "password"),
        ({"password": DEFAULT_PASSWORD, "meaning": "rejection"}, "meaning"),
    ],
)
def test_release_in_the_admin_refuses_a_wrong_password_or_meaning(fields, problem):
    site = SiteFactory()
    batch = BatchFactory(site=site, status=BatchStatus.QUARANTINE, completed_by=UserFactory())
    InspectionFactory(batch=batch, passed=True)
    qa = staff_holding("batch.view", "batch.release", site=site)

    _action(admin_client(qa), batch, "release_batch", **fields)

    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUARANTINE and batch.release_signature_id is None


def test_release_in_the_admin_keeps_segregation_of_duties():
    site = SiteFactory()
    qa = staff_holding("batch.view", "batch.release", site=site)
    batch = BatchFactory(site=site, status=BatchStatus.QUARANTINE, completed_by=qa)
    InspectionFactory(batch=batch, passed=True)

    response = _action(
        admin_client(qa), batch, "release_batch", password=DEFAULT_PASSWORD, meaning="approval"
    )

    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUARANTINE
    assert any("Segregation of duties" in m for m in _errors(response))


def test_lifecycle_actions_are_offered_only_to_holders():
    site = SiteFactory()
    viewer = staff_holding("batch.view", "batch.update", site=site)
    batch = BatchFactory(site=site)
    client = admin_client(viewer)

    action_form = client.get("/admin/batches/batch/").context["action_form"]
    actions = action_form.fields["action"].choices if action_form else []
    response = _action(client, batch, "start_batches", apply="1")

    assert not {"start_batches", "release_batch"} & {name for name, _ in actions}
    batch.refresh_from_db()
    assert batch.status == BatchStatus.PLANNED
    assert response.status_code == 200  # "No action selected": the action is unknown here


def test_start_in_the_admin_only_for_batches_of_the_users_sites():
    here, there = SiteFactory(), SiteFactory()
    operator = staff_holding("batch.view", "batch.start", site=here)
    RoleAssignment.objects.create(user=operator, role=role_with("batch.view"), site=there)
    mine, theirs = BatchFactory(site=here), BatchFactory(site=there)

    admin_client(operator).post(
        "/admin/batches/batch/",
        {
            "action": "start_batches",
            "_selected_action": [str(mine.pk), str(theirs.pk)],
            "apply": "1",
        },
    )

    assert Batch.objects.get(pk=mine.pk).status == BatchStatus.IN_PRODUCTION
    assert Batch.objects.get(pk=theirs.pk).status == BatchStatus.PLANNED


def test_inspection_completion_in_the_admin_is_signed_with_a_fitting_meaning():
    site = SiteFactory()
    inspection = InspectionFactory(batch__site=site)
    qa = staff_holding("inspection.view", "inspection.complete", site=site)
    client = admin_client(qa)
    body = {"action": "complete_inspection", "_selected_action": [str(inspection.pk)]}

    client.post(
        "/admin/inspections/inspection/",
        {**body, "apply": "1", "outcome": "passed", "meaning": "rejection", "password": "x"},
    )
    refused = Inspection.objects.get(pk=inspection.pk).status
    client.post(
        "/admin/inspections/inspection/",
        {
            **body,
            "apply": "1",
            "outcome": "passed",
            "meaning": "review",
            "password": DEFAULT_PASSWORD,
        },
    )

    assert refused == "pending"
    assert Inspection.objects.get(pk=inspection.pk).status == "passed"


# --- products, roles, users ---------------------------------------------------------------


def test_a_products_gtin_is_frozen_once_serials_exist_in_the_admin():
    batch = BatchFactory(status=BatchStatus.IN_PRODUCTION)
    make_serials(batch, ["A1", "A2"])
    manager = staff_holding("product.view", "product.manage")
    client = admin_client(manager)
    url = f"/admin/batches/product/{batch.product_id}/change/"
    data = change_form_data(client.get(url))
    gtin = batch.product.gtin

    client.post(
        url, {**data, "gtin": "04012345999997", "name": "Renamed", REASON_FIELD: "New name"}
    )

    product = Product.objects.get(pk=batch.product_id)
    assert product.gtin == gtin
    assert product.name == "Renamed"


def test_a_role_manager_cannot_strip_the_admin_role_in_the_admin():
    manager = staff_holding("role.view", "role.manage")
    admin_role = Role.objects.get(name="admin")
    before = set(admin_role.permissions.values_list("codename", flat=True))
    client = admin_client(manager)
    url = f"/admin/rbac/role/{admin_role.pk}/change/"
    data = change_form_data(client.get(url))
    role_view = admin_role.permissions.get(codename="role.view")

    response = client.post(url, {**data, "permissions": [str(role_view.pk)]})

    assert set(admin_role.permissions.values_list("codename", flat=True)) == before
    assert any("only grant permissions you hold" in m for m in _errors(response))


def test_a_role_manager_cannot_delete_a_role_holding_more_than_they_do():
    manager = staff_holding("role.view", "role.manage")
    powerful = role_with("batch.release", "role.view", name="releasers")

    admin_client(manager).post(f"/admin/rbac/role/{powerful.pk}/delete/", {"post": "yes"})

    assert Role.objects.filter(pk=powerful.pk).exists()


def test_a_user_updater_cannot_take_over_a_superuser_in_the_admin():
    root = UserFactory(is_superuser=True, is_staff=True, email="root@example.com")
    mallory = staff_holding("user.view", "user.update")
    client = admin_client(mallory)

    change = client.post(
        f"/admin/accounts/user/{root.pk}/change/",
        {"username": root.username, "email": "mallory@example.com"},
    )
    password = client.post(
        f"/admin/accounts/user/{root.pk}/password/",
        {"password1": "a-long-new-passphrase-9", "password2": "a-long-new-passphrase-9"},
    )

    root.refresh_from_db()
    assert (change.status_code, password.status_code) == (403, 403)
    assert root.email == "root@example.com"
    assert root.check_password(DEFAULT_PASSWORD)


def test_a_password_set_in_the_admin_ends_the_users_sessions(login):
    target = UserFactory()
    tokens = login(target)
    manager = staff_holding("user.view", "user.update")

    admin_client(manager).post(
        f"/admin/accounts/user/{target.pk}/password/",
        {
            "password1": "a-long-new-passphrase-9",
            "password2": "a-long-new-passphrase-9",
            "usable_password": "true",
        },
    )

    target.refresh_from_db()
    assert target.check_password("a-long-new-passphrase-9")
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.get("/api/auth/profile/").status_code == 401


def test_sites_are_added_in_the_admin_only_with_a_global_grant():
    site = SiteFactory()
    local = staff_holding("site.view", "site.create", site=site)
    body = {
        "code": "NEW-01",
        "name": "New plant",
        "gln": "4012345000016",
        "country": "DE",
        "timezone": "UTC",
        "is_active": "on",
    }

    response = admin_client(local).post("/admin/sites/site/add/", body)

    assert response.status_code == 403
    assert not Site.objects.filter(code="NEW-01").exists()


def test_a_role_is_added_and_removed_on_a_users_page_through_the_service():
    manager = staff_holding("user.view", "user.update", "role.view", "role.manage", "site.view")
    target = UserFactory()
    viewers = role_with("site.view", name="site-viewers")
    client = admin_client(manager)
    url = f"/admin/accounts/user/{target.pk}/change/"
    data = change_form_data(client.get(url))
    prefix = "role_assignments"
    total = int(data[f"{prefix}-TOTAL_FORMS"])

    added = client.post(
        url,
        {
            **data,
            f"{prefix}-TOTAL_FORMS": str(total + 1),
            f"{prefix}-{total}-role": str(viewers.pk),
            f"{prefix}-{total}-site": "",
            f"{prefix}-{total}-user": str(target.pk),
        },
    )
    assignment = RoleAssignment.objects.get(user=target, role=viewers)
    data = change_form_data(client.get(url))
    removed = client.post(url, {**data, f"{prefix}-0-DELETE": "on"})

    assert (added.status_code, removed.status_code) == (302, 302)
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()


def test_a_signature_from_a_flooding_address_is_an_error_message_not_a_500(monkeypatch):
    """The sign-in flood guard answers re-authentication in the admin as in the API."""
    from accounts import signin_guard

    frozen = (time.time() // 60) * 60 + 1
    monkeypatch.setattr(signin_guard, "_now", lambda: frozen)
    site = SiteFactory()
    batch = BatchFactory(site=site, status=BatchStatus.QUARANTINE, completed_by=UserFactory())
    InspectionFactory(batch=batch, passed=True)
    qa = staff_holding("batch.view", "batch.release", site=site)
    for _ in range(20):  # the address's whole budget of failed checks, used up
        signin_guard.record_failure("127.0.0.1")

    response = _action(
        admin_client(qa), batch, "release_batch", password=DEFAULT_PASSWORD, meaning="approval"
    )

    assert response.status_code == 302
    assert any(signin_guard.FLOODED in m for m in _errors(response))
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUARANTINE


def test_ones_own_password_is_not_reset_in_the_admin(login):
    """The API changes one's own password only with the current one: so does the admin."""
    manager = staff_holding("user.view", "user.update")
    new = "a-long-new-passphrase-9"

    response = admin_client(manager).post(
        f"/admin/accounts/user/{manager.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )

    manager.refresh_from_db()
    assert manager.check_password(DEFAULT_PASSWORD)
    assert any("current one" in m for m in _errors(response))


def test_a_password_reset_in_the_admin_tells_the_user(
    mailoutbox, django_capture_on_commit_callbacks
):
    target = UserFactory(email="target@example.com")
    manager = staff_holding("user.view", "user.update")
    new = "a-long-new-passphrase-9"

    with django_capture_on_commit_callbacks(execute=True):
        admin_client(manager).post(
            f"/admin/accounts/user/{target.pk}/password/",
            {"password1": new, "password2": new, "usable_password": "true"},
        )

    assert [m.to for m in mailoutbox] == [["target@example.com"]]
