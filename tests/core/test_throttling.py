"""The API's load guard: per-IP and per-user request budgets, 429 with Retry-After, and
no failures when the cache behind the counters is gone."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from core import throttling
from tests.accounts.factories import UserFactory

REFRESH = "/api/auth/token/refresh/"
PROFILE = "/api/auth/profile/"
DEAD_REDIS_CACHE = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 0.25,
            "SOCKET_TIMEOUT": 0.25,
            "IGNORE_EXCEPTIONS": True,
        },
    }
}


def rates(anon: str | None = "3/min", user: str | None = "5/min") -> Any:
    return override_settings(
        REST_FRAMEWORK={
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"anon": anon, "user": user},
        }
    )


def _refresh(client: Any) -> Any:
    return client.post(REFRESH, {"refresh": "not-a-token"}, format="json")


def _assert_throttled(response: Any) -> None:
    assert response.status_code == 429, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "throttled"
    assert body["detail"]
    assert 1 <= int(response["Retry-After"]) <= 60


def test_defaults_are_generous() -> None:
    configured = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert throttling.parse_rate(configured["anon"])[0] >= 1000
    assert throttling.parse_rate(configured["user"])[0] >= 10000


def test_parse_rate() -> None:
    assert throttling.parse_rate("3000/min") == (3000, 60)
    assert throttling.parse_rate("10/s") == (10, 1)
    assert throttling.parse_rate("5/hour") == (5, 3600)
    assert throttling.parse_rate(None) == (None, None)


@pytest.mark.django_db
def test_anonymous_budget_per_ip_then_429_with_retry_after(api_client: Any) -> None:
    with rates(anon="3/min"):
        statuses = [_refresh(api_client).status_code for _ in range(3)]
        assert statuses == [401, 401, 401]
        _assert_throttled(_refresh(api_client))
        # Another client address has its own budget.
        other = api_client.post(REFRESH, {"refresh": "x"}, format="json", REMOTE_ADDR="192.0.2.7")
        assert other.status_code == 401


@pytest.mark.django_db
def test_user_budget_is_per_user(auth_client: Any, user: Any) -> None:
    client = auth_client(user)
    other = auth_client(UserFactory())
    with rates(anon=None, user="5/min"):
        for _ in range(5):
            assert client.get(PROFILE).status_code == 200
        _assert_throttled(client.get(PROFILE))
        assert other.get(PROFILE).status_code == 200


@pytest.mark.django_db
def test_budget_comes_back_in_the_next_window(
    auth_client: Any, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = auth_client(user)
    now = [1_000_040.0]  # 20 s into a window that started at 1_000_020
    monkeypatch.setattr(throttling.time, "time", lambda: now[0])
    with rates(anon=None, user="2/min"):
        assert client.get(PROFILE).status_code == 200
        assert client.get(PROFILE).status_code == 200
        response = client.get(PROFILE)
        _assert_throttled(response)
        assert int(response["Retry-After"]) == 40
        now[0] += 60
        assert client.get(PROFILE).status_code == 200


@pytest.mark.django_db
def test_a_throttled_write_changes_nothing(auth_client: Any, staff_user: Any) -> None:
    from sites.models import Site

    client = auth_client(staff_user)
    body = {
        "code": "THR-01",
        "name": "Throttled plant",
        "gln": "4012345000009",
        "country": "DE",
        "timezone": "Europe/Berlin",
    }
    with rates(anon=None, user="1/min"):
        assert client.get(PROFILE).status_code == 200
        _assert_throttled(client.post("/api/sites/", body, format="json"))
    assert not Site.objects.filter(code="THR-01").exists()


class _BrokenCache:
    """Reads miss (as django-redis reports an unreachable Redis); counting raises."""

    client = None

    def make_key(self, key: str) -> str:
        return key

    def get_many(self, keys: Any) -> dict[str, Any]:
        return {}

    def add(self, *args: Any, **kwargs: Any) -> bool:
        raise ConnectionError("cache down")

    def incr(self, *args: Any, **kwargs: Any) -> int:
        raise ConnectionError("cache down")


@pytest.mark.django_db
def test_cache_errors_let_requests_through(
    auth_client: Any, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import core.cache

    client = auth_client(user)
    monkeypatch.setattr(core.cache, "cache", _BrokenCache())
    with rates(anon="1/min", user="1/min"):
        for _ in range(3):
            assert client.get(PROFILE).status_code == 200
            assert _refresh(client).status_code == 401


@pytest.mark.redis
@pytest.mark.django_db
def test_dead_redis_is_no_500_and_no_429(api_client: Any, user: Any, password: str) -> None:
    with rates(anon="1/min", user="1/min"), override_settings(CACHES=DEAD_REDIS_CACHE):
        login = api_client.post(
            "/api/auth/token/", {"username": user.username, "password": password}, format="json"
        )
        assert login.status_code == 200, login.content
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")
        for _ in range(3):
            assert api_client.get(PROFILE).status_code == 200
            assert _refresh(api_client).status_code == 401


@pytest.mark.redis
@pytest.mark.django_db
def test_counters_live_in_redis_with_an_expiry(auth_client: Any, user: Any) -> None:
    from django_redis import get_redis_connection

    client = auth_client(user)
    with rates(anon=None, user="100/min"):
        assert client.get(PROFILE).status_code == 200
    redis = get_redis_connection("default")
    keys = [k for k in redis.scan_iter(match=f"*throttle:user:{user.pk}:*")]
    assert len(keys) == 1
    assert 0 < redis.ttl(keys[0]) <= 61
    assert int(redis.get(keys[0])) == 1
