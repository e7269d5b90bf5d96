"""Cache helpers for versioned entries: security decisions and hot reads such as sites.

Entries are read with the normal cache (errors become misses, so a dead Redis only
costs a database query). Invalidations are written with ``strict_set_many``, which
reports failure; a failed invalidation bumps the database-held generation that prefixes every
key, in the same transaction as the change (see ``CacheGeneration``).

One round trip per request: the JWT authentication reads user, session, permissions,
whatever the view declares it will need (``prefetch_cache_keys``) and the user's rate
counter with one ``get_many_and_count``; the answer is kept on the request
(``keep_round_trip``) for the view and the throttle to read (``round_trip``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F

from core.models import CacheGeneration

logger = logging.getLogger(__name__)

GENERATION_NAME = "auth"
_lock = threading.Lock()
_state: dict[str, Any] = {"value": None, "checked_at": 0.0, "refreshing": False}


def _read_generation() -> int:
    row = CacheGeneration.objects.filter(name=GENERATION_NAME).values_list("value", flat=True)
    value = row.first()
    return int(value) if value is not None else 0


def _refresh_in_background() -> None:
    """Read the generation on a thread of its own, so no request waits for (or counts)
    the query; at most one refresh runs at a time."""
    with _lock:
        if _state.get("refreshing"):
            return
        _state["refreshing"] = True

    def refresh() -> None:
        try:
            value = _read_generation()
        except Exception:  # a database hiccup: keep the known value, try again later
            logger.warning("cache_generation_refresh_failed", exc_info=True)
            value = None
        finally:
            connection.close()  # this thread's own connection
        with _lock:
            if value is not None and _state["value"] is not None:
                _state["value"] = max(int(_state["value"]), value)
            _state["checked_at"] = time.monotonic()
            _state["refreshing"] = False

    threading.Thread(target=refresh, name="cache-generation", daemon=True).start()


def current_generation() -> int:
    """The generation prefix, as this process last read it from the database.

    A process that bumped the generation knows it at once. Other processes re-read it
    every ``AUTH_CACHE_GENERATION_POLL_SECONDS`` on a background thread, so a warm request
    makes no query for it; they notice a bump within the poll interval and one read.
    Only the first read in a process (or after this process bumped it) is inline.
    """
    value = _state["value"]
    if value is None:
        value = _read_generation()
        with _lock:
            _state["value"] = value
            _state["checked_at"] = time.monotonic()
        return int(value)
    if time.monotonic() - _state["checked_at"] >= settings.AUTH_CACHE_GENERATION_POLL_SECONDS:
        _refresh_in_background()
    return int(value)


def forget_generation() -> None:
    """Make the next ``current_generation`` read the database (tests, after a bump)."""
    with _lock:
        _state["value"] = None


def bump_generation() -> None:
    """Invalidate every cached security decision, in the caller's transaction."""
    updated = CacheGeneration.objects.filter(name=GENERATION_NAME).update(value=F("value") + 1)
    if not updated:
        CacheGeneration.objects.create(name=GENERATION_NAME, value=2)
    logger.warning("auth_cache_generation_bumped")
    forget_generation()
    if connection.in_atomic_block:
        transaction.on_commit(forget_generation)


def strict_set_many(mapping: dict[str, Any], timeout: int) -> bool:
    """Set keys and say whether the cache really stored them."""
    client = getattr(cache, "client", None)
    try:
        if client is not None and hasattr(client, "get_client"):
            client.set_many(mapping, timeout=timeout)  # raises when Redis is unreachable
        else:
            cache.set_many(mapping, timeout)
    except Exception:
        logger.warning("cache_invalidation_failed", extra={"keys": len(mapping)}, exc_info=True)
        return False
    return True


def invalidate(key: str, value: Any, timeout: int) -> None:
    invalidate_many({key: value}, timeout)


def invalidate_many(mapping: dict[str, Any], timeout: int) -> None:
    """Overwrite version pointers now, inside the change's transaction.

    A reader that reads the database before the change commits finds the new pointer
    already there, so what it caches (under the old version) is never served, and the
    pointer is right even if the process dies between COMMIT and its callbacks. Written
    again after the commit only when the transaction outlived half the pointer's
    lifetime: the pointer may then have expired meanwhile and been seeded again with the
    old version by a reader. (A pointer evicted in those milliseconds would do the same,
    which is why the cache must evict by recency, not at random: see the README.)

    If the cache cannot be reached, bump the generation instead so stale entries can never
    be read again.
    """
    if not mapping:
        return
    if not strict_set_many(mapping, timeout):
        bump_generation()
        return
    if connection.in_atomic_block:
        written_at = time.monotonic()

        def confirm() -> None:
            if time.monotonic() - written_at > timeout / 2 and not strict_set_many(
                mapping, timeout
            ):
                bump_generation()

        transaction.on_commit(confirm)


# --- one round trip per request ---------------------------------------------------------


def get_many_and_count(
    keys: list[str], counters: dict[str, int]
) -> tuple[dict[str, Any], dict[str, int | None]]:
    """``cache.get_many(keys)`` and one more on each counter in ``counters`` (key -> expiry
    in seconds of a counter created now), in one round trip on Redis. A counter the cache
    could not count is ``None``; values it could not read are missing."""
    combined = getattr(cache, "get_many_and_count", None)
    if combined is not None:
        result: tuple[dict[str, Any], dict[str, int | None]] = combined(keys, counters)
        return result
    values = cache.get_many(keys) if keys else {}
    counts: dict[str, int | None] = {}
    for key, window in counters.items():
        try:
            cache.add(key, 0, timeout=window)
            counts[key] = int(cache.incr(key))
        except Exception as exc:  # fail open, as the Redis path does
            logger.warning("cache_unavailable", extra={"error": type(exc).__name__})
            counts[key] = None
    return values, counts


@dataclass
class RoundTrip:
    """What the request's one cache round trip read (``values``) and counted (``counts``)."""

    values: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int | None] = field(default_factory=dict)


_ROUND_TRIP_ATTR = "_cache_round_trip"


def keep_round_trip(request: Any, trip: RoundTrip) -> None:
    """Keep ``trip`` on the Django request (a DRF request is unwrapped)."""
    setattr(getattr(request, "_request", request), _ROUND_TRIP_ATTR, trip)


def round_trip(request: Any) -> RoundTrip | None:
    return getattr(getattr(request, "_request", request), _ROUND_TRIP_ATTR, None)
