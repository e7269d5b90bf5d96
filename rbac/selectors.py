from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import User
from rbac.models import Permission, Role, RoleAssignment


def permission_list() -> QuerySet[Permission]:
    return Permission.objects.order_by("codename")


def role_list() -> QuerySet[Role]:
    return Role.objects.prefetch_related(
        # The stubs' Prefetch generics do not accept a plain lookup.
        Prefetch("permissions", queryset=Permission.objects.only("id", "codename"))  # type: ignore[arg-type]
    ).order_by("name")


def assignment_list() -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.select_related("role", "site", "user").order_by("created_at")


def assignments_of(user: Any) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.filter(user_id=user.pk).select_related("role", "site")


def active_users_holding(
    *, codename: str | None = None, role: Role | None = None, site_id: Any = None
) -> QuerySet[User]:
    """Active users who hold ``codename`` (or ``role``) at the site, by an assignment
    there or a global one, as the resolver counts them. Without a site, anywhere; with
    neither codename, role nor site, every active user."""
    users: QuerySet[User] = User.objects.filter(is_active=True)
    if codename is None and role is None and site_id is None:
        return users
    assignments = RoleAssignment.objects.all()
    if role is not None:
        assignments = assignments.filter(role=role)
    if codename is not None:
        assignments = assignments.filter(role__permissions__codename=codename)
    if site_id is not None:
        assignments = assignments.filter(Q(site_id=site_id) | Q(site__isnull=True))
    return users.filter(pk__in=assignments.values("user_id"))
