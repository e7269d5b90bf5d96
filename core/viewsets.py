from __future__ import annotations

from typing import Any

from django.db.models import QuerySet


class ListFiltersOnlyMixin:
    """Filter, search and ordering parameters apply to lists only.

    DRF runs every filter backend in ``get_object`` too, which costs a FilterSet per
    detail request and can turn a detail URL with a stray ``?search=`` into a 404.
    """

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if getattr(self, "action", None) not in (None, "list"):
            return queryset
        return super().filter_queryset(queryset)  # type: ignore[misc]
