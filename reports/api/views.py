from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rbac.enforcement import HasPermission
from rbac.resolver import effective_permissions
from reports.api import serializers as s
from reports.selectors import daily_report, default_day


class DailyReportView(APIView):
    """The daily QA report per site, for the sites where the caller holds ``audit.view``."""

    permission_classes = [HasPermission]
    required_permissions = {"get": "audit.view"}

    @extend_schema(
        parameters=[
            OpenApiParameter("date", str, description="YYYY-MM-DD, a UTC day; default yesterday.")
        ],
        responses={200: s.DailyReportOutputSerializer},
        summary="Daily QA report: released, rejected, quarantine, failed inspections",
    )
    def get(self, request: Request) -> Response:
        query = s.DailyReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data.get("date") or default_day()
        sites = effective_permissions(request.user).sites_for("audit.view")
        return Response(daily_report(day=day, site_ids=sites))
