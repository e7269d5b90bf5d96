"""Revocations take effect on the very next request, whatever happened to Redis."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rbac.models import Role, RoleAssignment
from rbac.resolver import compute
from tests.accounts.factories import UserFactory
from tests.conftest import assign
from tests.sites.factories import SiteFactory
from tools.redis_server import RedisServer

needs_redis_server = pytest.mark.skipif(
    not RedisServer.available(), reason="needs the redis-server binary"
)


def _redis_cache(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }


@pytest.mark.django_db
def test_effective_permissions_in_one_query(operator_user, site):
    assign(operator_user, "auditor")

    with CaptureQueriesContext(connection) as queries:
        perms = compute(operator_user)

    assert len(queries) == 1
    assert perms.has("site.view", site.pk)
    assert not perms.has("site.update", site.pk)
    assert perms.has("user.view")  # auditor, globally
    assert perms.has("site.view", SiteFactory().pk)  # auditor's global view


@pytest.mark.django_db
def test_revoked_assignment_refused_on_next_request(operator_user, site, auth_client):
    client = auth_client(operator_user)
    url = f"/api/sites/{site.pk}/"
    assert client.get(url).status_code == 200

    RoleAssignment.objects.filter(user=operator_user).delete()

    assert client.get(url).status_code == 403  # no site.view anywhere any more


@pytest.mark.django_db
def test_role_permission_removed_refused_on_next_request(operator_user, site, auth_client):
    client = auth_client(operator_user)
    url = f"/api/sites/{site.pk}/"
    assert client.get(url).status_code == 200

    Role.objects.get(name="operator").permissions.remove(
        *Role.objects.get(name="operator").permissions.filter(codename="site.view")
    )

    assert client.get(url).status_code == 403  # no site.view anywhere any more


@pytest.mark.django_db
def test_deleted_role_refused_on_next_request(site, auth_client):
    user = UserFactory()
    role = Role.objects.create(name="viewer")
    role.permissions.set(Role.objects.get(name="operator").permissions.all())
    RoleAssignment.objects.create(user=user, role=role, site=site)
    client = auth_client(user)
    assert client.get(f"/api/sites/{site.pk}/").status_code == 200

    role.delete()

    assert client.get(f"/api/sites/{site.pk}/").status_code == 403


@pytest.mark.django_db
def test_deactivated_user_refused_on_next_request(operator_user, site, auth_client):
    client = auth_client(operator_user)
    assert client.get(f"/api/sites/{site.pk}/").status_code == 200

    operator_user.is_active = False
    operator_user.save()

    assert client.get(f"/api/sites/{site.pk}/").status_code == 401


@pytest.mark.django_db
def test_made_superuser_takes_effect_on_next_request(operator_user, auth_client):
    client = auth_client(operator_user)
    assert client.get("/api/users/").status_code == 403

    operator_user.is_superuser = True
    operator_user.save()

    assert client.get("/api/users/").status_code == 200


@pytest.mark.django_db
@needs_redis_server
def test_revocation_while_redis_down_survives_restart_with_old_data(
    operator_user, site, auth_client, settings, tmp_path
):
    server = RedisServer(tmp_path)
    server.start()
    try:
        settings.CACHES = _redis_cache(server.url)
        client = auth_client(operator_user)
        url = f"/api/sites/{site.pk}/"
        assert client.get(url).status_code == 200  # warm: user, session, permissions cached
        assert server.command("SAVE").startswith(b"+OK")
        server.kill()

        RoleAssignment.objects.filter(user=operator_user).delete()  # Redis is down now

        server.start()  # back, with the cache entries from before the revocation
        assert cache.get_many(["probe"]) == {}  # reachable again
        response = client.get(url)
    finally:
        server.stop()

    assert response.status_code == 403


@pytest.mark.django_db
@needs_redis_server
def test_revocation_while_redis_up_with_restart_keeps_working(
    operator_user, site, auth_client, settings, tmp_path
):
    server = RedisServer(tmp_path)
    server.start()
    try:
        settings.CACHES = _redis_cache(server.url)
        client = auth_client(operator_user)
        url = f"/api/sites/{site.pk}/"
        assert client.get(url).status_code == 200

        RoleAssignment.objects.filter(user=operator_user).delete()
        response = client.get(url)
    finally:
        server.stop()

    assert response.status_code == 403


@pytest.mark.django_db
def test_cache_at_closed_port_answers_correctly(operator_user, site, auth_client, settings):
    settings.CACHES = _redis_cache("redis://127.0.0.1:1/0")
    client = auth_client(operator_user)
    other = SiteFactory()

    assert client.get(f"/api/sites/{site.pk}/").status_code == 200
    assert client.get(f"/api/sites/{other.pk}/").status_code == 404
    assert client.get("/api/users/").status_code == 403
    assert client.patch(f"/api/sites/{site.pk}/", {"name": "x"}).status_code == 403
    RoleAssignment.objects.filter(user=operator_user).delete()
    assert client.get(f"/api/sites/{site.pk}/").status_code == 403


@pytest.mark.django_db
def test_assignment_moved_to_another_user_refuses_the_old_holder(operator_user, site, auth_client):
    client = auth_client(operator_user)
    url = f"/api/sites/{site.pk}/"
    assert client.get(url).status_code == 200

    assignment = RoleAssignment.objects.get(user=operator_user)
    assignment.user = UserFactory()
    assignment.save()

    assert client.get(url).status_code == 403  # no site.view anywhere any more
