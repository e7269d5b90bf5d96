"""Model-change capture: who changed what, from where, and why, one record per change."""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

# Loaded before any service: see test_services_import_in_a_fresh_process (a circular
# import between core.exceptions and core.parsers otherwise breaks ``sites.services``).
import rest_framework.views  # noqa: F401
from django.db import transaction

from audit.choices import Action
from audit.models import AuditLog
from core.context import bind_actor, system_username
from rbac.models import Permission, Role, RoleAssignment
from sites import services as site_services
from sites.models import Site
from tests.accounts.factories import UserFactory
from tests.conftest import DEFAULT_PASSWORD
from tests.sites.factories import SiteFactory

SITES = "/api/sites/"
ROLES = "/api/roles/"
ASSIGNMENTS = "/api/role-assignments/"
AGENT = "audit-capture-tests/1.0"
NEW_SITE = {
    "code": "fra-09",
    "name": "Frankfurt 9",
    "gln": "4012345000009",
    "country": "DE",
    "timezone": "Europe/Berlin",
}
REDACTED = "[REDACTED]"


def _changes(resource, action, response=None):
    """The change records of one object, made by ``response``'s request if given."""
    records = AuditLog.objects.filter(
        action=action,
        resource_type=resource._meta.label_lower,
        resource_id=str(resource.pk),
    )
    if response is not None:
        records = records.filter(request_id=response["X-Request-ID"])
    return list(records)


def _assert_request_context(record, response, user, method, path):
    assert record.actor_id == user.pk
    assert record.actor_username == user.username
    assert record.request_id == response["X-Request-ID"]
    assert record.ip == "127.0.0.1"
    assert record.user_agent == AGENT
    assert record.method == method
    assert record.path == path


# --- sites through the API -----------------------------------------------------------


@pytest.mark.django_db
def test_site_create_recorded_once_with_actor_and_request(admin, staff_user):
    response = admin.post(SITES, NEW_SITE, HTTP_USER_AGENT=AGENT)

    assert response.status_code == 201, response.content
    site = Site.objects.get(pk=response.json()["id"])
    [record] = _changes(site, Action.CREATE)
    _assert_request_context(record, response, staff_user, "POST", SITES)
    assert record.actor_username != "system"
    assert record.site_id == site.pk
    assert record.old_values is None
    assert record.new_values["name"] == "Frankfurt 9"
    assert record.new_values["code"] == "FRA-09"
    assert "created_at" not in record.new_values
    assert "name" in record.changed_fields


@pytest.mark.django_db
def test_site_update_records_old_and_new_value_of_each_changed_field(admin, staff_user):
    site = SiteFactory(name="Old name", address="")
    path = f"{SITES}{site.pk}/"

    response = admin.patch(
        path, {"name": "New name", "address": "Main St 1"}, HTTP_USER_AGENT=AGENT
    )

    assert response.status_code == 200, response.content
    [record] = _changes(site, Action.UPDATE)
    _assert_request_context(record, response, staff_user, "PATCH", path)
    assert record.site_id == site.pk
    assert record.changed_fields == ["address", "name"]
    assert record.old_values == {"address": "", "name": "Old name"}
    assert record.new_values == {"address": "Main St 1", "name": "New name"}


@pytest.mark.django_db
def test_site_update_without_a_change_records_no_change(admin):
    site = SiteFactory(name="Same")

    response = admin.patch(f"{SITES}{site.pk}/", {"name": "Same"})

    assert response.status_code == 200
    assert _changes(site, Action.UPDATE) == []


@pytest.mark.django_db
def test_site_delete_recorded_once_with_the_old_values(admin, staff_user):
    site = SiteFactory(name="Doomed")
    path = f"{SITES}{site.pk}/"

    response = admin.delete(path, HTTP_USER_AGENT=AGENT)

    assert response.status_code == 204
    [record] = _changes(site, Action.DELETE)
    _assert_request_context(record, response, staff_user, "DELETE", path)
    assert record.site_id == site.pk
    assert record.old_values["name"] == "Doomed"
    assert record.new_values is None


@pytest.mark.django_db
def test_each_api_write_makes_exactly_one_change_record(admin):
    site_id = admin.post(SITES, NEW_SITE).json()["id"]

    responses = [
        admin.patch(f"{SITES}{site_id}/", {"name": "Renamed"}),
        admin.delete(f"{SITES}{site_id}/"),
    ]

    for response in responses:
        assert response.status_code in (200, 204)
        changes = AuditLog.objects.filter(request_id=response["X-Request-ID"]).exclude(
            action=Action.REQUEST
        )
        assert changes.count() == 1


@pytest.mark.django_db
def test_change_reason_header_stored_on_every_record_of_the_request(admin):
    site = SiteFactory()
    reason = "CAPA-2024-117: corrected plant name"

    response = admin.patch(f"{SITES}{site.pk}/", {"name": "Fixed"}, HTTP_X_CHANGE_REASON=reason)

    assert response.status_code == 200
    records = list(AuditLog.objects.filter(request_id=response["X-Request-ID"]))
    assert {r.action for r in records} == {Action.UPDATE, Action.REQUEST}
    assert {r.reason for r in records} == {reason}


@pytest.mark.django_db
def test_no_reason_header_leaves_reason_empty(admin):
    site = SiteFactory()

    response = admin.patch(f"{SITES}{site.pk}/", {"name": "Fixed"})

    [record] = _changes(site, Action.UPDATE)
    assert record.request_id == response["X-Request-ID"]
    assert record.reason == ""


# --- roles and assignments --------------------------------------------------------------


@pytest.mark.django_db
def test_role_permission_add_and_remove_recorded(admin, staff_user):
    role = Role.objects.create(name="line-lead")
    role.permissions.set(Permission.objects.filter(codename__in=["site.view", "site.delete"]))

    response = admin.patch(
        f"{ROLES}{role.pk}/", {"permissions": ["site.view", "site.update"]}, HTTP_USER_AGENT=AGENT
    )

    assert response.status_code == 200, response.content
    [added] = _changes(role, Action.M2M_ADD, response)
    [removed] = _changes(role, Action.M2M_REMOVE, response)
    for record in (added, removed):
        _assert_request_context(record, response, staff_user, "PATCH", f"{ROLES}{role.pk}/")
        assert record.changed_fields == ["permissions"]
    assert added.new_values == {"permissions": ["site.update"]}
    removed_names = (removed.old_values or {}).get("permissions") or (removed.new_values or {}).get(
        "permissions"
    )
    assert removed_names == ["site.delete"]


@pytest.mark.django_db
def test_role_created_through_api_records_its_permissions(admin):
    response = admin.post(ROLES, {"name": "viewer", "permissions": ["site.view"]})

    assert response.status_code == 201, response.content
    role = Role.objects.get(pk=response.json()["id"])
    assert len(_changes(role, Action.CREATE)) == 1
    [added] = _changes(role, Action.M2M_ADD)
    assert added.new_values == {"permissions": ["site.view"]}


@pytest.mark.django_db
def test_role_assignment_create_and_delete_recorded(admin, staff_user):
    holder = UserFactory()
    site = SiteFactory()
    qa = Role.objects.get(name="qa")

    created = admin.post(
        ASSIGNMENTS,
        {"user": str(holder.pk), "role": str(qa.pk), "site": str(site.pk)},
        HTTP_USER_AGENT=AGENT,
    )
    assert created.status_code == 201, created.content
    assignment = RoleAssignment.objects.get(pk=created.json()["id"])
    deleted = admin.delete(f"{ASSIGNMENTS}{assignment.pk}/", HTTP_USER_AGENT=AGENT)

    assert deleted.status_code == 204
    [create] = _changes(assignment, Action.CREATE)
    [delete] = _changes(assignment, Action.DELETE)
    _assert_request_context(create, created, staff_user, "POST", ASSIGNMENTS)
    _assert_request_context(delete, deleted, staff_user, "DELETE", f"{ASSIGNMENTS}{assignment.pk}/")
    for record in (create, delete):
        assert record.site_id == site.pk
    assert create.new_values["user_id"] == str(holder.pk)
    assert create.new_values["role_id"] == str(qa.pk)
    assert delete.old_values["user_id"] == str(holder.pk)


# --- users ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_password_change_recorded_with_password_redacted(auth_client):
    user = UserFactory()
    client = auth_client(user)
    old_hash = user.password

    response = client.post(
        "/api/auth/password/change/",
        {"current_password": DEFAULT_PASSWORD, "new_password": "another-long-passphrase-77"},
    )

    assert response.status_code == 200, response.content
    user.refresh_from_db()
    [record] = _changes(user, Action.UPDATE, response)
    assert record.actor_id == user.pk
    assert "password" in record.changed_fields
    assert record.old_values["password"] == REDACTED
    assert record.new_values["password"] == REDACTED
    stored = f"{record.old_values} {record.new_values}"
    assert old_hash not in stored
    assert user.password not in stored


# --- outside a request ---------------------------------------------------------------


@pytest.mark.django_db
def test_change_outside_a_request_names_the_bound_actor():
    with bind_actor(user_id=None, username="nightly-job"), transaction.atomic():
        site = Site.objects.create(code="JOB-01", name="Job", gln="4012345000009", country="DE")

    [record] = _changes(site, Action.CREATE)
    assert record.actor_username == "nightly-job"
    assert record.actor_id is None
    assert record.request_id == ""
    assert record.method == ""
    assert record.ip is None


@pytest.mark.django_db
def test_service_call_outside_a_request_names_the_bound_user():
    operator = UserFactory(username="svc.operator")

    with bind_actor(user_id=str(operator.pk), username=operator.username):
        site = site_services.site_create(**NEW_SITE)

    [record] = _changes(site, Action.CREATE)
    assert record.actor_id == operator.pk
    assert record.actor_username == "svc.operator"


def test_services_import_in_a_fresh_process():
    """A nightly job or ``manage.py shell`` imports a service before any DRF view."""
    code = "import django; django.setup(); import sites.services, rbac.services"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-1500:]


@pytest.mark.django_db
def test_change_with_no_bound_actor_is_recorded_as_system():
    with transaction.atomic():
        site = Site.objects.create(code="SYS-01", name="Sys", gln="4012345000009", country="DE")

    [record] = _changes(site, Action.CREATE)
    assert record.actor_username == system_username()
    assert re.fullmatch(r"system:[\w.-]+:[^@]+@.+", record.actor_username)
    assert record.actor_id is None


@pytest.mark.django_db
def test_actor_binding_ends_with_its_block():
    with bind_actor(user_id=str(uuid.uuid4()), username="nightly-job"):
        pass

    with transaction.atomic():
        site = Site.objects.create(code="SYS-02", name="Sys", gln="4012345000009", country="DE")

    [record] = _changes(site, Action.CREATE)
    assert record.actor_username == system_username()
