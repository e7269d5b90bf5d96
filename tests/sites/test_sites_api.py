import pytest

from sites.models import Site
from tests.accounts.factories import UserFactory
from tests.conftest import assign
from tests.sites.factories import SiteFactory

SITES = "/api/sites/"
VALID = {
    "code": "fra-09",
    "name": "Frankfurt 9",
    "gln": "4012345000009",
    "country": "DE",
    "timezone": "Europe/Berlin",
}


@pytest.mark.django_db
def test_create_site_uppercases_code(admin):
    response = admin.post(SITES, VALID)

    assert response.status_code == 201, response.content
    assert response.json()["code"] == "FRA-09"
    assert Site.objects.get(code="FRA-09").gln == "4012345000009"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("gln", "4012345000008"),  # wrong check digit
        ("gln", "40123450000"),
        ("gln", "401234500000A"),
        ("country", "XX"),
        ("country", "de"),
        ("timezone", "Mars/Olympus"),
        ("code", "a"),
        ("code", "HAS SPACE"),
        ("name", ""),
    ],
)
def test_invalid_site_refused(admin, field, value):
    response = admin.post(SITES, {**VALID, field: value})

    assert response.status_code == 400
    assert field in response.json()
    assert not Site.objects.exists()


@pytest.mark.django_db
def test_duplicate_code_refused(admin):
    SiteFactory(code="FRA-09")

    response = admin.post(SITES, VALID)

    assert response.status_code == 400
    assert "code" in response.json()


@pytest.mark.django_db
def test_delete_unreferenced_site(admin):
    site = SiteFactory()

    assert admin.delete(f"{SITES}{site.pk}/").status_code == 204
    assert not Site.objects.filter(pk=site.pk).exists()


@pytest.mark.django_db
def test_delete_referenced_site_409_and_kept(admin):
    site = SiteFactory()
    assign(UserFactory(), "qa", site=site)

    response = admin.delete(f"{SITES}{site.pk}/")

    assert response.status_code == 409
    assert site.code in response.json()["detail"]
    assert "Deactivate" in response.json()["detail"]
    assert Site.objects.filter(pk=site.pk).exists()


@pytest.mark.django_db
def test_deactivate_site(admin):
    site = SiteFactory()

    response = admin.patch(f"{SITES}{site.pk}/", {"is_active": False})

    assert response.status_code == 200
    site.refresh_from_db()
    assert site.is_active is False


@pytest.mark.django_db
def test_put_back_what_was_read(admin):
    site = SiteFactory()
    read = admin.get(f"{SITES}{site.pk}/").json()

    response = admin.put(f"{SITES}{site.pk}/", {**read, "name": "Renamed"})

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Renamed"


@pytest.mark.django_db
def test_filters_and_search(admin):
    SiteFactory(code="AAA-01", country="DE")
    SiteFactory(code="BBB-01", country="FR", is_active=False)

    by_country = admin.get(SITES, {"country": "FR"}).json()["results"]
    by_search = admin.get(SITES, {"search": "AAA"}).json()["results"]

    assert [s["code"] for s in by_country] == ["BBB-01"]
    assert [s["code"] for s in by_search] == ["AAA-01"]
