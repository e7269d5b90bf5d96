"""Request-rate guards for the API: one budget per client IP (anonymous) and one per user.

A load guard, not a security control: the sign-in lockout (django-axes, in the database)
is what stops password guessing. Counts are kept in the cache as fixed windows (one
counter per client and window; an authenticated request is counted in the round trip
that authenticates it, an anonymous one costs a round trip of its own). When the cache
cannot be reached the guard lets the request through: a dead Redis must not turn into
refused or failed requests.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (``THROTTLE_ANON_RATE`` and
``THROTTLE_USER_RATE`` in the environment), e.g. ``"3000/min"``; ``None`` turns a scope
off. A refused request answers 429 with ``Retry-After`` (seconds).
"""

from __future__ import annotations

import time
from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from core.cache import get_many_and_count, round_trip
from core.context import client_ip

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
    return get_many_and_count([], {key: window})[1][key]


class FixedWindowThrottle(BaseThrottle):
    scope = ""

    def __init__(self) -> None:
        # The stubs type throttle rates as numbers; DRF reads "30/min" strings.
        self.limit, self.window = parse_rate(api_settings.DEFAULT_THROTTLE_RATES.get(self.scope))  # type: ignore[arg-type]
        self._wait = 0.0

    def ident(self, request: Any) -> str | None:
        raise NotImplementedError

    def counter(self, ident: str, now: float) -> tuple[str, int]:
        """The cache key counting ``ident`` in the window holding ``now``, and its expiry."""
        assert self.window is not None
        window_start = int(now // self.window) * self.window
        return f"throttle:{self.scope}:{ident}:{window_start}", self.window + 1

    def allow_request(self, request: Any, view: Any) -> bool:
        if not self.limit or not self.window:
            return True
        ident = self.ident(request)
        if ident is None:
            return True
        now = time.time()
        key, expiry = self.counter(ident, now)
        trip = round_trip(request)
        if trip is not None and key in trip.counts:  # counted with the authentication
            count = trip.counts[key]
        else:
            count = _count(key, expiry)
        if count is None or count <= self.limit:
            return True
        window_start = int(now // self.window) * self.window
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
    """Authenticated requests, counted per user (whatever the IP).

    The JWT authentication counts the request in its own cache round trip
    (``counters_for``), so the guard costs no round trip of its own.
    """

    scope = "user"

    @classmethod
    def counters_for(cls, view: Any, user_id: Any) -> dict[str, int]:
        """The counter this guard will read for ``user_id`` on ``view`` (none if off)."""
        classes = getattr(view, "throttle_classes", ())
        if not any(isinstance(c, type) and issubclass(c, cls) for c in classes):
            return {}
        throttle = cls()
        if not throttle.limit or not throttle.window:
            return {}
        key, expiry = throttle.counter(str(user_id), time.time())
        return {key: expiry}

    def ident(self, request: Any) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return str(request.user.pk)
