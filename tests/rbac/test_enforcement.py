import pytest
from django.core.exceptions import PermissionDenied

from rbac.backends import codename_for
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


@pytest.mark.parametrize(
    ("perm", "expected"),
    [
        ("sites.change_site", "site.update"),
        ("sites.add_site", "site.create"),
        ("accounts.delete_user", "user.deactivate"),
        ("rbac.change_role", "role.manage"),
        ("rbac.view_roleassignment", "role.view"),
        ("axes.view_accessattempt", None),
    ],
)
def test_admin_permission_mapping(perm, expected):
    app_label, _, codename = perm.partition(".")
    assert codename_for(app_label, codename) == expected


@pytest.mark.django_db
def test_has_perm_asks_the_resolver():
    site = SiteFactory()
    user = UserFactory(is_staff=True)
    assign(user, "auditor", site=site)

    assert user.has_perm("sites.view_site")
    assert user.has_perm("sites.view_site", site)
    assert not user.has_perm("sites.change_site", site)
    assert not user.has_perm("accounts.view_user")  # global resource, site grant
    assert user.has_module_perms("sites")
    assert not user.has_module_perms("axes")


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
    assert client.get(
        f"/admin/sites/site/{other.pk}/change/", HTTP_HOST="127.0.0.1"
    ).status_code in (302, 404)
