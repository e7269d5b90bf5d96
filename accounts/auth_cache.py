"""Cached authentication state: the user and their sessions, under versioned keys.

A request on a warm cache reads everything it needs for authentication (and, through
``extra_keys``, for permissions) in one ``get_many``. ``User.auth_version`` is the
version; the pointer key holds the current value and is overwritten, inside the
transaction of the change, whenever a security-relevant field changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache

from core.cache import current_generation, get_many_and_count, invalidate, invalidate_many


def key_prefix() -> str:
    return f"auth:g{current_generation()}"


def version_key(user_id: Any, prefix: str | None = None) -> str:
    return f"{prefix or key_prefix()}:ver:{user_id}"


def user_key(user_id: Any, prefix: str | None = None) -> str:
    return f"{prefix or key_prefix()}:user:{user_id}"


def session_key(session_id: Any, prefix: str | None = None) -> str:
    return f"{prefix or key_prefix()}:sess:{session_id}"


@dataclass
class CachedAuth:
    """What one ``get_many`` returned for a user: the current version and cached values."""

    prefix: str
    user_id: str
    version: int | None
    values: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int | None] = field(default_factory=dict)

    def get_versioned(self, key: str) -> Any:
        """The value at ``key`` if it was computed for the current version."""
        entry = self.values.get(key)
        if entry is None or self.version is None:
            return None
        entry_version, payload = entry
        return payload if entry_version == self.version else None


def fetch(
    user_id: Any,
    *,
    extra_keys: Iterable[str] = (),
    prefix: str | None = None,
    counters: dict[str, int] | None = None,
) -> CachedAuth:
    """Version, user and ``extra_keys`` read, and ``counters`` counted, in one round trip."""
    prefix = prefix or key_prefix()
    keys = [version_key(user_id, prefix), user_key(user_id, prefix), *extra_keys]
    values, counts = get_many_and_count(keys, counters or {})
    version = values.get(keys[0])
    return CachedAuth(
        prefix=prefix, user_id=str(user_id), version=version, values=values, counts=counts
    )


def store_versioned(key: str, version: int, payload: Any) -> None:
    cache.set(key, (version, payload), settings.AUTH_CACHE_TIMEOUT)


def ensure_version(user_id: Any, version: int, prefix: str | None = None) -> None:
    """Seed a missing pointer; never overwrites a newer value written by a change."""
    cache.add(version_key(user_id, prefix), version, settings.AUTH_CACHE_TIMEOUT)


def invalidate_user(user_id: Any, version: int) -> None:
    """Point the cache at the user's current version (already moved in the database)."""
    invalidate(version_key(user_id), version, settings.AUTH_CACHE_TIMEOUT)


def remember_session(session_id: Any, active: bool, prefix: str | None = None) -> None:
    """Cache what the database said; ``add`` so an ending written meanwhile wins."""
    cache.add(session_key(session_id, prefix), active, settings.AUTH_CACHE_TIMEOUT)


def end_session(session_id: Any) -> None:
    invalidate(session_key(session_id), False, settings.AUTH_CACHE_TIMEOUT)


def invalidate_versions(versions: Iterable[tuple[Any, int]]) -> None:
    """``invalidate_user`` for many ``(user_id, version)`` pairs in one round trip."""
    invalidate_many(
        {version_key(pk): version for pk, version in versions}, settings.AUTH_CACHE_TIMEOUT
    )
