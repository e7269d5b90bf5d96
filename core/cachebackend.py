"""django-redis with Prometheus counters on reads, ``get_many`` included.

django-prometheus's Redis backend counts ``get`` only; the security cache reads with
one ``get_many`` per request, so that is counted here too (per key: hits and misses).
"""

from __future__ import annotations

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


class RedisCache(PrometheusRedisCache):
    def get_many(self, keys: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        keys = list(keys)
        found = super().get_many(keys, *args, **kwargs)
        _GETS.inc(len(keys))
        _HITS.inc(len(found))
        _MISSES.inc(len(keys) - len(found))
        return found
