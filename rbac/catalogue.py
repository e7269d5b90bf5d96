"""The permission catalogue: each app's ``permissions.PERMISSIONS``, synced on migrate.

The default roles of DESIGN section 3 are created here and follow the catalogue as it
grows, without overwriting what an administrator changed.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

from django.apps import apps
from django.db import transaction

logger = logging.getLogger(__name__)

DEFAULT_ROLES: dict[str, str] = {
    "admin": "Everything.",
    "qa": "Read all; inspections; release and reject batches; read the audit trail.",
    "operator": "Read; create and run batches; generate and move serial numbers.",
    "auditor": "Read everything; read and verify the audit trail.",
}

_OPERATOR = {
    "site.view",
    "product.view",
    "batch.view",
    "batch.create",
    "batch.update",
    "batch.start",
    "batch.complete",
    "serial.view",
    "serial.generate",
    "serial.update_status",
    "inspection.view",
}
_QA_EXTRA = {"batch.release", "batch.reject", "serial.export", "audit.view"}


def default_role_grants(role: str, codename: str) -> bool:
    resource, action = codename.split(".", 1)
    if role == "admin":
        return True
    if role == "auditor":
        return action == "view" or codename in {"serial.export", "audit.verify"}
    if role == "qa":
        if action == "view" and resource not in {"user", "role"}:
            return True
        return resource == "inspection" or codename in _QA_EXTRA
    if role == "operator":
        return codename in _OPERATOR
    return False


def declared_permissions() -> dict[str, str]:
    """Every codename declared by an installed app's ``permissions`` module."""
    declared: dict[str, str] = {}
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.permissions")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.permissions":
                raise
            continue
        declared.update(getattr(module, "PERMISSIONS", {}))
    return declared


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
