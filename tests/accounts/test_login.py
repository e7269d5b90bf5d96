import pytest
from django.contrib.sessions.models import Session
from django.core import mail

from accounts.models import UserSession

LOGIN = "/api/auth/token/"
LOGOUT = "/api/auth/logout/"


@pytest.mark.django_db
def test_login_returns_tokens_user_and_opens_session(api_client, user, password):
    response = api_client.post(LOGIN, {"username": user.username, "password": password})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "user"}
    assert body["user"]["username"] == user.username
    assert "password" not in body["user"]
    assert UserSession.objects.filter(user=user, ended_at__isnull=True).count() == 1
    user.refresh_from_db()
    assert user.last_login is not None


@pytest.mark.django_db
def test_an_api_sign_in_and_sign_out_create_no_django_session(api_client, user, password):
    # Given a user with no Django session
    assert not Session.objects.exists()

    # When they sign in through the API, use the token and sign out
    signed_in = api_client.post(LOGIN, {"username": user.username, "password": password})
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed_in.json()['access']}")
    profile = api_client.get("/api/auth/profile/")
    signed_out = api_client.post(LOGOUT, {}, format="json")

    # Then no session row was written and no session cookie was set
    assert [signed_in.status_code, profile.status_code] == [200, 200]
    assert signed_out.status_code in (200, 204), signed_out.content
    assert not Session.objects.exists()
    for response in (signed_in, profile, signed_out):
        assert "sessionid" not in response.cookies
    assert "sessionid" not in api_client.cookies


@pytest.mark.django_db
def test_a_failed_api_sign_in_creates_no_django_session(api_client, user):
    response = api_client.post(LOGIN, {"username": user.username, "password": "wrong-password-1"})

    assert response.status_code == 401
    assert not Session.objects.exists()
    assert "sessionid" not in response.cookies


@pytest.mark.django_db
def test_access_token_authenticates(api_client, user, login):
    tokens = login(user)

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    response = api_client.get("/api/auth/profile/")

    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("username_known", [True, False])
def test_wrong_credentials_401(api_client, user, username_known):
    username = user.username if username_known else "nobody"

    response = api_client.post(LOGIN, {"username": username, "password": "wrong-password-123"})

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert not UserSession.objects.exists()


@pytest.mark.django_db
def test_inactive_user_cannot_login(api_client, user, password):
    user.is_active = False
    user.save()

    response = api_client.post(LOGIN, {"username": user.username, "password": password})

    assert response.status_code == 401


def _fail(api_client, username, times=5, **extra):
    for _ in range(times):
        response = api_client.post(
            LOGIN, {"username": username, "password": "bad-password-1"}, **extra
        )
        assert response.status_code in (401, 429)


@pytest.mark.django_db
def test_lockout_after_five_failures_then_even_right_password_refused(api_client, user, password):
    _fail(api_client, user.username)

    response = api_client.post(LOGIN, {"username": user.username, "password": password})

    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert response["Retry-After"] == "900"
    assert not UserSession.objects.exists()


@pytest.mark.django_db
def test_four_failures_do_not_lock(api_client, user, password):
    _fail(api_client, user.username, times=4)

    response = api_client.post(LOGIN, {"username": user.username, "password": password})

    assert response.status_code == 200


@pytest.mark.django_db
def test_lockout_is_per_username_and_ip(api_client, user, password):
    _fail(api_client, user.username)

    response = api_client.post(
        LOGIN, {"username": user.username, "password": password}, REMOTE_ADDR="10.9.9.9"
    )

    assert response.status_code == 200


@pytest.mark.django_db
def test_lockout_sends_email(api_client, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _fail(api_client, user.username)

    locked = [m for m in mail.outbox if "locked" in m.subject]
    assert len(locked) == 1
    assert locked[0].to == [user.email]


@pytest.mark.django_db
def test_lockout_holds_with_cache_at_closed_port(api_client, user, password, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    ok = api_client.post(LOGIN, {"username": user.username, "password": password})
    assert ok.status_code == 200

    _fail(api_client, user.username)
    response = api_client.post(LOGIN, {"username": user.username, "password": password})

    assert response.status_code == 429
