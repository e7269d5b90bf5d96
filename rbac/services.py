"""Every write on roles and role assignments."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model

from accounts.models import Actor, User
from core import locking
from core.exceptions import StateConflict
from rbac.models import Permission, Role, RoleAssignment
from rbac.resolver import effective_permissions

UNKNOWN_CODENAMES = "Unknown permission codenames: {codenames}."
ESCALATION_ROLE = "You can only grant permissions you hold yourself: {codenames}."
ESCALATION_ASSIGN = "You can only assign a role whose every permission you hold: {codenames}."
ESCALATION_REMOVE = "You can only remove a role whose every permission you hold: {codenames}."
SYSTEM_ROLE_DELETE = "Default roles cannot be deleted; change their permissions instead."
DUPLICATE_ASSIGNMENT = "The user already holds this role at this scope."


def _codenames(value: object) -> list[str]:
    if not isinstance(value, list | tuple | set) or not all(isinstance(c, str) for c in value):
        raise ValidationError({"permissions": ["A list of codenames is required."]})
    return list(value)


def _permissions(codenames: Iterable[str]) -> list[Permission]:
    wanted = set(codenames)
    found = list(Permission.objects.filter(codename__in=wanted))
    missing = wanted - {p.codename for p in found}
    if missing:
        raise ValidationError(
            {"permissions": [UNKNOWN_CODENAMES.format(codenames=", ".join(sorted(missing)))]}
        )
    return found


def _check_can_grant(
    actor: Actor, codenames: Iterable[str], site_id: Any = None, *, message: str, field: str
) -> None:
    perms = effective_permissions(actor)
    lacking = sorted(c for c in codenames if not perms.has(c, site_id))
    if lacking:
        raise ValidationError({field: [message.format(codenames=", ".join(lacking))]})


@transaction.atomic
def role_create(*, actor: Actor, name: str, description: str = "", permissions: list[str]) -> Role:
    """Create a role from permissions the actor holds globally."""
    found = _permissions(permissions)
    _check_can_grant(actor, permissions, message=ESCALATION_ROLE, field="permissions")
    role = Role(name=name, description=description)
    role.full_clean()
    role.save()
    role.permissions.set(found)
    return role


def role_update(*, actor: Actor, role: Role, data: Mapping[str, object]) -> Role:
    with locking.changing(role) as role:
        for name in ("name", "description"):
            if name in data:
                setattr(role, name, data[name])
        role.full_clean()
        role.save()
        if "permissions" in data:
            wanted = _codenames(data["permissions"])
            found = _permissions(wanted)
            current = set(role.permissions.values_list("codename", flat=True))
            changed = set(wanted) ^ current  # granted and removed alike
            _check_can_grant(actor, changed, message=ESCALATION_ROLE, field="permissions")
            role.permissions.set(found)
    return role


@transaction.atomic
def role_delete(*, actor: Actor, role: Role) -> None:
    """Delete a role; its assignments go with it (and the holders' caches are bumped).

    Only a holder of every permission of the role may: deleting it takes those
    permissions from everyone who holds it.
    """
    role = Role.objects.select_for_update().get(pk=role.pk)
    if role.is_system:
        raise StateConflict(SYSTEM_ROLE_DELETE, code="system_role")
    codenames = list(role.permissions.values_list("codename", flat=True))
    _check_can_grant(actor, codenames, message=ESCALATION_REMOVE, field="role")
    role.delete()


def assignment_create(
    *, actor: Actor, user: User, role: Role, site: Model | None = None
) -> RoleAssignment:
    """Assign a role; only a holder of every permission of the role, at that scope, may."""
    codenames = list(role.permissions.values_list("codename", flat=True))
    site_id = getattr(site, "pk", None)
    _check_can_grant(actor, codenames, site_id, message=ESCALATION_ASSIGN, field="role")
    assignment = RoleAssignment(user=user, role=role, site_id=site_id)
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError as exc:
        raise StateConflict(DUPLICATE_ASSIGNMENT, code="duplicate") from exc
    return assignment


@transaction.atomic
def assignment_delete(*, actor: Actor, assignment: RoleAssignment) -> None:
    """Remove an assignment; like granting it, only for a holder of all it gives."""
    codenames = list(assignment.role.permissions.values_list("codename", flat=True))
    _check_can_grant(actor, codenames, assignment.site_id, message=ESCALATION_REMOVE, field="role")
    assignment.delete()
