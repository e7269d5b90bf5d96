"""The base every API viewset shares: permission-scoped queryset, one permission class."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import viewsets

from core.viewsets import ListFiltersOnlyMixin
from rbac.enforcement import HasPermission, restrict


class ScopedViewSetMixin(ListFiltersOnlyMixin):
    """Subclasses set ``required_permissions`` (action -> codename), ``view_permission``
    (the codename that decides which rows exist for the caller), ``site_field`` and
    implement ``base_queryset()``. Rows of sites the caller cannot view are 404 on
    every method; a missing action mapping is refused."""

    permission_classes = [HasPermission]
    required_permissions: dict[str, str] = {}
    view_permission: str = ""
    site_field: str | None = "site"

    def base_queryset(self) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        queryset = self.base_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        if self.site_field is None:
            return queryset
        return restrict(queryset, self.request.user, self.view_permission, self.site_field)  # type: ignore[attr-defined]


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    pass


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedGenericViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    pass
