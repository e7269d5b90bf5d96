import pytest

from rbac.models import Role, RoleAssignment
from tests.accounts.factories import UserFactory
from tests.conftest import assign
from tests.sites.factories import SiteFactory


@pytest.fixture
def role_manager(db, auth_client):
    """Holds role.view + role.manage + site.view globally, nothing else."""
    user = UserFactory()
    role = Role.objects.create(name="role-admins")
    role.permissions.set(
        Role.objects.get(name="admin").permissions.filter(
            codename__in=["role.view", "role.manage", "site.view"]
        )
    )
    RoleAssignment.objects.create(user=user, role=role)
    return auth_client(user)


@pytest.mark.django_db
def test_permissions_catalogue_listed(staff_user, auth_client):
    response = auth_client(staff_user).get("/api/permissions/", {"page_size": 100})

    assert response.status_code == 200
    codes = [p["codename"] for p in response.json()["results"]]
    assert "site.view" in codes and codes == sorted(codes)


@pytest.mark.django_db
def test_create_role_with_held_permissions(role_manager):
    response = role_manager.post("/api/roles/", {"name": "viewer", "permissions": ["site.view"]})

    assert response.status_code == 201
    assert response.json()["permissions"] == ["site.view"]


@pytest.mark.django_db
def test_cannot_create_role_with_permissions_not_held(role_manager):
    response = role_manager.post(
        "/api/roles/", {"name": "sneaky", "permissions": ["site.view", "user.create"]}
    )

    assert response.status_code == 400
    assert "user.create" in response.json()["permissions"][0]
    assert not Role.objects.filter(name="sneaky").exists()


@pytest.mark.django_db
def test_unknown_codename_refused(staff_user, auth_client):
    response = auth_client(staff_user).post(
        "/api/roles/", {"name": "r", "permissions": ["nuclear.launch"]}
    )

    assert response.status_code == 400
    assert not Role.objects.filter(name="r").exists()


@pytest.mark.django_db
def test_cannot_assign_stronger_role_to_self(role_manager):
    me = RoleAssignment.objects.get(role__name="role-admins").user

    response = role_manager.post(
        "/api/role-assignments/",
        {"user": str(me.pk), "role": str(Role.objects.get(name="admin").pk)},
    )

    assert response.status_code == 400
    assert "role" in response.json()
    assert not RoleAssignment.objects.filter(user=me, role__name="admin").exists()


@pytest.mark.django_db
def test_assign_and_unassign(staff_user, auth_client):
    client = auth_client(staff_user)
    target = UserFactory()
    site = SiteFactory()
    operator = Role.objects.get(name="operator")

    created = client.post(
        "/api/role-assignments/",
        {"user": str(target.pk), "role": str(operator.pk), "site": str(site.pk)},
    )
    duplicate = client.post(
        "/api/role-assignments/",
        {"user": str(target.pk), "role": str(operator.pk), "site": str(site.pk)},
    )

    assert created.status_code == 201
    assert created.json()["site_code"] == site.code
    assert duplicate.status_code == 409
    deleted = client.delete(f"/api/role-assignments/{created.json()['id']}/")
    assert deleted.status_code == 204
    assert not RoleAssignment.objects.filter(user=target).exists()


@pytest.mark.django_db
def test_assignment_to_invisible_site_is_400(auth_client):
    visible, hidden = SiteFactory(), SiteFactory()
    manager = UserFactory()
    assign(manager, "admin", site=visible)
    role = Role.objects.create(name="managers")
    role.permissions.set(
        Role.objects.get(name="admin").permissions.filter(codename__in=["role.view", "role.manage"])
    )
    RoleAssignment.objects.create(user=manager, role=role)
    client = auth_client(manager)
    viewer = Role.objects.create(name="viewer")

    response = client.post(
        "/api/role-assignments/",
        {"user": str(UserFactory().pk), "role": str(viewer.pk), "site": str(hidden.pk)},
    )

    assert response.status_code == 400
    assert "site" in response.json()


@pytest.mark.django_db
def test_system_role_cannot_be_deleted(staff_user, auth_client):
    response = auth_client(staff_user).delete(f"/api/roles/{Role.objects.get(name='qa').pk}/")

    assert response.status_code == 409
    assert Role.objects.filter(name="qa").exists()


@pytest.mark.django_db
def test_profile_shows_assignments_and_permissions(auth_client):
    site = SiteFactory()
    user = UserFactory()
    assign(user, "operator", site=site)

    body = auth_client(user).get("/api/auth/profile/").json()

    assert body["roles"] == [{"role": "operator", "site": str(site.pk), "site_code": site.code}]
    assert body["permissions"]["global"] == []
    assert "batch.start" in body["permissions"]["sites"][str(site.pk)]
    assert "site.view" in body["permissions"]["sites"][str(site.pk)]
    assert "product.view" in body["permissions"]["sites"][str(site.pk)]


# --- removals are checked like grants ---------------------------------------------------


@pytest.mark.django_db
def test_a_role_manager_cannot_strip_the_admin_role(role_manager):
    """PATCH the admin role down to role.view: removing a permission needs holding it,
    as granting one does."""
    admin_role = Role.objects.get(name="admin")
    before = set(admin_role.permissions.values_list("codename", flat=True))

    response = role_manager.patch(
        f"/api/roles/{admin_role.pk}/", {"permissions": ["role.view"]}, format="json"
    )

    assert response.status_code == 400
    assert "permissions" in response.json()
    assert set(admin_role.permissions.values_list("codename", flat=True)) == before


@pytest.mark.django_db
def test_a_role_manager_may_remove_what_they_hold(role_manager):
    role = Role.objects.create(name="viewers")
    role.permissions.set(
        Role.objects.get(name="admin").permissions.filter(codename__in=["site.view", "role.view"])
    )

    response = role_manager.patch(
        f"/api/roles/{role.pk}/", {"permissions": ["site.view"]}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["permissions"] == ["site.view"]


@pytest.mark.django_db
def test_a_role_manager_cannot_delete_a_role_holding_more_than_they_do(role_manager):
    role = Role.objects.create(name="releasers")
    role.permissions.set(
        Role.objects.get(name="admin").permissions.filter(codename__in=["batch.release"])
    )

    response = role_manager.delete(f"/api/roles/{role.pk}/")

    assert response.status_code == 400
    assert Role.objects.filter(pk=role.pk).exists()


@pytest.mark.django_db
def test_a_role_manager_cannot_remove_an_assignment_of_a_role_beyond_theirs(role_manager):
    holder = UserFactory()
    assignment = assign(holder, "qa", site=SiteFactory())

    response = role_manager.delete(f"/api/role-assignments/{assignment.pk}/")

    assert response.status_code == 400
    assert "every permission you hold" in str(response.json())
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()
