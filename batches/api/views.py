from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import signed_in
from accounts.signatures import reauthentication_from
from audit.api.reasons import REASON_HEADER, bind_body_reason
from batches import selectors, services
from batches.api import serializers as s
from batches.filters import BatchFilter, ProductFilter
from batches.models import Batch, Product
from core.serializers import EmptyInputSerializer
from core.viewsets import LockedObjectMixin, ServiceUpdateMixin
from rbac.viewsets import ScopedGenericViewSet, ScopedModelViewSet
from sites.models import Site


class ProductViewSet(ServiceUpdateMixin, ScopedModelViewSet):
    """Products (GTIN-14). Not tied to a site: only global grants count."""

    update_input = s.ProductInputSerializer
    update_output = s.ProductOutputSerializer
    update_parameters = (REASON_HEADER,)

    required_permissions = {
        "list": "product.view",
        "retrieve": "product.view",
        "create": "product.manage",
        "update": "product.manage",
        "partial_update": "product.manage",
        "destroy": "product.manage",
    }
    serializer_class = s.ProductOutputSerializer
    filterset_class = ProductFilter
    search_fields = ("name", "gtin", "strength")
    ordering_fields = ("name", "gtin", "created_at")
    ordering = ("name",)
    queryset = Product.objects.none()

    def base_queryset(self) -> QuerySet[Product]:
        return selectors.product_list()

    @extend_schema(request=s.ProductInputSerializer, responses={201: s.ProductOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.ProductInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_create(**bind_body_reason(data.validated_data))
        return Response(s.ProductOutputSerializer(product).data, status=status.HTTP_201_CREATED)

    def apply_update(self, instance: Product, data: dict[str, Any]) -> Product:
        return services.product_update(product=instance, data=bind_body_reason(data))

    @extend_schema(
        responses={204: OpenApiResponse(description="Product deleted.")},
        parameters=[REASON_HEADER],
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.product_delete(product=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class BatchViewSet(
    LockedObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet
):
    """Production batches and their lifecycle.

    The status changes only through ``start``, ``complete``, ``release`` and
    ``reject``; PATCH changes quantities and dates while the batch is planned or in
    production; DELETE only while planned. Released and rejected batches are
    read-only.
    """

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    required_permissions = {
        "list": "batch.view",
        "retrieve": "batch.view",
        "create": "batch.create",
        "partial_update": "batch.update",
        "destroy": "batch.delete",
        "start": "batch.start",
        "complete": "batch.complete",
        "release": "batch.release",
        "reject": "batch.reject",
    }
    serializer_class = s.BatchDetailOutputSerializer
    filterset_class = BatchFilter
    search_fields = ("batch_number",)
    ordering_fields = ("manufacturing_date", "expiry_date", "batch_number", "created_at", "status")
    ordering = ("-manufacturing_date", "batch_number")
    queryset = Batch.objects.none()

    def base_queryset(self) -> QuerySet[Batch]:
        return selectors.batch_list() if self.action == "list" else selectors.batch_detail()

    def get_serializer_class(self) -> Any:
        return (
            s.BatchListOutputSerializer if self.action == "list" else s.BatchDetailOutputSerializer
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One COUNT and one SELECT of plain values, whatever the page size."""
        queryset = self.filter_queryset(self.get_queryset())
        # The paginator needs only count(), slicing and ``ordered``: CountedValues has them.
        rows = cast(
            "QuerySet[Batch, dict[str, Any]]",
            selectors.CountedValues(queryset, selectors.LIST_VALUES),
        )
        page = self.paginate_queryset(rows) or []
        return self.get_paginated_response(selectors.batch_rows(page))

    def _detail(self, batch: Batch) -> Response:
        batch = selectors.batch_detail().get(pk=batch.pk)
        return Response(s.BatchDetailOutputSerializer(batch).data)

    @staticmethod
    def _shown(batch: Batch) -> Response:
        """A batch read with the detail's related rows (``locked_object``) and changed
        by a service, which sets each related row it changes (who took the step)."""
        return Response(s.BatchDetailOutputSerializer(batch).data)

    @extend_schema(
        request=s.BatchCreateInputSerializer, responses={201: s.BatchDetailOutputSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sites = Site.objects.restrict(request.user, "batch.create")
        data = s.BatchCreateInputSerializer(data=request.data, site_queryset=sites)
        data.is_valid(raise_exception=True)
        batch = services.batch_create(actor=signed_in(request), **data.validated_data)
        response = self._detail(batch)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(
        request=s.BatchUpdateInputSerializer,
        responses={200: s.BatchDetailOutputSerializer},
        parameters=[REASON_HEADER],
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with self.locked_object() as batch:
            data = s.BatchUpdateInputSerializer(
                data=request.data, partial=True, echo_instance=batch
            )
            data.is_valid(raise_exception=True)
            batch = services.batch_update(batch=batch, data=bind_body_reason(data.validated_data))
        return self._shown(batch)

    @extend_schema(
        responses={204: OpenApiResponse(description="Batch deleted.")},
        parameters=[REASON_HEADER],
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.batch_delete(batch=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=EmptyInputSerializer, responses={200: s.BatchDetailOutputSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        """planned -> in_production."""
        EmptyInputSerializer(data=request.data).is_valid(raise_exception=True)
        with self.locked_object() as batch:
            batch = services.batch_start(actor=signed_in(request), batch=batch)
        return self._shown(batch)

    @extend_schema(
        request=s.BatchCompleteInputSerializer, responses={200: s.BatchDetailOutputSerializer}
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        """in_production -> quarantine, recording the produced quantity."""
        data = s.BatchCompleteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with self.locked_object() as batch:
            batch = services.batch_complete(
                actor=signed_in(request), batch=batch, **data.validated_data
            )
        return self._shown(batch)

    @extend_schema(request=s.SignInputSerializer, responses={200: s.BatchDetailOutputSerializer})
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        """quarantine -> released, signed with the releaser's password.

        Needs at least one inspection, every current inspection passed, and a signer
        other than the person who completed the batch (403).
        """
        data = s.SignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        reauth = reauthentication_from(request, fields)
        batch = services.batch_release(reauth=reauth, batch=self.get_object(), **fields)
        return self._detail(batch)

    @extend_schema(request=s.RejectInputSerializer, responses={200: s.BatchDetailOutputSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """in_production or quarantine -> rejected, with a reason and a signature."""
        data = s.RejectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        reauth = reauthentication_from(request, fields)
        batch = services.batch_reject(reauth=reauth, batch=self.get_object(), **fields)
        return self._detail(batch)
