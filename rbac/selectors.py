from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from rbac.models import Permission, Role, RoleAssignment


def permission_list() -> QuerySet[Permission]:
    return Permission.objects.order_by("codename")


def role_list() -> QuerySet[Role]:
    return Role.objects.prefetch_related(
        Prefetch("permissions", queryset=Permission.objects.only("id", "codename"))
    ).order_by("name")


def assignment_list() -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.select_related("role", "site", "user").order_by("created_at")


def assignments_of(user: Any) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.filter(user_id=user.pk).select_related("role", "site")
