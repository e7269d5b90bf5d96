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
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework import exceptions

from core.cache import get_many_and_count
from core.context import client_ip
from core.throttling import parse_rate

logger = logging.getLogger(__name__)

FLOODED = "Too many failed sign-ins from this address."


class SignInFlooded(exceptions.Throttled):
    """The client IP used its budget of failed password checks; nothing was checked."""

    default_detail = FLOODED
    default_code = "sign_in_flood"


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
    window = _window(ip, time.time())
    if window is None:
        return
    limit, key, _, seconds_left = window
    try:
        failures = cache.get(key)
    except Exception as exc:  # fail open: an unreachable cache must not refuse sign-ins
        logger.warning("cache_unavailable", extra={"error": type(exc).__name__})
        return
    if failures is not None and int(failures) >= limit:
        raise SignInFlooded(wait=max(seconds_left, 1.0))


def record_failure(ip: str) -> None:
    """Count one failed password check of ``ip`` (nothing if the cache is down)."""
    window = _window(ip, time.time())
    if window is not None:
        _, key, expiry, _ = window
        get_many_and_count([], {key: expiry})
