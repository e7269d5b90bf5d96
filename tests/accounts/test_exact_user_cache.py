"""The cached user is exact: any write to the user row, through any path, is read back on
the next request (the printed name of a signature, the username of an audit record),
and a warm request makes no query for the cache generation, at the production poll."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.models import User
from audit.models import AuditLog
from core.cache import current_generation
from tests.accounts.factories import UserFactory
from tests.conftest import assign
from tests.core.admin_helpers import admin_client, change_form_data
from tests.sites.factories import SiteFactory

pytestmark = pytest.mark.django_db
PROFILE = "/api/auth/profile/"


@pytest.fixture
def person(auth_client: Any) -> tuple[User, Any]:
    user = UserFactory(first_name="Old", username="person")
    assign(user, "admin")
    client = auth_client(user)
    assert client.get(PROFILE).json()["first_name"] == "Old"  # now cached
    return user, client


def _rename_by_save(user: User) -> None:
    fresh = User.objects.get(pk=user.pk)
    fresh.first_name = "New"
    fresh.save()


def _rename_by_update_fields(user: User) -> None:
    fresh = User.objects.get(pk=user.pk)
    fresh.first_name = "New"
    fresh.save(update_fields=["first_name"])


def _rename_by_queryset(user: User) -> None:
    User.objects.filter(pk=user.pk).update(first_name="New")


def _rename_by_service(user: User) -> None:
    services.profile_update(user=User.objects.get(pk=user.pk), data={"first_name": "New"})


def _rename_in_the_admin(user: User) -> None:
    staff = UserFactory(is_staff=True)
    assign(staff, "admin")
    client = admin_client(staff)
    url = f"/admin/accounts/user/{user.pk}/change/"
    client.post(url, {**change_form_data(client.get(url)), "first_name": "New"})


@pytest.mark.parametrize(
    "rename",
    [
        _rename_by_save,
        _rename_by_update_fields,
        _rename_by_queryset,
        _rename_by_service,
        _rename_in_the_admin,
    ],
    ids=lambda f: f.__name__.removeprefix("_rename_"),
)
def test_a_renamed_user_is_read_back_on_the_next_request(person, rename):
    user, client = person

    rename(user)

    assert client.get(PROFILE).json()["first_name"] == "New"


def test_own_profile_update_is_read_back_at_once(person):
    """The reported defect: PATCH then GET showed the old name until the cache expired."""
    _, client = person

    patched = client.patch("/api/auth/profile/update/", {"first_name": "Ada"}, format="json")

    assert patched.status_code == 200
    assert client.get(PROFILE).json()["first_name"] == "Ada"


def test_after_a_rename_the_next_write_is_audited_under_the_new_name(person, auth_client):
    user, client = person
    admin = UserFactory()
    assign(admin, "admin")
    auth_client(admin).patch(f"/api/users/{user.pk}/", {"username": "renamed"}, format="json")
    site = SiteFactory()

    client.patch(f"/api/sites/{site.pk}/", {"name": "After rename"}, format="json")

    record = AuditLog.objects.filter(resource_id=str(site.pk), action="update").latest("timestamp")
    assert record.actor_username == "renamed"


def test_a_warm_request_makes_no_query_for_the_generation(person):
    """At the production poll interval, even after the interval has passed."""
    _, client = person
    assert settings.AUTH_CACHE_GENERATION_POLL_SECONDS <= 1.0
    client.get(PROFILE)
    time.sleep(settings.AUTH_CACHE_GENERATION_POLL_SECONDS + 0.1)

    with CaptureQueriesContext(connection) as queries:
        client.get(PROFILE)
        client.get(PROFILE)

    assert not [q for q in queries if "core_cachegeneration" in q["sql"]]


@pytest.mark.django_db(transaction=True)
def test_a_generation_bumped_elsewhere_is_noticed_within_the_poll():
    from core.models import CacheGeneration

    before = current_generation()
    # Another process bumps it (a write that could not reach Redis).
    CacheGeneration.objects.update_or_create(name="auth", defaults={"value": before + 5})
    deadline = time.monotonic() + settings.AUTH_CACHE_GENERATION_POLL_SECONDS * 3 + 2
    while current_generation() != before + 5 and time.monotonic() < deadline:
        time.sleep(0.05)

    assert current_generation() == before + 5
