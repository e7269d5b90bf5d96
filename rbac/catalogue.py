"""The permission catalogue: each app's ``permissions.PERMISSIONS``, synced on migrate.

rbac names no other app's codename: each app declares its own (``core.access.Codename``)
with its scope and the default roles that get it. The default roles are created here
and follow the catalogue as it grows, without overwriting what an administrator changed.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from importlib import import_module
from typing import Any

from django.apps import apps
from django.db import transaction

from core.access import ADMIN_ROLE, GLOBAL, Codename, codenames_of

logger = logging.getLogger(__name__)

DEFAULT_ROLES: dict[str, str] = {
    ADMIN_ROLE: "Everything.",
    "qa": "Read all; inspections; release and reject batches; read the audit trail.",
    "operator": "Read; create and run batches; generate and move serial numbers.",
    "auditor": "Read everything; read and verify the audit trail.",
}


def default_role_grants(role: str, codename: str) -> bool:
    """Each codename's declaration names its default roles; ``admin`` gets all."""
    if role == ADMIN_ROLE:
        return True
    declared = declarations().get(codename)
    return declared is not None and role in declared.roles


@lru_cache(maxsize=1)
def declarations() -> dict[str, Codename]:
    """Every codename declared by an installed app's ``permissions`` module."""
    found: list[dict[str, Codename]] = []
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.permissions")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.permissions":
                raise
            continue
        found.append(getattr(module, "PERMISSIONS", {}))
    declared = codenames_of(found)
    for codename in declared.values():
        unknown = codename.roles - set(DEFAULT_ROLES)
        if unknown:
            raise ValueError(f"{codename.name}: unknown default roles {sorted(unknown)}")
    return declared


def declared_permissions() -> dict[str, str]:
    """Codename -> description, for the catalogue."""
    return {name: c.description for name, c in declarations().items()}


@lru_cache(maxsize=1)
def global_codenames() -> frozenset[str]:
    """Codenames that only a global assignment grants."""
    return frozenset(name for name, c in declarations().items() if c.scope == GLOBAL)


@transaction.atomic
def sync_catalogue() -> None:
    from rbac.models import Permission, Role

    declared = declared_permissions()
    existing = {p.codename: p for p in Permission.objects.all()}
    for codename, description in declared.items():
        permission = existing.get(codename)
        if permission is None:
            existing[codename] = Permission.objects.create(
                codename=codename, description=description
            )
        elif permission.description != description:
            permission.description = description
            permission.save(update_fields=["description"])
    for name, description in DEFAULT_ROLES.items():
        role, _ = Role.objects.get_or_create(
            name=name, defaults={"description": description, "is_system": True}
        )
        offered = set(role.synced_permissions or [])
        wanted = {c for c in declared if default_role_grants(name, c)}
        new = sorted(wanted - offered)
        if new:
            role.permissions.add(*(existing[c] for c in new))
            role.synced_permissions = sorted(offered | wanted)
            role.save(update_fields=["synced_permissions", "updated_at"])
            logger.info("default_role_synced", extra={"role": name, "added": new})


def sync_after_migrate(sender: Any, app_config: Any = None, **kwargs: Any) -> None:
    # Once per migrate run: after the rbac app's own tables exist.
    if app_config is None or app_config.name != "rbac":
        return
    sync_catalogue()
