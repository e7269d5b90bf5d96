"""Effective permissions: what a user may do, globally and per site.

Built from the database in one query, cached under the user's versioned key (see
``accounts.auth_cache``) and memoised on the user object for the rest of the request.
Every enforcement point (DRF permission class, ``require_permission``, the admin's
authentication backend) asks this module.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from accounts import auth_cache
from core import replicas
from core.metrics import PERMISSION_CACHE_HIT, PERMISSION_CACHE_MISS
from rbac.catalogue import global_codenames as global_only

MEMO_ATTR = "_rbac_effective"
CACHED_ATTR = "_rbac_cached"


@dataclass(frozen=True)
class EffectivePermissions:
    is_superuser: bool = False
    is_active: bool = True
    global_codenames: frozenset[str] = frozenset()
    site_codenames: dict[str, frozenset[str]] = field(default_factory=dict)

    def has(self, codename: str, site_id: Any = None) -> bool:
        """Held globally, or at ``site_id`` when the resource is site-bound."""
        if not self.is_active:
            return False
        if self.is_superuser or codename in self.global_codenames:
            return True
        if site_id is None or codename in global_only():
            return False
        return codename in self.site_codenames.get(str(site_id), frozenset())

    def has_anywhere(self, codename: str) -> bool:
        """Held globally or at any site (a list may then show some rows)."""
        if self.has(codename):
            return True
        if not self.is_active or codename in global_only():
            return False
        return any(codename in codes for codes in self.site_codenames.values())

    def sites_for(self, codename: str) -> set[str] | None:
        """Site ids where ``codename`` holds; None means every site."""
        if self.has(codename):
            return None
        if not self.is_active or codename in global_only():
            return set()
        return {site for site, codes in self.site_codenames.items() if codename in codes}

    def as_dict(self) -> dict[str, Any]:
        return {
            "global": sorted(self.global_codenames),
            "sites": {site: sorted(codes) for site, codes in sorted(self.site_codenames.items())},
        }


NO_PERMISSIONS = EffectivePermissions(is_active=False)


def compute(user: Any) -> EffectivePermissions:
    """From the database, in one query."""
    from rbac.models import RoleAssignment

    if user is None or not user.is_active or user.pk is None:
        return NO_PERMISSIONS
    global_codes: set[str] = set()
    per_site: dict[str, set[str]] = defaultdict(set)
    rows = RoleAssignment.objects.filter(
        user_id=user.pk, role__permissions__isnull=False
    ).values_list("site_id", "role__permissions__codename")
    for site_id, codename in rows:
        if site_id is None:
            global_codes.add(codename)
        else:
            per_site[str(site_id)].add(codename)
    return EffectivePermissions(
        is_superuser=bool(user.is_superuser),
        is_active=True,
        global_codenames=frozenset(global_codes),
        site_codenames={site: frozenset(codes) for site, codes in per_site.items()},
    )


def perm_key(user_id: Any, prefix: str | None = None) -> str:
    return f"{prefix or auth_cache.key_prefix()}:perm:{user_id}"


def effective_permissions(user: Any) -> EffectivePermissions:
    """The user's permissions: memoised on the user, then cache, then database."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NO_PERMISSIONS
    memo: EffectivePermissions | None = getattr(user, MEMO_ATTR, None)
    if memo is not None:
        return memo
    cached: auth_cache.CachedAuth | None = getattr(user, CACHED_ATTR, None)
    if cached is None:
        cached = auth_cache.fetch(user.pk, extra_keys=[perm_key(user.pk)])
    key = perm_key(user.pk, cached.prefix)
    perms: EffectivePermissions | None = cached.get_versioned(key)
    if perms is None:
        PERMISSION_CACHE_MISS.inc()
        with replicas.on_primary():  # what is cached decides access: never a lagging copy
            perms = compute(user)
        auth_cache.ensure_version(user.pk, user.auth_version, cached.prefix)
        if cached.version in (None, user.auth_version):
            auth_cache.store_versioned(key, user.auth_version, perms)
    else:
        PERMISSION_CACHE_HIT.inc()
    # Flags come from the (freshly validated) user, never from an older cache entry.
    if perms.is_superuser != bool(user.is_superuser) or not user.is_active:
        with replicas.on_primary():
            perms = compute(user)
    setattr(user, MEMO_ATTR, perms)
    return perms
