"""Framework events that change access: every one bumps the affected users' version.

Receivers (not services) because the admin, cascades and queryset deletes change these
rows too; they only invalidate caches, in the transaction of the change.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from accounts.models import User


def _assignment_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    # An assignment moved to another user (admin edit) changes the old holder's access too.
    loaded = getattr(instance, "_loaded_values", None) or {}
    User.objects.bump_auth_versions([instance.user_id, loaded.get("user_id")])


def _role_permissions_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    from rbac.models import RoleAssignment

    if not reverse and action in ("post_add", "post_remove", "post_clear"):
        role_ids = [instance.pk]  # role.permissions changed
    elif reverse and action in ("post_add", "post_remove"):
        role_ids = list(pk_set or [])  # permission.roles changed: pk_set holds role ids
    elif reverse and action == "pre_clear":
        role_ids = list(instance.roles.values_list("pk", flat=True))  # gone after the clear
    else:
        return
    users = RoleAssignment.objects.filter(role_id__in=role_ids).values_list("user_id", flat=True)
    User.objects.bump_auth_versions(users)


def connect() -> None:
    from rbac.models import Role, RoleAssignment

    post_save.connect(_assignment_changed, sender=RoleAssignment, dispatch_uid="rbac_ra_save")
    post_delete.connect(_assignment_changed, sender=RoleAssignment, dispatch_uid="rbac_ra_del")
    m2m_changed.connect(
        _role_permissions_changed, sender=Role.permissions.through, dispatch_uid="rbac_role_perms"
    )
