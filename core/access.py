"""The vocabulary of access control that every app speaks, without knowing rbac.

Each app declares the codenames it checks in its ``permissions.py``::

    PERMISSIONS = declare(
        Codename("batch.view", "See batches", roles={"qa", "operator", "auditor"}),
        Codename("product.manage", "Create, change and delete products", scope=GLOBAL),
    )

and each model that belongs to a site says how to reach it (``site_path``, a lookup
such as ``"site"`` or ``"batch__site"``, ``SELF`` for the site model itself, ``None``
for rows tied to no site). ``Model.objects.restrict(user, codename)`` is then the one
way to scope a query, here and in the admin. rbac answers the questions behind it
(``register_resolver``), so apps below rbac (accounts) can be scoped too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, Literal

from django.db import models

from core.signals import permission_denied

# The name log filters know: refusals were logged by rbac's enforcement first.
denied_logger = logging.getLogger("rbac.denied")

SITE: Literal["site"] = "site"
GLOBAL: Literal["global"] = "global"
SELF = "self"
ADMIN_ROLE = "admin"  # holds every declared codename


@dataclass(frozen=True)
class Codename:
    """One ``resource.action`` permission, as its app declares it.

    ``scope``: ``site`` codenames count from a global assignment or one at the object's
    site; ``global`` ones (users, roles, products) only from a global assignment.
    ``roles``: the default roles that get it on migrate, besides ``admin``, which gets all.
    """

    name: str
    description: str
    scope: Literal["site", "global"] = SITE
    roles: AbstractSet[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", frozenset(self.roles))
        if self.scope not in (SITE, GLOBAL):
            raise ValueError(f"{self.name}: scope must be {SITE!r} or {GLOBAL!r}")

    @property
    def resource(self) -> str:
        return self.name.split(".", 1)[0]


def declare(*codenames: Codename) -> dict[str, Codename]:
    """An app's declarations, keyed by codename; a codename declared twice is an error."""
    declared: dict[str, Codename] = {}
    for codename in codenames:
        if codename.name in declared:
            raise ValueError(f"{codename.name} is declared twice")
        declared[codename.name] = codename
    return declared


# --- the questions rbac answers --------------------------------------------------------


@dataclass(frozen=True)
class Resolver:
    """``sites_for(user, codename)``: the site ids where the user holds the codename, or
    None for every site. ``holds(user, codename, obj)``: at the object's site, or
    anywhere with no object. ``holds_globally(user, codename)``: from a global grant."""

    sites_for: Callable[[Any, str], set[str] | None]
    holds: Callable[[Any, str, Any], bool]
    holds_globally: Callable[[Any, str], bool]
    # ``access_of(user)``: the user's roles and effective permissions, as the profile
    # shows them (``{"roles": [...], "permissions": {...}}``).
    access_of: Callable[[Any], dict[str, Any]] = lambda user: {"roles": [], "permissions": {}}


_resolver: Resolver | None = None


def register_resolver(resolver: Resolver) -> None:
    global _resolver
    _resolver = resolver


def resolver() -> Resolver:
    if _resolver is None:  # pragma: no cover - rbac registers itself in ready()
        raise RuntimeError("no access resolver registered (is rbac installed?)")
    return _resolver


def site_path(model: Any) -> str | None:
    """The model's declared way to its site (``None``: tied to no site)."""
    return getattr(model, "site_path", None)


def site_id_of(obj: Any) -> Any:
    """The site id of ``obj`` along its model's ``site_path``; None for global rows."""
    path = site_path(type(obj))
    if path is None:
        return None
    if path == SELF:
        return obj.pk
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id")


def scope(queryset: models.QuerySet[Any], user: Any, codename: str) -> models.QuerySet[Any]:
    """Rows of ``queryset`` at the sites where ``user`` holds ``codename``.

    Rows tied to no site exist for the holder of a global grant only; a row whose
    site is empty (an audit record of a sign-in) likewise.
    """
    sites = resolver().sites_for(user, codename)
    if sites is None:
        return queryset
    path = site_path(queryset.model)
    if not sites or path is None:
        return queryset.none()
    lookup = "pk__in" if path == SELF else f"{path}_id__in"
    return queryset.filter(**{lookup: sites})


def holds(user: Any, codename: str, obj: Any = None) -> bool:
    """Does ``user`` hold ``codename`` for ``obj`` (at its site), or at all with no obj."""
    return resolver().holds(user, codename, obj)


def holds_globally(user: Any, codename: str) -> bool:
    """Does ``user`` hold ``codename`` from a global grant (every site, and no site)?"""
    return resolver().holds_globally(user, codename)


def log_denied(user: Any, codename: str, obj: Any = None, *, method: str = "") -> None:
    """Log a refused attempt and announce it (the audit trail records it)."""
    permission_denied.send(sender=Resolver, user=user, codename=codename, obj=obj, method=method)
    denied_logger.warning(
        "permission_denied",
        extra={
            "user_id": str(getattr(user, "pk", "") or ""),
            "codename": codename,
            "object_type": type(obj).__name__ if obj is not None else "",
            "object_id": str(getattr(obj, "pk", "") or ""),
            "method": method,
        },
    )


class RestrictedQuerySetMixin:
    """``Model.objects.restrict(user, codename)``: the one way to scope a query."""

    def restrict(self, user: Any, codename: str) -> models.QuerySet[Any]:
        return scope(self, user, codename)  # type: ignore[arg-type]


def codenames_of(declarations: Iterable[dict[str, Codename]]) -> dict[str, Codename]:
    """Every app's declarations in one; a codename two apps declare is an error."""
    return declare(*(codename for declared in declarations for codename in declared.values()))


class RestrictedQuerySet(RestrictedQuerySetMixin, models.QuerySet[Any]):
    """For models that need no other queryset behaviour."""
