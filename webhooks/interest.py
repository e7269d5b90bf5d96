"""Which event types some active subscription wants: only those are written to the
outbox (and rendered). An event nobody subscribed to costs its change nothing.

Each process reads the set from the database at most every
``WEBHOOK_INTEREST_REFRESH_SECONDS`` (one small query), and at once after it changed a
subscription itself. A subscription made in another process thus receives the events
published from at most that long after it was saved.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings

from webhooks.models import Subscription

_lock = threading.Lock()
_types: frozenset[str] = frozenset()
_read_at = float("-inf")


def wanted(event_type: str) -> bool:
    global _types, _read_at
    now = time.monotonic()
    if now - _read_at > settings.WEBHOOK_INTEREST_REFRESH_SECONDS:
        with _lock:
            if now - _read_at > settings.WEBHOOK_INTEREST_REFRESH_SECONDS:
                found: set[str] = set()
                for types in Subscription.objects.filter(is_active=True).values_list(
                    "events", flat=True
                ):
                    found.update(types)
                _types, _read_at = frozenset(found), now
    return event_type in _types


def forget() -> None:
    """Read the set again at the next event (a subscription changed here)."""
    global _read_at
    _read_at = float("-inf")
