"""``get_many_and_count``: the request's one cache round trip, on Redis and without it."""

from __future__ import annotations

import pytest
from django.conf import settings

from core import cache as core_cache
from core.cachebackend import RedisCache


def _backend(location: str) -> RedisCache:
    return RedisCache(
        location,
        {
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
                "IGNORE_EXCEPTIONS": True,
            }
        },
    )


def test_unreachable_redis_reads_nothing_and_counts_nothing() -> None:
    backend = _backend("redis://127.0.0.1:1/0")

    values, counts = backend.get_many_and_count(["a", "b"], {"counter": 60})

    assert values == {}
    assert counts == {"counter": None}


@pytest.mark.redis
def test_values_and_counters_in_one_command() -> None:
    backend = _backend(settings.CACHES["default"]["LOCATION"])
    backend.set("a", {"pickled": True})
    backend.set("n", 7)
    backend.delete("counter")

    first = backend.get_many_and_count(["a", "missing", "n"], {"counter": 30})
    second = backend.get_many_and_count([], {"counter": 30})

    assert first == ({"a": {"pickled": True}, "n": 7}, {"counter": 1})
    assert second == ({}, {"counter": 2})
    raw = backend.client.get_client().ttl(backend.make_key("counter"))
    assert 0 < raw <= 30


@pytest.mark.redis
def test_a_redis_that_forgot_the_script_is_given_it_again() -> None:
    backend = _backend(settings.CACHES["default"]["LOCATION"])
    backend.set("a", 1)
    backend.delete("counter")
    assert backend.get_many_and_count(["a"], {"counter": 30}) == ({"a": 1}, {"counter": 1})

    backend.client.get_client().script_flush()  # as a restarted Redis

    assert backend.get_many_and_count(["a"], {"counter": 30}) == ({"a": 1}, {"counter": 2})


def test_without_redis_the_same_answer_from_get_many_add_and_incr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.core.cache.backends.locmem import LocMemCache

    local = LocMemCache("round-trip-test", {})
    monkeypatch.setattr(core_cache, "cache", local)
    local.set("a", 1)

    assert core_cache.get_many_and_count(["a", "b"], {"c": 60}) == ({"a": 1}, {"c": 1})
    assert core_cache.get_many_and_count([], {"c": 60}) == ({}, {"c": 2})


def test_round_trip_kept_on_the_django_request_behind_drf() -> None:
    from django.test import RequestFactory
    from rest_framework.request import Request

    django_request = RequestFactory().get("/")
    trip = core_cache.RoundTrip({"k": 1}, {"c": 2})

    core_cache.keep_round_trip(Request(django_request), trip)

    assert core_cache.round_trip(django_request) is trip
    assert core_cache.round_trip(Request(django_request)) is trip
    assert core_cache.round_trip(RequestFactory().get("/")) is None
