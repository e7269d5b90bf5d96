"""Request-rate guards for the API: one budget per client IP (anonymous) and one per user.

A load guard, not a security control: the sign-in lockout (django-axes, in the database)
is what stops password guessing. Counts are kept in the cache as fixed windows (one
counter per client and window, one round trip per request on Redis). When the cache
cannot be reached the guard lets the request through: a dead Redis must not turn into
refused or failed requests.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (``THROTTLE_ANON_RATE`` and
``THROTTLE_USER_RATE`` in the environment), e.g. ``"3000/min"``; ``None`` turns a scope
off. A refused request answers 429 with ``Retry-After`` (seconds).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from core.context import client_ip

logger = logging.getLogger(__name__)


_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int | None, int | None]:
    """``"3000/min"`` -> ``(3000, 60)``; ``None`` -> ``(None, None)`` (no limit)."""
    if not rate:
        return None, None
    number, _, period = rate.partition("/")
    return int(number), _PERIODS[period.strip()[0]]


def _count(key: str, window: int) -> int | None:
    """Add one to the counter ``key`` (created with a ``window`` s expiry); its new value.

    ``None`` when the cache could not answer (the caller then lets the request pass).
    """
    try:
        get_client = getattr(getattr(cache, "client", None), "get_client", None)
        if get_client is not None:  # django-redis: SET NX EX + INCR in one round trip
            raw_key = cache.make_key(key)
            pipe = get_client(write=True).pipeline(transaction=False)
            pipe.set(raw_key, 0, ex=window, nx=True)
            pipe.incr(raw_key)
            return int(pipe.execute()[-1])
        cache.add(key, 0, timeout=window)
        return int(cache.incr(key))
    except Exception as exc:  # any cache failure: fail open, never a 500
        logger.warning("throttle_cache_unavailable", extra={"error": type(exc).__name__})
        return None


class FixedWindowThrottle(BaseThrottle):
    scope = ""

    def __init__(self) -> None:
        self.limit, self.window = parse_rate(api_settings.DEFAULT_THROTTLE_RATES.get(self.scope))
        self._wait = 0.0

    def ident(self, request: Any) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Any, view: Any) -> bool:
        if not self.limit or not self.window:
            return True
        ident = self.ident(request)
        if ident is None:
            return True
        now = time.time()
        window_start = int(now // self.window) * self.window
        count = _count(f"throttle:{self.scope}:{ident}:{window_start}", self.window + 1)
        if count is None or count <= self.limit:
            return True
        self._wait = max(window_start + self.window - now, 1.0)
        return False

    def wait(self) -> float | None:
        return self._wait


class AnonRateThrottle(FixedWindowThrottle):
    """Requests without credentials, counted per client IP (proxy-aware)."""

    scope = "anon"

    def ident(self, request: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return client_ip(request.META) or "unknown"


class UserRateThrottle(FixedWindowThrottle):
    """Authenticated requests, counted per user (whatever the IP)."""

    scope = "user"

    def ident(self, request: Any) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return str(request.user.pk)
