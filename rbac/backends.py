"""Django's permission checks (``user.has_perm``, the admin) answered by the resolver."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.contrib.auth.backends import ModelBackend

from rbac.catalogue import declared_permissions
from rbac.resolver import effective_permissions

# Admin model -> rbac resource. Models not listed are for superusers only.
ADMIN_RESOURCES: dict[str, str] = {
    "accounts.user": "user",
    "accounts.usersession": "user",
    "rbac.permission": "role",
    "rbac.role": "role",
    "rbac.roleassignment": "role",
    "sites.site": "site",
}
# Resources whose writes are one ``manage`` permission.
MANAGE_RESOURCES = {"role", "product"}
DJANGO_ACTIONS = {"view": "view", "add": "create", "change": "update", "delete": "delete"}


def codename_for(app_label: str, django_codename: str) -> str | None:
    """``sites.change_site`` -> ``site.update``; None if the model is not mapped."""
    action, _, model = django_codename.partition("_")
    resource = ADMIN_RESOURCES.get(f"{app_label}.{model}")
    if resource is None or action not in DJANGO_ACTIONS:
        return None
    ours = DJANGO_ACTIONS[action]
    if resource in MANAGE_RESOURCES and ours != "view":
        ours = "manage"
    if resource == "user" and ours == "delete":
        ours = "deactivate"
    return f"{resource}.{ours}"


def extra_admin_resources(mapping: dict[str, str]) -> None:
    """Domain apps register their admin models here (in their AppConfig.ready)."""
    ADMIN_RESOURCES.update(mapping)


@lru_cache(maxsize=1)
def _catalogue() -> frozenset[str]:
    return frozenset(declared_permissions())


class RBACBackend(ModelBackend):
    """Authenticates like ModelBackend; authorises through the rbac resolver only."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        if not user_obj.is_active:
            return False
        perms = effective_permissions(user_obj)
        if perms.is_superuser:
            return True
        if perm in _catalogue():
            codename: str | None = perm  # already ours: "batch.release"
        else:
            app_label, _, django_codename = perm.partition(".")
            codename = codename_for(app_label, django_codename)
        if codename is None:
            return False
        site_id = getattr(obj, "site_id", None) if obj is not None else None
        if obj is not None and site_id is not None:
            return perms.has(codename, site_id)
        return perms.has_anywhere(codename)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        if not user_obj.is_active:
            return False
        perms = effective_permissions(user_obj)
        if perms.is_superuser:
            return True
        return any(
            perms.has_anywhere(f"{resource}.view")
            for key, resource in ADMIN_RESOURCES.items()
            if key.split(".", 1)[0] == app_label
        )
