from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend as BaseDjangoFilterBackend


class DjangoFilterBackend(BaseDjangoFilterBackend):
    """Builds the FilterSet (a form, per request) only when a filter parameter is present."""

    def filter_queryset(self, request: Any, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            names = filterset_class.base_filters.keys()
            if not any(name in request.query_params for name in names):
                return queryset
        result: QuerySet[Any, Any] = super().filter_queryset(request, queryset, view)
        return result
