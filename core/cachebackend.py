"""django-redis with Prometheus counters on reads, ``get_many`` included.

django-prometheus's Redis backend counts ``get`` only; the security cache reads with
one ``get_many`` per request, so that is counted here too (per key: hits and misses).
``get_many_and_count`` adds the request's rate counters to that same round trip.
"""

from __future__ import annotations

import logging
from typing import Any

from django_prometheus.cache.backends.redis import RedisCache as PrometheusRedisCache
from django_prometheus.cache.metrics import (
    django_cache_get_total,
    django_cache_hits_total,
    django_cache_misses_total,
)

_GETS = django_cache_get_total.labels(backend="redis")
_HITS = django_cache_hits_total.labels(backend="redis")
_MISSES = django_cache_misses_total.labels(backend="redis")

logger = logging.getLogger("cache")


# django-prometheus ships no type information.
class RedisCache(PrometheusRedisCache):  # type: ignore[misc]
    def get_many(self, keys: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        keys = list(keys)
        found = super().get_many(keys, *args, **kwargs)
        _GETS.inc(len(keys))
        _HITS.inc(len(found))
        _MISSES.inc(len(keys) - len(found))
        result: dict[str, Any] = found
        return result

    def get_many_and_count(
        self, keys: list[str], counters: dict[str, int]
    ) -> tuple[dict[str, Any], dict[str, int | None]]:
        """``get_many(keys)`` and one more on each counter (key -> expiry in seconds of a
        counter it creates), pipelined: one round trip. Unreachable Redis: misses, and
        ``None`` for every counter (the callers fail open)."""
        client = self.client
        raw_keys = [client.make_key(key) for key in keys]
        try:
            pipe = client.get_client(write=True).pipeline(transaction=False)
            if raw_keys:
                pipe.mget(raw_keys)
            for key, window in counters.items():
                raw = client.make_key(key)
                pipe.set(raw, 0, ex=window, nx=True)
                pipe.incr(raw)
            replies = pipe.execute()
        except Exception as exc:  # the cache is optional: never an error for the caller
            logger.warning("cache_unavailable", extra={"error": type(exc).__name__})
            return {}, dict.fromkeys(counters)
        found: dict[str, Any] = {}
        if raw_keys:
            for key, value in zip(keys, replies[0], strict=True):
                if value is not None:
                    found[key] = client.decode(value)
            replies = replies[1:]
        _GETS.inc(len(keys))
        _HITS.inc(len(found))
        _MISSES.inc(len(keys) - len(found))
        counts: dict[str, int | None] = {
            key: int(replies[2 * n + 1]) for n, key in enumerate(counters)
        }
        return found, counts
