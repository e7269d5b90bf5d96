from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from batches.models import Batch, Product
from core.replicas import ReplicaReadsMixin
from core.schema import ErrorSerializer
from core.views import JSONErrorsMixin
from rbac.enforcement import HasPermission
from rbac.resolver import effective_permissions
from reports import pdf, quality_review, services
from reports.api import serializers as s
from reports.selectors import daily_report, default_day


class DailyReportView(ReplicaReadsMixin, APIView):
    """The daily QA report per site, for the sites where the caller holds ``audit.view``."""

    permission_classes = [HasPermission]
    required_permissions = {"get": "audit.view"}
    replica_actions = frozenset({"get"})

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


class PDFRenderer(renderers.BaseRenderer):
    """Lets a client ask for ``application/pdf``; the view answers the document itself."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        return data


PDF_OK = {
    (200, "application/pdf"): OpenApiResponse(
        OpenApiTypes.BINARY, description="The PDF; its document hash also in X-Document-SHA256."
    )
}


class PDFView(JSONErrorsMixin, APIView):
    """A view answering a PDF (and its errors in JSON)."""

    permission_classes = [HasPermission]
    renderer_classes = [PDFRenderer]

    @staticmethod
    def answer(document: bytes, digest: str, filename: str) -> HttpResponse:
        return HttpResponse(
            document,
            content_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="{filename}"',
                "X-Document-SHA256": digest,
            },
        )


class CertificateView(PDFView):
    """The certificate of analysis of a released batch, as a PDF."""

    required_permissions = {"get": "batch.view"}

    @extend_schema(
        responses={
            **PDF_OK,
            409: OpenApiResponse(ErrorSerializer, description="The batch is not released."),
        },
        summary="Certificate of analysis of a released batch (PDF)",
    )
    def get(self, request: Request, pk: Any) -> HttpResponse:
        batch = get_object_or_404(Batch.objects.restrict(request.user, "batch.view"), pk=pk)
        document, digest = services.certificate_issue(batch=batch)
        return self.answer(
            document, digest, f"certificate-{batch.product.gtin}-{batch.batch_number}.pdf"
        )


class QualityReviewView(PDFView):
    """The annual product quality review of a product at the caller's sites, as a PDF."""

    required_permissions = {"get": "inspection.view"}

    @extend_schema(
        parameters=[s.QualityReviewQuerySerializer],
        responses=PDF_OK,
        summary="Annual product quality review (PDF): batches, failures, one chart a parameter",
    )
    def get(self, request: Request, pk: Any) -> HttpResponse:
        query = s.QualityReviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data["year"]
        product = get_object_or_404(Product.objects.all(), pk=pk)
        sites = effective_permissions(request.user).sites_for("inspection.view")
        review = quality_review.content(product, year, sites)
        digest = pdf.document_hash(review)
        return self.answer(
            quality_review.render(review, digest),
            digest,
            f"quality-review-{product.gtin}-{year}.pdf",
        )
