from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from django.db import transaction
from django.db.models import Model, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core import locking
from core.serializers import StrictInputSerializer


class ListFiltersOnlyMixin:
    """Filter, search and ordering parameters apply to lists only.

    DRF runs every filter backend in ``get_object`` too, which costs a FilterSet per
    detail request and can turn a detail URL with a stray ``?search=`` into a 404.
    """

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if getattr(self, "action", None) not in (None, "list"):
            return queryset
        result: QuerySet[Any, Any] = super().filter_queryset(queryset)  # type: ignore[misc]
        return result


class LockedObjectMixin:
    """``with self.locked_object() as obj``: the detail route's object read once, under
    the row lock (``SELECT ... FOR UPDATE OF`` the object's table), scoped and checked as
    ``get_object`` scopes and checks it, in a transaction the service joins
    (``core.locking.changing``): no unlocked read first and a locked re-read after."""

    _read_locked = False

    def get_queryset(self) -> QuerySet[Any]:
        queryset: QuerySet[Any] = super().get_queryset()  # type: ignore[misc]
        if self._read_locked:
            queryset = queryset.select_for_update(of=("self",))
        return queryset

    @contextmanager
    def locked_object(self) -> Iterator[Any]:
        with transaction.atomic():
            self._read_locked = True
            try:
                instance = self.get_object()  # type: ignore[attr-defined]
            finally:
                self._read_locked = False
            yield locking.mark_locked(instance)


class ServiceUpdateMixin(LockedObjectMixin):
    """PUT and PATCH of a detail route, both through one service call.

    A subclass declares ``update_input`` (the input serializer: partial on PATCH, and
    given the object so it can accept the stored value of a read-only field echoed
    back), ``update_output``, optionally ``update_parameters`` (OpenAPI parameters, such
    as the change-reason header), and implements ``apply_update(instance, data)``, which
    calls its service with the validated data and returns the object to show. The
    OpenAPI operations of both methods are declared from the same attributes.
    """

    update_input: ClassVar[type[StrictInputSerializer]]
    update_output: ClassVar[type[serializers.Serializer[Any]]]
    update_parameters: ClassVar[Sequence[Any]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "update_input" in cls.__dict__:
            schema = extend_schema(
                request=cls.update_input,
                responses={200: cls.update_output},
                parameters=list(cls.update_parameters) or None,
            )
            extend_schema_view(update=schema, partial_update=schema)(cls)

    def apply_update(self, instance: Any, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        with self.locked_object() as instance:
            data = self.update_input(data=request.data, partial=partial, echo_instance=instance)
            data.is_valid(raise_exception=True)
            updated = self.apply_update(instance, dict(data.validated_data))
        return Response(self.update_output(updated).data)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)
