"""The base every API viewset shares: permission-scoped queryset, one permission class."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from rest_framework import permissions, viewsets

from core.access import log_denied, scope, site_id_of
from core.deprecation import DeprecationHeadersMixin
from core.replicas import ReplicaReadsMixin
from core.viewsets import ListFiltersOnlyMixin
from rbac.enforcement import HasPermission
from rbac.resolver import effective_permissions

if TYPE_CHECKING:
    from rest_framework.permissions import _PermissionClass


class ScopedViewSetMixin(ReplicaReadsMixin, DeprecationHeadersMixin, ListFiltersOnlyMixin):
    """What a subclass declares, and what it gets.

    - ``required_permissions``: action -> codename. An action without an entry is
      refused. The rows that exist for the caller are those of the sites where they
      hold the view codename (``view_permission``; by default the codename of ``list``,
      else of ``retrieve``), scoped by ``Model.objects.restrict`` along the model's
      ``site_path``: rows of other sites are 404 on every method.
    - ``global_actions``: actions whose codename must be granted globally (creating a
      site, for instance, cannot be granted by a role at one site).
    - ``parent_model`` and ``parent_lookup`` for a nested route
      (``batches/{batch_pk}/serials/``): ``get_parent()`` is the parent if the caller may
      see it (else 404) and holds the action's codename at its site (else 403).
    - ``base_queryset()``: the selector the rows come from.
    - ``deprecations``: action -> ``core.deprecation.Deprecation`` for actions that are
      going: their answers carry ``Deprecation`` and ``Sunset``, the schema marks them.
    - ``replica_actions``: the actions whose GET reads from a read replica when one is
      configured (``core.replicas``); by default the list and the detail.
    """

    replica_actions = frozenset({"list", "retrieve"})

    permission_classes: Sequence[_PermissionClass] = [HasPermission]
    required_permissions: dict[str, str] = {}
    view_permission: str = ""
    global_actions: frozenset[str] = frozenset()
    parent_model: type[Model] | None = None
    parent_lookup: str = ""
    # Codenames besides the view codename that make a parent visible for an action.
    parent_visible_with: dict[str, tuple[str, ...]] = {}

    def base_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def get_view_permission(self) -> str:
        mapping = self.required_permissions
        return self.view_permission or mapping.get("list") or mapping.get("retrieve", "")

    def get_queryset(self) -> QuerySet[Any]:
        queryset = self.base_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        user = self.request.user  # type: ignore[attr-defined]
        return scope(queryset, user, self.get_view_permission())

    def parent_queryset(self) -> QuerySet[Any]:
        assert self.parent_model is not None
        return self.parent_model._default_manager.all()

    def get_parent(self) -> Any:
        user = self.request.user  # type: ignore[attr-defined]
        parents = self.parent_queryset()
        visible = parents.restrict(user, self.get_view_permission())  # type: ignore[attr-defined]
        action = getattr(self, "action", None)
        for codename in self.parent_visible_with.get(action or "", ()):
            visible = visible | parents.restrict(user, codename)  # type: ignore[attr-defined]
        parent = get_object_or_404(visible, pk=self.kwargs[self.parent_lookup])  # type: ignore[attr-defined]
        codename = self.required_permissions[action or ""]
        if not effective_permissions(user).has(codename, site_id_of(parent)):
            method = self.request.method  # type: ignore[attr-defined]
            if method not in permissions.SAFE_METHODS:
                log_denied(user, codename, parent, method=method)
            self.permission_denied(self.request, message=f"Missing permission {codename}.")  # type: ignore[attr-defined]
        return parent


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet[Any]):
    pass


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet[Any]):
    pass


class ScopedGenericViewSet(ScopedViewSetMixin, viewsets.GenericViewSet[Any]):
    pass
