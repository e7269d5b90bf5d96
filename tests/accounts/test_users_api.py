import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.api.views import INACTIVE_NEEDS_UPDATE
from accounts.models import User, UserSession
from audit.models import AuditLog
from rbac.models import Permission, Role
from tests.accounts.factories import UserFactory
from tests.conftest import assign

USERS = "/api/users/"


@pytest.mark.django_db
def test_list_users_search_filter_order(admin):
    UserFactory(username="alice", is_active=True)
    UserFactory(username="bob", is_active=False)

    response = admin.get(USERS, {"search": "bo", "is_active": "false"})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [u["username"] for u in body["results"]] == ["bob"]
    ordered = admin.get(USERS, {"ordering": "-username"}).json()["results"]
    assert [u["username"] for u in ordered] == sorted(
        (u["username"] for u in ordered), reverse=True
    )


@pytest.mark.django_db
def test_users_list_query_count_is_constant(admin):
    UserFactory.create_batch(15)
    admin.get(USERS)  # warm the authentication cache

    with CaptureQueriesContext(connection) as queries:
        response = admin.get(USERS)

    assert response.status_code == 200
    # 1. COUNT(*) of users for the paginator
    # 2. SELECT the page of users
    # Authentication is served from the cache.
    assert len(queries) == 2, [q["sql"] for q in queries]


@pytest.mark.django_db
def test_non_staff_gets_403(user, auth_client):
    assert auth_client(user).get(USERS).status_code == 403


@pytest.mark.django_db
def test_anonymous_gets_401(api_client):
    assert api_client.get(USERS).status_code == 401


@pytest.mark.django_db
def test_create_user_sends_welcome_email(admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            USERS,
            {
                "username": "new.person",
                "email": "New.Person@Example.COM",
                "password": "a-long-enough-passphrase-1",
                "first_name": "New",
            },
        )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "new.person@example.com"
    assert "password" not in body
    user = User.objects.get(username="new.person")
    assert user.check_password("a-long-enough-passphrase-1")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.com"]
    assert "new.person" in mail.outbox[0].body


@pytest.mark.django_db
def test_email_unique_regardless_of_case(admin):
    UserFactory(email="taken@example.com")

    response = admin.post(
        USERS,
        {"username": "x1", "email": "TAKEN@example.com", "password": "a-long-enough-passphrase-1"},
    )

    assert response.status_code == 400
    assert "email" in response.json()
    assert not User.objects.filter(username="x1").exists()


@pytest.mark.django_db
def test_weak_password_refused_on_create(admin):
    response = admin.post(USERS, {"username": "x2", "email": "x2@example.com", "password": "short"})

    assert response.status_code == 400
    assert "password" in response.json()
    assert not User.objects.filter(username="x2").exists()


@pytest.mark.django_db
def test_patch_user(admin, user):
    response = admin.patch(f"{USERS}{user.pk}/", {"first_name": "Renamed"})

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.first_name == "Renamed"


@pytest.mark.django_db
def test_put_back_what_was_read_works(admin, user):
    read = admin.get(f"{USERS}{user.pk}/").json()

    response = admin.put(f"{USERS}{user.pk}/", read)

    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_read_only_field_with_other_value_refused(admin, user):
    response = admin.patch(f"{USERS}{user.pk}/", {"last_login": "2020-01-01T00:00:00Z"})

    assert response.status_code == 400
    assert response.json() == {"last_login": ["This field is read-only."]}


@pytest.mark.django_db
def test_delete_deactivates_and_ends_access(admin, user, auth_client):
    client = auth_client(user)

    response = admin.delete(f"{USERS}{user.pk}/")

    assert response.status_code == 204
    user.refresh_from_db()
    assert user.is_active is False
    assert client.get("/api/auth/profile/").status_code == 401
    refresh = APIClient().post("/api/auth/token/refresh/", {"refresh": client.tokens["refresh"]})
    assert refresh.status_code == 401
    assert not UserSession.objects.filter(user=user, ended_at__isnull=True).exists()


@pytest.mark.django_db
def test_deactivation_through_patch_ends_access(admin, user, auth_client):
    client = auth_client(user)

    response = admin.patch(f"{USERS}{user.pk}/", {"is_active": False})

    assert response.status_code == 200
    assert client.get("/api/auth/profile/").status_code == 401


@pytest.mark.django_db
def test_active_count(admin):
    UserFactory.create_batch(3)
    UserFactory(is_active=False)

    response = admin.get(f"{USERS}active_count/")

    assert response.status_code == 200
    assert response.json() == {"active_count": User.objects.filter(is_active=True).count()}


@pytest.mark.django_db
def test_unknown_user_id_404(admin):
    for path in (f"{USERS}00000000-0000-0000-0000-000000000000/", f"{USERS}not-a-uuid/"):
        response = admin.get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


# --- nobody raises their own access, nobody but a superuser touches one -------------------


@pytest.fixture
def user_manager(db, auth_client):
    """Holds user.view + user.update + user.deactivate globally, nothing else."""
    from rbac.models import Role, RoleAssignment

    user = UserFactory(is_staff=True)
    role = Role.objects.create(name="user-managers")
    role.permissions.set(
        Role.objects.get(name="admin").permissions.filter(
            codename__in=["user.view", "user.update", "user.deactivate"]
        )
    )
    RoleAssignment.objects.create(user=user, role=role)
    client = auth_client(user)
    client.user = user
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("flag", [{"is_staff": False}, {"is_active": False}])
def test_own_access_flags_cannot_be_changed(user_manager, flag):
    me = user_manager.user

    response = user_manager.patch(f"/api/users/{me.pk}/", flag, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "own_access"
    me.refresh_from_db()
    assert me.is_staff and me.is_active


@pytest.mark.django_db
def test_own_names_can_still_be_changed(user_manager):
    me = user_manager.user

    response = user_manager.patch(f"/api/users/{me.pk}/", {"first_name": "Ren"}, format="json")

    assert response.status_code == 200, response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body", [{"email": "mallory@example.com"}, {"is_active": False}, {"first_name": "X"}]
)
def test_a_superusers_account_is_for_superusers(user_manager, body):
    root = UserFactory(is_superuser=True, email="root@example.com", first_name="Root")

    response = user_manager.patch(f"/api/users/{root.pk}/", body, format="json")
    deactivate = user_manager.delete(f"/api/users/{root.pk}/")

    assert (response.status_code, deactivate.status_code) == (403, 403)
    root.refresh_from_db()
    assert (root.email, root.is_active, root.first_name) == ("root@example.com", True, "Root")


@pytest.mark.django_db
def test_is_superuser_is_not_an_api_field(user_manager):
    other = UserFactory()

    response = user_manager.patch(f"/api/users/{other.pk}/", {"is_superuser": True}, format="json")

    assert response.status_code == 400
    other.refresh_from_db()
    assert not other.is_superuser


# --- is_active on create ---------------------------------------------------------------

DOCUMENTED_BODY = {
    "username": "new.person",
    "email": "new.person@example.com",
    "password": "a-long-enough-passphrase-1",
    "first_name": "New",
    "last_name": "Person",
    "phone": "+49 69 1234",
    "address": "Werkstrasse 1",
}


@pytest.fixture
def creator_client(auth_client):
    """A caller holding user.create (and user.view) but not user.update."""
    role = Role.objects.create(name="account-creator")
    role.permissions.set(Permission.objects.filter(codename__in=["user.view", "user.create"]))
    creator = UserFactory()
    assign(creator, "account-creator")
    return auth_client(creator)


@pytest.mark.django_db
@pytest.mark.parametrize("is_active", [True, False])
def test_a_holder_of_user_update_may_create_with_is_active(
    admin, api_client, is_active, django_capture_on_commit_callbacks
):
    # Given the documented create body, with is_active
    body = DOCUMENTED_BODY | {"is_active": is_active}

    # When an administrator posts it
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(USERS, body, format="json")

    # Then the account exists in that state; only an active one is welcomed and signs in
    assert response.status_code == 201, response.content
    assert response.json()["is_active"] is is_active
    assert User.objects.get(username="new.person").is_active is is_active
    assert len(mail.outbox) == (1 if is_active else 0)
    signed_in = api_client.post(
        "/api/auth/token/", {"username": "new.person", "password": body["password"]}
    )
    assert signed_in.status_code == (200 if is_active else 401)


@pytest.mark.django_db
def test_without_is_active_a_new_account_is_active(creator_client):
    response = creator_client.post(USERS, DOCUMENTED_BODY, format="json")

    assert response.status_code == 201, response.content
    assert User.objects.get(username="new.person").is_active


@pytest.mark.django_db
def test_a_holder_of_user_create_alone_may_send_is_active_true(creator_client):
    response = creator_client.post(USERS, DOCUMENTED_BODY | {"is_active": True}, format="json")

    assert response.status_code == 201, response.content
    assert User.objects.get(username="new.person").is_active


@pytest.mark.django_db
def test_a_holder_of_user_create_alone_cannot_create_an_inactive_account(creator_client):
    # When a caller without user.update asks for an inactive account
    response = creator_client.post(USERS, DOCUMENTED_BODY | {"is_active": False}, format="json")

    # Then it is a 403 saying why, nothing is created, and the refusal is audited
    assert response.status_code == 403
    assert response.json() == {"detail": INACTIVE_NEEDS_UPDATE, "code": "permission_denied"}
    assert not User.objects.filter(username="new.person").exists()
    denied = AuditLog.objects.get(action="permission_denied")
    assert denied.new_values["codename"] == "user.update"


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["maybe", None, 2, []])
def test_a_bad_is_active_is_400(admin, value):
    response = admin.post(USERS, DOCUMENTED_BODY | {"is_active": value}, format="json")

    assert response.status_code == 400
    assert "is_active" in response.json()
    assert not User.objects.filter(username="new.person").exists()
