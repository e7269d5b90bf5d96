"""django-redis with Prometheus counters on reads, ``get_many`` included.

django-prometheus's Redis backend counts ``get`` only; the security cache reads with
one ``get_many`` per request, so that is counted here too (per key: hits and misses).
``get_many_and_count`` adds the request's rate counters to that same round trip: one
command, a script Redis keeps (``EVALSHA``; loaded again by redis-py if Redis forgot it),
which costs the client about half what a pipeline of MGET and SET/INCR pairs did.
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
from redis.commands.core import Script

_GETS = django_cache_get_total.labels(backend="redis")
_HITS = django_cache_hits_total.labels(backend="redis")
_MISSES = django_cache_misses_total.labels(backend="redis")

logger = logging.getLogger("cache")

# KEYS: the values to read (ARGV[1] of them), then the counters; ARGV[2..]: each
# counter's expiry in seconds, used when the counter is created. Replies with the
# values (nil where missing) and each counter's new count.
_READ_AND_COUNT = """
local n = tonumber(ARGV[1])
local values = {}
if n > 0 then values = redis.call('MGET', unpack(KEYS, 1, n)) end
local counts = {}
for i = n + 1, #KEYS do
  redis.call('SET', KEYS[i], 0, 'EX', ARGV[i - n + 1], 'NX')
  counts[#counts + 1] = redis.call('INCR', KEYS[i])
end
return {values, counts}
"""


# django-prometheus ships no type information.
class RedisCache(PrometheusRedisCache):  # type: ignore[misc]
    _read_and_count: Script | None = None

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
        counter it creates), one command: one round trip. Unreachable Redis: misses, and
        ``None`` for every counter (the callers fail open)."""
        client = self.client
        raw_keys = [client.make_key(key) for key in keys]
        try:
            redis = client.get_client(write=True)
            if self._read_and_count is None:
                self._read_and_count = Script(redis, _READ_AND_COUNT)
            values, counted = self._read_and_count(
                keys=[*raw_keys, *(client.make_key(key) for key in counters)],
                args=[len(raw_keys), *counters.values()],
                client=redis,
            )
        except Exception as exc:  # the cache is optional: never an error for the caller
            logger.warning("cache_unavailable", extra={"error": type(exc).__name__})
            return {}, dict.fromkeys(counters)
        found: dict[str, Any] = {}
        for key, value in zip(keys, values, strict=True):
            if value is not None:
                found[key] = client.decode(value)
        _GETS.inc(len(keys))
        _HITS.inc(len(found))
        _MISSES.inc(len(keys) - len(found))
        counts: dict[str, int | None] = {
            key: int(count) for key, count in zip(counters, counted, strict=True)
        }
        return found, counts
