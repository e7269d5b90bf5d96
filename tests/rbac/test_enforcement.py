import pytest
from django.core.exceptions import PermissionDenied

from rbac.enforcement import require_permission
from tests.accounts.factories import UserFactory
from tests.conftest import assign
from tests.sites.factories import SiteFactory


@require_permission("site.update", site_arg="site")
def rename(user, *, site, name):
    site.name = name
    return site


@pytest.mark.django_db
def test_require_permission_decorator():
    site, other = SiteFactory(), SiteFactory()
    user = UserFactory()
    assign(user, "admin", site=site)

    assert rename(user, site=site, name="ok").name == "ok"
    with pytest.raises(PermissionDenied):
        rename(user, site=other, name="no")


@pytest.mark.django_db
def test_has_perm_asks_the_resolver():
    site = SiteFactory()
    user = UserFactory(is_staff=True)
    assign(user, "auditor", site=site)

    assert user.has_perm("site.view")
    assert user.has_perm("site.view", site)
    assert not user.has_perm("site.update", site)
    assert not user.has_perm("user.view")  # global codename, site grant
    # Django-style names (third-party admin pages) are for superusers only.
    assert not user.has_perm("sites.view_site")
    assert not user.has_perm("axes.view_accessattempt")


@pytest.mark.django_db
def test_admin_lists_only_permitted_sites(client):
    site, other = SiteFactory(), SiteFactory()
    user = UserFactory(is_staff=True)
    assign(user, "admin", site=site)
    client.force_login(user)

    response = client.get("/admin/sites/site/", HTTP_HOST="127.0.0.1")

    assert response.status_code == 200
    assert site.code in response.content.decode()
    assert other.code not in response.content.decode()
    assert (
        client.get(f"/admin/sites/site/{other.pk}/change/", HTTP_HOST="127.0.0.1").status_code
        == 404
    )
