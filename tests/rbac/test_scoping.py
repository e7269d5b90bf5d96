"""A user with a role at site A sees and touches A only; B objects are 404 everywhere."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sites.models import Site
from tests.accounts.factories import UserFactory
from tests.conftest import assign
from tests.sites.factories import SiteFactory

SITES = "/api/sites/"


@pytest.fixture
def two_sites(db):
    return SiteFactory(code="AAA-01"), SiteFactory(code="BBB-02")


@pytest.fixture
def site_a_admin(two_sites, auth_client):
    user = UserFactory()
    assign(user, "admin", site=two_sites[0])
    return auth_client(user)


@pytest.mark.django_db
def test_list_shows_only_own_site(two_sites, site_a_admin):
    response = site_a_admin.get(SITES)

    assert response.status_code == 200
    assert [s["code"] for s in response.json()["results"]] == ["AAA-01"]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_site_is_404_on_every_method(two_sites, site_a_admin, method):
    site_b = two_sites[1]
    body = {"name": "Taken over"} if method in ("put", "patch") else None

    response = getattr(site_a_admin, method)(f"{SITES}{site_b.pk}/", body)

    assert response.status_code == 404
    site_b.refresh_from_db()
    assert site_b.name != "Taken over"
    assert Site.objects.filter(pk=site_b.pk).exists()


@pytest.mark.django_db
def test_own_site_can_be_changed(two_sites, site_a_admin):
    response = site_a_admin.patch(f"{SITES}{two_sites[0].pk}/", {"name": "Renamed"})

    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"


@pytest.mark.django_db
def test_site_scoped_create_needs_global_grant(two_sites, site_a_admin):
    response = site_a_admin.post(
        SITES,
        {"code": "NEW-01", "name": "New", "gln": "4012345000009", "country": "DE"},
    )

    assert response.status_code == 403
    assert not Site.objects.filter(code="NEW-01").exists()


@pytest.mark.django_db
def test_site_scoped_user_permissions_do_not_count_for_global_resources(two_sites, auth_client):
    user = UserFactory()
    assign(user, "admin", site=two_sites[0])
    client = auth_client(user)

    assert client.get("/api/users/").status_code == 403
    assert client.get("/api/roles/").status_code == 403


@pytest.mark.django_db
def test_viewer_at_site_cannot_write_there(two_sites, auth_client):
    user = UserFactory()
    assign(user, "auditor", site=two_sites[0])
    client = auth_client(user)

    response = client.patch(f"{SITES}{two_sites[0].pk}/", {"name": "Nope"})

    assert response.status_code == 403
    assert client.get(f"{SITES}{two_sites[0].pk}/").status_code == 200


@pytest.mark.django_db
def test_warm_cache_detail_makes_no_auth_or_permission_query(two_sites, site_a_admin):
    url = f"{SITES}{two_sites[0].pk}/"
    site_a_admin.get(url)  # warms user, session, permissions and the site in the cache

    with CaptureQueriesContext(connection) as queries:
        response = site_a_admin.get(url)

    assert response.status_code == 200
    assert response.json()["code"] == "AAA-01"
    # None: authentication (user, session), permissions and the site detail itself come
    # from one cache read (tests/sites/test_site_cache.py counts the round trips).
    assert len(queries) == 0, [q["sql"] for q in queries]


@pytest.mark.django_db
def test_sites_list_query_count_constant(two_sites, staff_user, auth_client):
    SiteFactory.create_batch(10)
    client = auth_client(staff_user)
    client.get(SITES)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(SITES)

    assert response.status_code == 200
    assert response.json()["count"] == 12
    # 1. COUNT(*) for the paginator  2. SELECT the page of sites
    assert len(queries) == 2, [q["sql"] for q in queries]
