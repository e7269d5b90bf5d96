"""Django's permission checks (``user.has_perm``) answered by the resolver.

Only our own codenames mean anything here (``user.has_perm("batch.release")``). The
admin pages of this project ask the resolver themselves (``core.admin_base``), with each
page's codenames declared on it; Django-style names (``sites.change_site``) and the
pages of third-party apps (django-celery-beat, axes, django-otp) are for superusers.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from core.access import site_id_of
from rbac.catalogue import declarations
from rbac.resolver import effective_permissions


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
        if perm not in declarations():
            return False
        if obj is not None:
            return perms.has(perm, site_id_of(obj))
        return perms.has_anywhere(perm)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        """The admin index then shows only the pages whose view the user holds."""
        return bool(user_obj.is_active)
