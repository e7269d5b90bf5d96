import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import UserSession

CHANGE = "/api/auth/password/change/"
REFRESH = "/api/auth/token/refresh/"
NEW_PASSWORD = "a-much-better-passphrase-2026"


def _profile_status(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/api/auth/profile/").status_code


@pytest.mark.django_db
def test_password_change_revokes_everything_but_returns_fresh_pair(
    user, password, auth_client, django_capture_on_commit_callbacks
):
    client = auth_client(user)
    other = auth_client(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CHANGE, {"current_password": password, "new_password": NEW_PASSWORD})

    assert response.status_code == 200
    body = response.json()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert _profile_status(client.tokens["access"]) == 401
    assert _profile_status(other.tokens["access"]) == 401
    assert APIClient().post(REFRESH, {"refresh": other.tokens["refresh"]}).status_code == 401
    assert APIClient().post(REFRESH, {"refresh": client.tokens["refresh"]}).status_code == 401
    assert _profile_status(body["access"]) == 200
    assert APIClient().post(REFRESH, {"refresh": body["refresh"]}).status_code == 200
    sessions = UserSession.objects.filter(user=user)
    assert sessions.filter(ended_at__isnull=True).count() == 1
    assert sessions.filter(end_reason="password_changed").count() == 1
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert "password" in mail.outbox[0].subject.lower()
    assert mail.outbox[0].alternatives


@pytest.mark.django_db
def test_wrong_current_password_400_and_nothing_changes(user, password, auth_client):
    client = auth_client(user)

    response = client.post(
        CHANGE, {"current_password": "not-my-password", "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 400
    assert "current_password" in response.json()
    user.refresh_from_db()
    assert user.check_password(password)
    assert _profile_status(client.tokens["access"]) == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "new_password",
    ["short1!", "password123456", "123456789012345", "user-person-username"],
)
def test_weak_new_password_refused(user, password, auth_client, new_password):
    client = auth_client(user)
    if new_password == "user-person-username":
        new_password = f"{user.username}{user.last_name}".lower()

    response = client.post(CHANGE, {"current_password": password, "new_password": new_password})

    assert response.status_code == 400
    assert "new_password" in response.json()
    user.refresh_from_db()
    assert user.check_password(password)


@pytest.mark.django_db
def test_wrong_current_passwords_count_toward_lockout(user, password, auth_client, api_client):
    client = auth_client(user)
    for _ in range(5):
        client.post(CHANGE, {"current_password": "nope-nope-nope", "new_password": NEW_PASSWORD})

    response = api_client.post(
        "/api/auth/token/", {"username": user.username, "password": password}
    )

    assert response.status_code == 429
