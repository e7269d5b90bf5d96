"""The site detail, cached: plant systems read their site far more often than it changes.

Versioned the way the authentication cache is (``accounts.auth_cache``): a pointer key
holds the site's current version, its ``updated_at``, and the entry holds
``(version, representation)``; an entry is served only when the two agree. Every write
sets the pointer inside its transaction and again after commit (``post_save``,
``post_delete``, ``SiteQuerySet.update``); a reader only seeds a missing pointer, so an
answer computed from a row a writer was replacing can never be served. When Redis cannot
take the new pointer, the writer bumps the cache generation in its own transaction and
every key written before stops being read (``core.cache.invalidate_many``).

The keys are read in the request's one cache round trip (the view declares them with
``prefetch_cache_keys``); the permission check stays where it was, on every request.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache

from core.cache import current_generation, invalidate_many

DELETED = "deleted"


def parse_id(value: Any) -> str | None:
    """The canonical form of a site id from a URL, or None if it is not a UUID."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def keys(site_id: str) -> tuple[str, str]:
    """The pointer and entry keys of ``site_id``, under the current generation."""
    prefix = f"sites:g{current_generation()}"
    return f"{prefix}:ver:{site_id}", f"{prefix}:detail:{site_id}"


def version(site: Any) -> str:
    return site.updated_at.isoformat()


def lookup(site_id: str, values: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The cached representation of ``site_id`` if it is current, else None.

    ``values`` is what the request's round trip read (``prefetch_cache_keys``); without
    it the cache is asked here.
    """
    pointer_key, entry_key = keys(site_id)
    if values is None:
        values = cache.get_many([pointer_key, entry_key])
    pointer = values.get(pointer_key)
    entry = values.get(entry_key)
    if pointer is None or entry is None or entry[0] != pointer:
        return None
    return entry[1]


def remember(site: Any, representation: dict[str, Any], values: dict[str, Any] | None) -> None:
    """Cache what was just read from the database, unless a newer version is known.

    ``values`` is what the cache said before the database was read (None: unknown).
    """
    pointer_key, entry_key = keys(str(site.pk))
    current = version(site)
    timeout = settings.SITE_CACHE_TIMEOUT
    seeded = cache.add(pointer_key, current, timeout)  # seed only: a writer's pointer wins
    if seeded or (values or {}).get(pointer_key) == current:
        cache.set(entry_key, (current, dict(representation)), timeout)


def changed(versions: dict[Any, str]) -> None:
    """Sites changed (site id -> new version, or ``DELETED``), in the change's transaction."""
    invalidate_many(
        {keys(str(pk))[0]: value for pk, value in versions.items()}, settings.SITE_CACHE_TIMEOUT
    )
