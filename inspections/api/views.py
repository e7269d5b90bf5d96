from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import signed_in
from accounts.signatures import reauthentication_from
from audit.api.reasons import REASON_HEADER, bind_body_reason
from batches.models import Batch
from inspections import selectors, services
from inspections.api import serializers as s
from inspections.filters import InspectionFilter
from inspections.models import Inspection
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
