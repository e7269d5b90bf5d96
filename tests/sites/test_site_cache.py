"""The site detail served from the cache: never stale, never past the permission check."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from redis.connection import Connection

from core.cache import current_generation
from rbac.models import RoleAssignment
from sites import cache as site_cache
from sites.models import Site
from tests.accounts.factories import UserFactory
from tests.conftest import assign
from tests.rbac.test_invalidation import _redis_cache, needs_redis_server
from tests.sites.factories import SiteFactory
from tools.redis_server import RedisServer


def url(site: Site) -> str:
    return f"/api/sites/{site.pk}/"


def warm(client: Any, site: Site) -> dict[str, Any]:
    first = client.get(url(site))
    assert first.status_code == 200
    return first.json()


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every command batch written to Redis (a pipeline is one)."""
    sent: list[bytes] = []
    original = Connection.send_packed_command

    def send(self: Connection, command: Any, check_health: bool = True) -> None:
        sent.append(command)
        original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", send)
    return sent


@pytest.mark.django_db
def test_warm_detail_needs_no_query(operator: Any, site: Site) -> None:
    expected = warm(operator, site)

    with CaptureQueriesContext(connection) as queries:
        response = operator.get(url(site))

    assert response.status_code == 200
    assert response.json() == expected
    assert len(queries) == 0, [q["sql"] for q in queries]


@pytest.mark.django_db
@pytest.mark.redis
def test_warm_detail_is_one_redis_round_trip(
    operator: Any, site: Site, round_trips: list[bytes]
) -> None:
    warm(operator, site)
    round_trips.clear()

    response = operator.get(url(site))

    assert response.status_code == 200
    # User, session, permissions, the site's version and detail, and the rate counter.
    assert len(round_trips) == 1, round_trips


@pytest.mark.django_db
def test_cached_detail_equals_the_database_answer(operator: Any, site: Site) -> None:
    from_database = warm(operator, site)
    pointer_key, entry_key = site_cache.keys(str(site.pk))
    assert cache.get(entry_key) == (site_cache.version(site), from_database)

    assert operator.get(url(site)).json() == from_database


@pytest.mark.django_db
def test_update_through_the_api_is_seen_at_once(
    operator: Any, site: Site, auth_client: Any
) -> None:
    warm(operator, site)
    admin = UserFactory()
    assign(admin, "admin")

    patched = auth_client(admin).patch(url(site), {"name": "Renamed plant"})

    assert patched.status_code == 200
    body = operator.get(url(site)).json()
    assert body["name"] == "Renamed plant"
    assert body["updated_at"] == patched.json()["updated_at"]


@pytest.mark.django_db
def test_save_is_seen_at_once(operator: Any, site: Site) -> None:
    warm(operator, site)

    site.address = "Industriestrasse 1"
    site.save()

    assert operator.get(url(site)).json()["address"] == "Industriestrasse 1"


@pytest.mark.django_db
def test_save_of_some_fields_moves_the_version(operator: Any, site: Site) -> None:
    before = warm(operator, site)

    site.name = "Partly saved"
    site.save(update_fields=["name"])

    body = operator.get(url(site)).json()
    assert body["name"] == "Partly saved"
    assert body["updated_at"] > before["updated_at"]
    site.refresh_from_db()  # the row moved too, not only the pointer
    assert cache.get(site_cache.keys(str(site.pk))[0]) == site_cache.version(site)


@pytest.mark.django_db
def test_bulk_update_is_seen_at_once_and_moves_updated_at(operator: Any, site: Site) -> None:
    before = warm(operator, site)

    Site.objects.filter(pk=site.pk).update(is_active=False)

    body = operator.get(url(site)).json()
    assert body["is_active"] is False
    assert body["updated_at"] > before["updated_at"]


@pytest.mark.django_db
def test_deleted_site_is_404(auth_client: Any) -> None:
    auditor = UserFactory()
    assign(auditor, "auditor")  # views every site, bound to none
    client = auth_client(auditor)
    gone = SiteFactory()
    warm(client, gone)

    Site.objects.filter(pk=gone.pk).delete()

    assert client.get(url(gone)).status_code == 404


@pytest.mark.django_db
def test_rolled_back_change_leaves_the_answer_right(operator: Any, site: Site) -> None:
    before = warm(operator, site)

    with pytest.raises(RuntimeError), transaction.atomic():
        Site.objects.filter(pk=site.pk).update(name="Never committed")
        raise RuntimeError

    assert operator.get(url(site)).json() == before


@pytest.mark.django_db
def test_cached_site_is_404_for_a_user_without_it(
    site: Site, operator: Any, auth_client: Any
) -> None:
    warm(operator, site)  # cached by someone who may see it
    elsewhere = UserFactory()
    assign(elsewhere, "admin", site=SiteFactory())  # may view, change and delete there
    client = auth_client(elsewhere)

    for method in ("get", "head", "patch", "delete"):
        assert getattr(client, method)(url(site)).status_code == 404, method


@pytest.mark.django_db
def test_revoked_role_refuses_the_cached_site(site: Site, auth_client: Any) -> None:
    user = UserFactory()
    assign(user, "operator", site=site)
    assign(user, "operator", site=SiteFactory())
    client = auth_client(user)
    warm(client, site)

    RoleAssignment.objects.filter(user=user, site=site).delete()

    assert client.get(url(site)).status_code == 404  # still a viewer, elsewhere only


@pytest.mark.django_db
def test_entry_of_an_older_version_is_never_served(operator: Any, site: Site) -> None:
    """A reader that read the row before a writer committed stores an older version."""
    stale = Site.objects.get(pk=site.pk)
    warm(operator, site)
    site.name = "Newer name"
    site.save()

    site_cache.remember(stale, {"name": "stale answer"}, None)  # the slow reader

    assert operator.get(url(site)).json()["name"] == "Newer name"


@pytest.mark.django_db
def test_reader_seeing_a_newer_pointer_stores_nothing(site: Site) -> None:
    stale = Site.objects.get(pk=site.pk)
    site.save()  # pointer now holds the newer version
    pointer_key, entry_key = site_cache.keys(str(site.pk))

    site_cache.remember(stale, {"name": "stale answer"}, {pointer_key: site_cache.version(site)})

    assert cache.get(entry_key) is None
    assert cache.get(pointer_key) == site_cache.version(site)


@pytest.mark.django_db
def test_id_that_is_not_a_uuid_is_a_json_404(operator: Any) -> None:
    response = operator.get("/api/sites/not-a-uuid/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.django_db
def test_upper_case_id_answers_like_the_canonical_one(operator: Any, site: Site) -> None:
    expected = warm(operator, site)

    response = operator.get(f"/api/sites/{str(site.pk).upper()}/")

    assert response.status_code == 200
    assert response.json() == expected


@pytest.mark.django_db
def test_cache_at_closed_port_still_answers_from_the_database(
    operator: Any, site: Site, settings: Any
) -> None:
    settings.CACHES = _redis_cache("redis://127.0.0.1:1/0")

    assert operator.get(url(site)).json()["code"] == site.code
    Site.objects.filter(pk=site.pk).update(name="Changed without Redis")
    assert operator.get(url(site)).json()["name"] == "Changed without Redis"


@pytest.mark.django_db
@needs_redis_server
def test_change_while_redis_down_survives_restart_with_old_data(
    site: Site, auth_client: Any, settings: Any, tmp_path: Any
) -> None:
    user = UserFactory()
    assign(user, "operator", site=site)
    server = RedisServer(tmp_path)
    server.start()
    try:
        settings.CACHES = _redis_cache(server.url)
        client = auth_client(user)
        warm(client, site)
        generation = current_generation()
        assert server.command("SAVE").startswith(b"+OK")
        server.kill()

        site.name = "Renamed while Redis was down"
        site.save()  # the pointer cannot be written: the generation moves instead

        server.start()  # back, with the site's old entry and pointer
        assert cache.get_many(["probe"]) == {}  # reachable again
        response = client.get(url(site))
    finally:
        server.stop()

    assert current_generation() == generation + 1
    assert response.json()["name"] == "Renamed while Redis was down"
