from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from audit import sealing
from audit.api.serializers import (
    AuditLogOutputSerializer,
    VerificationOutputSerializer,
    VerifyQuerySerializer,
)
from audit.filters import AuditLogFilter
from audit.models import AuditLog
from core.pagination import CursorPagination
from rbac.viewsets import ScopedReadOnlyViewSet


class AuditCursorPagination(CursorPagination):
    # CursorPagination orders by a tuple of fields as well.
    ordering = ("-timestamp", "-id")  # type: ignore[assignment]
    page_size = 50


class AuditLogViewSet(ScopedReadOnlyViewSet):
    """The audit trail, read-only, limited to the caller's sites.

    Records without a site (sign-ins, users, roles) need ``audit.view`` granted
    globally.
    """

    required_permissions = {
        "list": "audit.view",
        "retrieve": "audit.view",
        "verify": "audit.verify",
    }
    serializer_class = AuditLogOutputSerializer
    filterset_class = AuditLogFilter
    pagination_class = AuditCursorPagination
    search_fields = ("actor_username", "resource_id", "path")
    ordering_fields: list[str] = []
    queryset = AuditLog.objects.none()

    def base_queryset(self) -> QuerySet[AuditLog]:
        return AuditLog.objects.all()

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "full",
                bool,
                description="true: check from the first seal; default: from the latest "
                "checkpoint (seals after it, the records they seal, unsealed records).",
            )
        ],
        responses={200: VerificationOutputSerializer},
        filters=False,
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def verify(self, request: Request) -> Response:
        """Check the seal chain, the records' MACs, the witnesses and the sealing lag;
        name every problem."""
        query = VerifyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(sealing.verify(full=query.validated_data["full"]).as_dict())
