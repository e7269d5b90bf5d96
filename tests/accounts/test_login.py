import datetime as dt

import pytest
from axes.models import AccessAttemptExpiration
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import UserSession
from accounts.services import lockout_notify
from core.models import OutboxEmail

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


def _locked_mails():
    return [m for m in mail.outbox if "locked" in m.subject]


@pytest.mark.django_db
def test_one_lockout_sends_one_email_however_many_attempts_are_refused(
    api_client, user, password, django_capture_on_commit_callbacks
):
    # Given 8 wrong passwords: the 5th locks the pair out, the 6th to 8th are refused
    with django_capture_on_commit_callbacks(execute=True):
        _fail(api_client, user.username, times=8)
        # and the right password, refused too
        refused = api_client.post(LOGIN, {"username": user.username, "password": password})

    # Then the owner got one e-mail, and one outbox row was written
    assert refused.status_code == 429
    assert len(_locked_mails()) == 1
    assert OutboxEmail.objects.filter(template="account_locked").count() == 1


@pytest.mark.django_db
def test_a_wrong_signature_password_during_a_lockout_sends_no_second_email(
    api_client, user, django_capture_on_commit_callbacks
):
    from accounts.services import check_password_for

    with django_capture_on_commit_callbacks(execute=True):
        _fail(api_client, user.username, times=5)
    request = RequestFactory().post("/api/batches/")  # a signature, from the same IP

    with django_capture_on_commit_callbacks(execute=True):
        assert not check_password_for(request=request, user=user, password="bad-password-1")

    assert len(_locked_mails()) == 1


@pytest.mark.django_db
def test_a_later_lockout_sends_another_email(
    api_client, user, password, django_capture_on_commit_callbacks
):
    # Given a lockout whose cool-off has passed
    with django_capture_on_commit_callbacks(execute=True):
        _fail(api_client, user.username, times=6)
    past = timezone.now() - dt.timedelta(minutes=16)
    AccessAttemptExpiration.objects.update(expires_at=past)
    OutboxEmail.objects.update(created_at=past)

    # When the pair is locked out again
    with django_capture_on_commit_callbacks(execute=True):
        _fail(api_client, user.username, times=6)

    # Then that lockout has its own e-mail
    assert len(_locked_mails()) == 2


@pytest.mark.django_db
def test_a_second_notice_of_one_lockout_is_not_queued(user, django_capture_on_commit_callbacks):
    # Given the notice of a lockout of user + IP (two attempts that both crossed the limit)
    with django_capture_on_commit_callbacks(execute=True):
        lockout_notify(username=user.username, ip="10.0.0.1")
        lockout_notify(username=user.username, ip="10.0.0.1")
        # a lockout of the same username from another IP is another lockout
        lockout_notify(username=user.username, ip="10.0.0.2")

    bodies = [m.body for m in _locked_mails()]
    assert len(bodies) == 2
    assert any("10.0.0.1" in b for b in bodies) and any("10.0.0.2" in b for b in bodies)
    assert OutboxEmail.objects.filter(template="account_locked").count() == 2


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
