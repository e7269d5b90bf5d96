"""A budget of failed password checks per client IP: sign-ins and signature passwords.

The lockout (django-axes, in the database) counts failures per username + IP, so a flood
of random usernames never meets it, and every attempt costs a password hash. This guard
counts the failures of each client IP (``TRUSTED_PROXY_COUNT``-aware) in fixed windows,
``LOGIN_IP_FAILURE_RATE`` (default ``20/min``); once an address has used its budget, its
password checks are refused with 429 and ``Retry-After`` before anything is hashed, until
the window ends. Only failures count, so a busy NAT whose users sign in successfully never
reaches the limit.

Counted in the cache: ``SET NX EX`` then ``INCR``, pipelined, so a counter never exists
without its expiry. With Redis unreachable the guard lets attempts through (the lockout
still holds, in the database).

A flood keeps coming after its first refusal, and each refused request still costs a
worker's time. So a process that has refused an address remembers it until the window
ends, and ``SignInFloodMiddleware`` answers that address's next sign-ins early in the
middleware stack (after the request log and the access record, before sessions, CSRF,
authentication, DRF and the cache round trip), cheaper than a signed-in user's request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from rest_framework import exceptions

from core.cache import get_many_and_count
from core.context import client_ip
from core.throttling import parse_rate

logger = logging.getLogger(__name__)

FLOODED = "Too many failed sign-ins from this address."
MAX_REMEMBERED = 10_000


class SignInFlooded(exceptions.Throttled):
    """The client IP used its budget of failed password checks; nothing was checked."""

    default_detail = FLOODED
    default_code = "sign_in_flood"


class _Refused:
    """Addresses this process refused, each until the end of its window (bounded)."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, ip: str, until: float) -> None:
        with self._lock:
            if len(self._until) >= MAX_REMEMBERED:
                now = _now()
                self._until = {k: v for k, v in self._until.items() if v > now}
                while len(self._until) >= MAX_REMEMBERED:
                    self._until.pop(next(iter(self._until)))
            self._until[ip] = until

    def seconds_left(self, ip: str) -> float | None:
        until = self._until.get(ip)
        if until is None:
            return None
        left = until - _now()
        return left if left > 0 else None

    def clear(self) -> None:
        with self._lock:
            self._until.clear()


refused = _Refused()


def _now() -> float:
    return time.time()


def _window(ip: str, now: float) -> tuple[int, str, int, float] | None:
    """The limit, the window's cache key, its expiry and the seconds left (None: off)."""
    limit, window = parse_rate(settings.LOGIN_IP_FAILURE_RATE)
    if not limit or not window:
        return None
    window_start = int(now // window) * window
    return limit, f"signin-fail:{ip}:{window_start}", window + 1, window_start + window - now


def client_address(request: HttpRequest) -> str:
    return client_ip(request.META) or "unknown"


def check(ip: str) -> None:
    """Raise ``SignInFlooded`` if ``ip`` has no failed check left in this window."""
    window = _window(ip, _now())
    if window is None:
        return
    limit, key, _, seconds_left = window
    try:
        failures = cache.get(key)
    except Exception as exc:  # fail open: an unreachable cache must not refuse sign-ins
        logger.warning("cache_unavailable", extra={"error": type(exc).__name__})
        return
    if failures is not None and int(failures) >= limit:
        refused.add(ip, _now() + seconds_left)
        raise SignInFlooded(wait=max(seconds_left, 1.0))


def record_failure(ip: str) -> None:
    """Count one failed password check of ``ip`` (nothing if the cache is down)."""
    window = _window(ip, _now())
    if window is not None:
        _, key, expiry, _ = window
        get_many_and_count([], {key: expiry})


class SignInFloodMiddleware:
    """Answers sign-ins from an address this process already refused, early and cheaply.

    Only what this process saw: a first sign-in from a flooding address is refused by
    ``check``, which costs one cache read; the refusals after it cost no I/O at all.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._path: str | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            if self._path is None:
                self._path = reverse("token-obtain")
            if request.path == self._path:
                seconds_left = refused.seconds_left(client_address(request))
                if seconds_left is not None and settings.LOGIN_IP_FAILURE_RATE:
                    return _flooded_response(SignInFlooded(wait=max(seconds_left, 1.0)))
        return self.get_response(request)


def _flooded_response(exc: SignInFlooded) -> JsonResponse:
    response = JsonResponse({"detail": str(exc.detail), "code": exc.default_code}, status=429)
    # Throttled sets wait in __init__.
    response["Retry-After"] = str(exc.wait)  # type: ignore[attr-defined]
    return response
