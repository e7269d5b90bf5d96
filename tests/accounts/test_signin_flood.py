"""The per-IP budget of failed password checks: a flood of random usernames is refused
with 429 before any password is hashed; successes never count; signatures count too."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.exceptions import ValidationError
from django.test import RequestFactory, override_settings

from accounts import signin_guard
from accounts.models import UserSession
from accounts.signatures import WRONG_SIGNATURE_PASSWORD, reauthentication
from tests.core.test_throttling import DEAD_REDIS_CACHE

LOGIN = "/api/auth/token/"
CHANGE = "/api/auth/password/change/"
LIMIT = 20  # the default: LOGIN_IP_FAILURE_RATE = 20/min


def _random_sign_in(client: Any, **extra: Any) -> Any:
    body = {"username": f"nobody-{uuid.uuid4().hex[:12]}", "password": "wrong-password-1"}
    return client.post(LOGIN, body, **extra)


def _assert_flooded(response: Any) -> None:
    assert response.status_code == 429, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] == "sign_in_flood"
    assert body["detail"].startswith(signin_guard.FLOODED)
    assert 1 <= int(response["Retry-After"]) <= 60


@pytest.fixture(autouse=True)
def one_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard's clock stopped 1 s into a window: a slow run never crosses into the next
    window halfway through a test (which would reset the count)."""
    frozen = (time.time() // 60) * 60 + 1
    monkeypatch.setattr(signin_guard, "_now", lambda: frozen)


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password hash computed (the test settings hash with MD5)."""
    computed: list[str] = []
    encode = MD5PasswordHasher.encode

    def counting(self: Any, password: str, salt: str) -> str:
        computed.append(password)
        return encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    return computed


def test_the_default_budget_is_20_a_minute() -> None:
    from core.throttling import parse_rate

    assert parse_rate(signin_guard.settings.LOGIN_IP_FAILURE_RATE) == (LIMIT, 60)


@pytest.mark.django_db
def test_random_usernames_are_refused_after_the_budget_before_any_hash(
    api_client, user, password, hashes
):
    for _ in range(LIMIT):
        assert _random_sign_in(api_client).status_code == 401
    hashed_before = len(hashes)

    refused = [_random_sign_in(api_client) for _ in range(5)]
    right_password = api_client.post(LOGIN, {"username": user.username, "password": password})

    assert hashed_before >= LIMIT
    for response in [*refused, right_password]:
        _assert_flooded(response)
    assert len(hashes) == hashed_before  # nothing hashed once refused
    assert not UserSession.objects.exists()


@pytest.mark.django_db
def test_another_address_still_signs_in(api_client, user, password):
    for _ in range(LIMIT + 1):
        _random_sign_in(api_client, REMOTE_ADDR="203.0.113.7")

    response = api_client.post(
        LOGIN, {"username": user.username, "password": password}, REMOTE_ADDR="203.0.113.8"
    )

    assert response.status_code == 200
    _assert_flooded(_random_sign_in(api_client, REMOTE_ADDR="203.0.113.7"))


@pytest.mark.django_db
def test_successful_sign_ins_from_a_busy_nat_do_not_count(api_client, user, password):
    for _ in range(LIMIT * 2):
        response = api_client.post(LOGIN, {"username": user.username, "password": password})
        assert response.status_code == 200

    assert _random_sign_in(api_client).status_code == 401


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_forwarded_client_is_counted(api_client, user, password):
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for _ in range(LIMIT):
        _random_sign_in(api_client, HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy)

    flooded = _random_sign_in(api_client, HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy)
    # A client cannot escape by writing its own entries left of the proxy's.
    spoofed = _random_sign_in(api_client, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1", **proxy)
    neighbour = api_client.post(
        LOGIN,
        {"username": user.username, "password": password},
        HTTP_X_FORWARDED_FOR="198.51.100.2",
        **proxy,
    )

    _assert_flooded(flooded)
    _assert_flooded(spoofed)
    assert neighbour.status_code == 200


@pytest.mark.django_db
@override_settings(LOGIN_IP_FAILURE_RATE="3/min")
def test_the_rate_comes_from_settings(api_client):
    for _ in range(3):
        assert _random_sign_in(api_client).status_code == 401

    _assert_flooded(_random_sign_in(api_client))


@pytest.mark.django_db
@override_settings(LOGIN_IP_FAILURE_RATE=None)
def test_no_rate_turns_the_guard_off(api_client):
    for _ in range(LIMIT + 5):
        assert _random_sign_in(api_client).status_code == 401


@pytest.mark.django_db
@pytest.mark.redis
def test_the_counter_expires_with_its_window(api_client):
    from django.core.cache import cache

    _random_sign_in(api_client)

    keys = cache.keys("signin-fail:*")
    assert len(keys) == 1
    assert 0 < cache.ttl(keys[0]) <= 61


@pytest.mark.django_db
def test_wrong_signature_passwords_count_and_are_refused(user, password, hashes):
    factory = RequestFactory()

    def sign(secret: str) -> None:
        reauthentication(
            request=factory.post("/", REMOTE_ADDR="192.0.2.5"), user=user, password=secret
        ).verify()

    sign(password)  # a good signature does not count
    for _ in range(LIMIT):
        with pytest.raises(ValidationError) as wrong:
            sign("not-my-password")
        assert WRONG_SIGNATURE_PASSWORD in str(wrong.value)
    hashed_before = len(hashes)

    with pytest.raises(signin_guard.SignInFlooded):
        sign(password)
    assert len(hashes) == hashed_before


@pytest.mark.django_db
def test_wrong_current_passwords_share_the_budget_with_sign_ins(
    api_client, user, password, auth_client
):
    client = auth_client(user)
    for _ in range(LIMIT):
        response = client.post(
            CHANGE, {"current_password": "nope-nope-nope", "new_password": "Another-pass-2026"}
        )
        assert response.status_code in (400, 429)  # the lockout answers too, per username

    _assert_flooded(_random_sign_in(api_client))
    _assert_flooded(
        client.post(CHANGE, {"current_password": password, "new_password": "Another-pass-2026"})
    )
    user.refresh_from_db()
    assert user.check_password(password)


@pytest.mark.django_db
@override_settings(CACHES=DEAD_REDIS_CACHE, LOGIN_IP_FAILURE_RATE="2/min")
def test_with_the_cache_down_the_guard_lets_attempts_through(api_client, user, password):
    for _ in range(4):
        assert _random_sign_in(api_client).status_code == 401

    response = api_client.post(LOGIN, {"username": user.username, "password": password})

    assert response.status_code == 200


@pytest.mark.django_db
def test_once_refused_an_address_is_answered_before_the_view_and_still_audited(
    api_client, monkeypatch
):
    from audit.models import AuditLog

    for _ in range(LIMIT):
        _random_sign_in(api_client)
    _assert_flooded(_random_sign_in(api_client))  # refused by the view: remembered

    def not_reached(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the sign-in view was reached")

    monkeypatch.setattr(signin_guard, "check", not_reached)
    early = _random_sign_in(api_client)

    _assert_flooded(early)
    record = AuditLog.objects.filter(request_id=early["X-Request-ID"]).get()
    assert record.status_code == 429
    assert record.ip == "127.0.0.1"


@pytest.mark.django_db
def test_a_remembered_refusal_ends_with_its_window(api_client, monkeypatch):
    signin_guard.refused.add("127.0.0.1", until=0.0)  # a window that has ended

    assert _random_sign_in(api_client).status_code == 401


def test_remembered_refusals_are_bounded(monkeypatch):
    monkeypatch.setattr(signin_guard, "MAX_REMEMBERED", 3)
    kept = signin_guard._Refused()
    for n in range(5):
        kept.add(f"192.0.2.{n}", until=time.time() + 60)

    assert kept.seconds_left("192.0.2.0") is None  # the oldest went first
    assert kept.seconds_left("192.0.2.4") is not None
