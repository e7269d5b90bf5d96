"""The one permission system, as DRF sees it and as plain code sees it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from rest_framework import permissions
from rest_framework.request import Request

from core.access import Resolver, log_denied, site_id_of
from rbac.resolver import effective_permissions

F = TypeVar("F", bound=Callable[..., Any])


def _holds(user: Any, codename: str, obj: Any = None) -> bool:
    perms = effective_permissions(user)
    if obj is None:
        return perms.has_anywhere(codename)
    return perms.has(codename, site_id_of(obj))


def _sites_for(user: Any, codename: str) -> set[str] | None:
    return effective_permissions(user).sites_for(codename)


def _holds_globally(user: Any, codename: str) -> bool:
    return effective_permissions(user).has(codename)


def _access_of(user: Any) -> dict[str, Any]:
    from rbac.selectors import assignments_of  # models: this module loads with the settings

    perms = effective_permissions(user)
    held = perms.as_dict()
    return {
        "roles": [
            {
                "role": assignment.role.name,
                "site": assignment.site_id,
                "site_code": assignment.site.code if assignment.site is not None else None,
            }
            for assignment in assignments_of(user)
        ],
        "permissions": {
            "is_superuser": perms.is_superuser,
            "global": held["global"],
            "sites": held["sites"],
        },
    }


RESOLVER = Resolver(
    sites_for=_sites_for,
    holds=_holds,
    holds_globally=_holds_globally,
    access_of=_access_of,
)


class HasPermission(permissions.BasePermission):
    """Reads the codename for the view's action from ``view.required_permissions``.

    ``required_permissions`` maps a viewset action (``list``, ``create``, ``release``…) or,
    for a plain APIView, the lower-case HTTP method to a codename. A missing entry
    refuses the request: no endpoint is open by omission. Site-bound codenames are then
    checked against the object's site (its model's ``site_path``); the actions a view
    names in ``global_actions`` need the codename granted globally.
    """

    def _codename(self, request: Request, view: Any) -> str | None:
        mapping: dict[str, str] = getattr(view, "required_permissions", {})
        action = getattr(view, "action", None)
        if action == "metadata":  # OPTIONS describes the endpoint: it needs what a read needs
            action = "list"
        return mapping.get(action or (request.method or "").lower())

    def has_permission(self, request: Request, view: Any) -> bool:
        if not hasattr(view, (request.method or "").lower()):
            return True  # no handler: DRF answers 405, not a misleading 403
        if not request.user or not request.user.is_authenticated:
            return False
        codename = self._codename(request, view)
        if codename is None:
            log_denied(request.user, "<unmapped>", method=request.method or "")
            return False
        perms = effective_permissions(request.user)
        if getattr(view, "action", None) in getattr(view, "global_actions", ()):
            allowed = perms.has(codename)
        else:
            allowed = perms.has_anywhere(codename)
        if not allowed and request.method not in permissions.SAFE_METHODS:
            log_denied(request.user, codename, method=request.method or "")
        return allowed

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        codename = self._codename(request, view)
        if codename is None:
            return False
        allowed = effective_permissions(request.user).has(codename, site_id_of(obj))
        if not allowed and request.method not in permissions.SAFE_METHODS:
            log_denied(request.user, codename, obj, method=request.method or "")
        return allowed


def require_permission(codename: str, *, site_arg: str | None = None) -> Callable[[F], F]:
    """Guard a plain function or view: the first argument is the user or a request.

    ``site_arg`` names a keyword argument holding the site (or its id) to check against.
    """

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            first = args[0] if args else kwargs.get("user") or kwargs.get("request")
            user = getattr(first, "user", first)
            site = kwargs.get(site_arg) if site_arg else None
            site_id = getattr(site, "pk", site)
            if not effective_permissions(user).has(codename, site_id):
                log_denied(user, codename, site)
                raise PermissionDenied(f"Missing permission {codename}.")
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
