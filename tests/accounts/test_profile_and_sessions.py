import pytest

from accounts.models import UserSession

PROFILE = "/api/auth/profile/"
UPDATE = "/api/auth/profile/update/"
SESSIONS = "/api/auth/sessions/"


@pytest.mark.django_db
def test_profile_update_own_fields(user, auth_client):
    client = auth_client(user)

    response = client.patch(
        UPDATE, {"first_name": "Ann", "phone": "+49 30 1234", "email": "A@B.de"}
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.first_name, user.phone, user.email) == ("Ann", "+49 30 1234", "a@b.de")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field,value",
    [("is_staff", True), ("is_superuser", True), ("is_active", False), ("roles", ["admin"])],
)
def test_profile_mass_assignment_refused(user, auth_client, field, value):
    client = auth_client(user)

    response = client.patch(UPDATE, {field: value, "first_name": "Changed"})

    assert response.status_code == 400
    assert field in response.json()
    user.refresh_from_db()
    assert user.first_name != "Changed"
    assert not user.is_staff and not user.is_superuser and user.is_active


@pytest.mark.django_db
def test_profile_put_back_what_was_read(user, auth_client):
    client = auth_client(user)
    read = client.get(PROFILE).json()

    response = client.put(UPDATE, {**read, "last_name": "Newname"})

    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.last_name == "Newname"


@pytest.mark.django_db
def test_sessions_list_and_delete_one(user, auth_client):
    client = auth_client(user)
    other = auth_client(user)

    listed = client.get(SESSIONS).json()["results"]
    assert len(listed) == 2
    assert sum(s["is_current"] for s in listed) == 1
    other_id = next(s["id"] for s in listed if not s["is_current"])

    response = client.delete(f"{SESSIONS}{other_id}/")

    assert response.status_code == 204
    assert other.get(PROFILE).status_code == 401
    assert client.get(PROFILE).status_code == 200
    assert UserSession.objects.get(pk=other_id).end_reason == "ended_by_user"


@pytest.mark.django_db
def test_cannot_see_or_end_someone_elses_session(user, staff_user, auth_client):
    client = auth_client(user)
    admin = auth_client(staff_user)
    admin_session = UserSession.objects.get(user=staff_user)

    assert client.get(f"{SESSIONS}{admin_session.pk}/").status_code == 404
    assert client.delete(f"{SESSIONS}{admin_session.pk}/").status_code == 404
    assert admin.get(PROFILE).status_code == 200
