from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, renderers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import signed_in
from accounts.signatures import reauthentication_from
from audit.api.reasons import REASON_HEADER, bind_body_reason
from batches.models import Batch, Product
from core.views import JSONErrorsMixin
from inspections import charts, selectors, services
from inspections.api import serializers as s
from inspections.filters import InspectionFilter
from inspections.models import Inspection
from rbac.enforcement import HasPermission
from rbac.resolver import effective_permissions
from rbac.viewsets import ScopedGenericViewSet


class InspectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """QA inspections of batches. PATCH only while pending; ``complete`` signs the outcome.

    A correction of a completed inspection is a new inspection with ``supersedes`` and
    ``correction_reason``; the superseded one no longer counts for release.
    """

    http_method_names = ["get", "post", "patch", "head", "options"]
    required_permissions = {
        "list": "inspection.view",
        "retrieve": "inspection.view",
        "create": "inspection.create",
        "partial_update": "inspection.update",
        "complete": "inspection.complete",
    }
    serializer_class = s.InspectionOutputSerializer
    filterset_class = InspectionFilter
    search_fields = ("notes",)
    ordering_fields = ("performed_at", "created_at", "status")
    ordering = ("-performed_at",)
    queryset = Inspection.objects.none()

    def base_queryset(self) -> QuerySet[Inspection]:
        return selectors.inspection_list()

    def _detail(self, inspection: Inspection, code: int = status.HTTP_200_OK) -> Response:
        inspection = selectors.inspection_list().get(pk=inspection.pk)
        return Response(s.InspectionOutputSerializer(inspection).data, status=code)

    @extend_schema(
        request=s.InspectionCreateInputSerializer, responses={201: s.InspectionOutputSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        batches = Batch.objects.restrict(request.user, "inspection.create")
        data = s.InspectionCreateInputSerializer(
            data=request.data,
            batch_queryset=batches,
            supersedes_queryset=Inspection.objects.filter(batch__in=batches),
        )
        data.is_valid(raise_exception=True)
        inspection = services.inspection_create(actor=signed_in(request), **data.validated_data)
        return self._detail(inspection, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.InspectionUpdateInputSerializer,
        responses={200: s.InspectionOutputSerializer},
        parameters=[REASON_HEADER],
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        inspection = self.get_object()
        data = s.InspectionUpdateInputSerializer(
            data=request.data, partial=True, echo_instance=inspection
        )
        data.is_valid(raise_exception=True)
        inspection = services.inspection_update(
            inspection=inspection, data=bind_body_reason(data.validated_data)
        )
        return self._detail(inspection)

    @extend_schema(
        request=s.InspectionCompleteInputSerializer, responses={200: s.InspectionOutputSerializer}
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        """pending -> passed | failed, signed; passing with out-of-spec results is refused."""
        data = s.InspectionCompleteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        reauth = reauthentication_from(request, fields)
        inspection = services.inspection_complete(
            reauth=reauth, inspection=self.get_object(), **fields
        )
        return self._detail(inspection)


class ChartRenderer(renderers.BaseRenderer):
    """The trend drawn as a control chart (``inspections.charts``)."""

    chart_format = charts.SVG

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        view = (renderer_context or {}).get("view")
        marked = getattr(view, "marked_batch", None)
        return charts.control_chart(data, self.chart_format, marked=marked)


class SVGChartRenderer(ChartRenderer):
    media_type = "image/svg+xml"
    format = "svg"
    charset = None
    chart_format = charts.SVG


class PNGChartRenderer(ChartRenderer):
    media_type = "image/png"
    format = "png"
    charset = None
    render_style = "binary"
    chart_format = charts.PNG


class ProductTrendView(JSONErrorsMixin, APIView):
    """One parameter's results across the product's batches at the caller's sites, with
    the statistics of a control chart; ``Accept: image/svg+xml`` or ``image/png`` draws
    the chart."""

    permission_classes = [HasPermission]
    required_permissions = {"get": "inspection.view"}
    renderer_classes = [renderers.JSONRenderer, SVGChartRenderer, PNGChartRenderer]
    marked_batch: Any = None

    @extend_schema(
        parameters=[s.TrendQuerySerializer],
        responses={
            200: OpenApiResponse(
                s.TrendOutputSerializer,
                description="JSON; image/svg+xml or image/png: the control chart.",
            )
        },
        summary="Trend of a parameter across a product's batches (control chart)",
    )
    def get(self, request: Request, pk: Any) -> Response:
        query = s.TrendQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = dict(query.validated_data)
        self.marked_batch = filters.pop("mark", None)
        product = get_object_or_404(Product.objects.all(), pk=pk)
        sites = effective_permissions(request.user).sites_for("inspection.view")
        parameter = filters.pop("parameter")
        [trend] = selectors.product_trends(
            product=product, parameters=[parameter], site_ids=sites, **filters
        ).values()
        # JSON-safe as it is (UUIDs and dates go through the renderer's encoder); the
        # output serializer documents it. Ten thousand points through DRF fields cost
        # more than the query.
        return Response(trend)
