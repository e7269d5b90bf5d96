from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, renderers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import signed_in
from audit.api.reasons import REASON_HEADER
from batches.models import Batch
from core import replicas
from core.filters import DjangoFilterBackend
from core.pagination import CursorPagination
from rbac.viewsets import ScopedGenericViewSet
from serializations import gs1, selectors, services
from serializations.api import serializers as s
from serializations.filters import ContainerFilter, SerialFilter
from serializations.models import Container, SerialJob, SerialNumber
from sites.models import Site


class SerialCursorPagination(CursorPagination):
    page_size = 100
    max_page_size = 1000
    ordering = "id"


class CSVRenderer(renderers.BaseRenderer):
    """Lets a client ask for ``text/csv`` (the export streams its CSV itself); an error
    answered to such a request still leaves as JSON, labelled as JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return renderers.JSONRenderer().render(data)


def _list_rows(view: Any, queryset: Any) -> Response:
    queryset = view.filter_queryset(queryset)
    page = view.paginate_queryset(queryset.values(*selectors.ROW_VALUES))
    return view.get_paginated_response(selectors.serial_rows(page))


class SerialRowsViewSet(ScopedGenericViewSet):
    """What both serial viewsets share: rows scoped by their batch's site, in id order."""

    view_permission = "serial.view"
    serializer_class = s.SerialOutputSerializer
    pagination_class = SerialCursorPagination
    # Lists are in id order only: no ?ordering= (a field of the output such as gs1 or
    # lot is no column to sort by) and no ?search=.
    filter_backends = [DjangoFilterBackend]
    filterset_class = SerialFilter
    queryset = SerialNumber.objects.none()

    def base_queryset(self) -> Any:
        return selectors.serial_list()


class SerialViewSet(mixins.ListModelMixin, SerialRowsViewSet):
    """Serial numbers of the caller's sites; status moves; pack verification."""

    required_permissions = {
        "list": "serial.view",
        "change_status": "serial.update_status",
        "verify": "serial.view",
    }
    replica_actions = frozenset({"list", "verify"})

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Cursor pages in id order; filters: batch, status, gtin, id range."""
        return _list_rows(self, self.get_queryset())

    @extend_schema(
        request=s.StatusMoveInputSerializer,
        responses={200: s.StatusMoveOutputSerializer},
        parameters=[REASON_HEADER],
    )
    @action(detail=False, methods=["post"], url_path="status", filter_backends=[])
    def change_status(self, request: Request) -> Response:
        """Move up to 10,000 serials to one status, all or nothing.

        commissioned → packed → shipped → dispensed; decommissioned (with a reason)
        from any state but dispensed. A 400 names every serial that is unknown, outside
        the caller's sites or not allowed the move, and nothing changes. Every move needs
        a reason for change: the X-Change-Reason header, or for decommissioning its code.
        """
        data = s.StatusMoveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.serials_move(
            actor=signed_in(request),
            refs=data.validated_data["serials"],
            status=data.validated_data["status"],
            reason=data.validated_data["reason"],
        )
        return Response(s.StatusMoveOutputSerializer(result).data)

    @extend_schema(
        parameters=[s.VerifyInputSerializer],
        responses={200: s.VerifyOutputSerializer},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def verify(self, request: Request) -> Response:
        """Verify a scanned pack: known, matching lot and expiry, saleable.

        ``verified`` is true only when there is no reason against the pack; each
        reason has a code (unknown_serial, lot_mismatch, expiry_mismatch,
        decommissioned, recalled, dispensed, batch_rejected, batch_not_released,
        expired). Serials of sites the caller cannot see are unknown.
        """
        params = s.VerifyInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        try:
            answer = services.verify(user=signed_in(request), code=params.validated_data["code"])
        except gs1.CodeError as exc:
            return Response({"code": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(s.VerifyOutputSerializer(answer).data)


class BatchSerialViewSet(SerialRowsViewSet):
    """A batch's serials: list, generate, export (``/api/batches/{id}/serials/``)."""

    required_permissions = {
        "list": "serial.view",
        "create": "serial.generate",
        "export": "serial.export",
    }
    replica_actions = frozenset({"list", "export"})

    # A batch of a site the caller has no serial access to at all is a 404; one where
    # the caller may look but not act is a 403.
    parent_model = Batch
    parent_lookup = "batch_pk"
    parent_visible_with = {"export": ("serial.export",)}

    def parent_queryset(self) -> Any:
        return Batch.objects.select_related("product")

    def get_batch(self) -> Batch:
        return self.get_parent()  # type: ignore[no-any-return]

    @extend_schema(parameters=[OpenApiParameter("batch_pk", OpenApiTypes.UUID, "path")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The batch's serials, cursor pages in id order."""
        batch = self.get_batch()
        return _list_rows(self, self.get_queryset().filter(batch_id=batch.pk))

    @extend_schema(
        parameters=[OpenApiParameter("batch_pk", OpenApiTypes.UUID, "path")],
        request=s.GenerateInputSerializer,
        responses={
            201: s.GeneratedOutputSerializer,
            202: OpenApiResponse(s.SerialJobOutputSerializer, "Queued as a job."),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Generate serials while the batch is planned or in production.

        Up to ``SERIAL_SYNC_MAX`` (10,000) in the request (201, a summary with the id
        range); more, up to 1,000,000, as a job (202, with its ``serial-jobs/{id}/``
        URL). Random serials (default) are drawn from a cryptographic source over
        ``23456789ABCDEFGHJKLMNPQRSTUVWXYZ``; sequential ones continue the GTIN's
        highest zero-padded number after the prefix.
        """
        batch = self.get_batch()
        data = s.GenerateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        req = services.GenerationRequest(**data.validated_data)
        written, job = services.serials_generate(actor=signed_in(request), batch=batch, req=req)
        if job is not None:
            return Response(
                s.SerialJobOutputSerializer(job).data,
                status=status.HTTP_202_ACCEPTED,
                headers={"Location": s.job_url(job)},
            )
        assert written is not None
        summary = {
            "batch": batch.pk,
            "generated": written.count,
            "strategy": req.strategy,
            "length": req.length,
            "prefix": req.prefix,
            "first_id": written.first_id,
            "last_id": written.last_id,
            "first_serial": written.first_serial,
            "last_serial": written.last_serial,
            "serials": s.serials_url(batch.pk, written.first_id, written.last_id),
        }
        return Response(s.GeneratedOutputSerializer(summary).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("batch_pk", OpenApiTypes.UUID, "path")],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    @action(detail=False, methods=["get"], renderer_classes=[renderers.JSONRenderer, CSVRenderer])
    def export(self, request: Request, *args: Any, **kwargs: Any) -> StreamingHttpResponse:
        """The batch's serials as CSV (gtin, serial, lot, expiry, status, gs1), streamed
        in constant memory whatever the batch size."""
        batch = self.get_batch()
        name = re.sub(r"[^A-Za-z0-9._-]", "_", f"serials-{batch.product.gtin}-{batch.batch_number}")
        response = StreamingHttpResponse(
            replicas.streamed(selectors.export_csv(batch)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response


class SerialJobViewSet(mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Generation jobs: status, serials generated so far, errors."""

    required_permissions = {"retrieve": "serial.view"}
    serializer_class = s.SerialJobOutputSerializer
    queryset = SerialJob.objects.none()

    def base_queryset(self) -> Any:
        return selectors.job_detail()

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(s.SerialJobOutputSerializer(self.get_object()).data)


class ContainerViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """Cases and pallets (SSCCs) of the caller's sites: make, pack, unpack, ship."""

    required_permissions = {
        "list": "container.view",
        "retrieve": "container.view",
        "create": "container.pack",
        "pack": "container.pack",
        "unpack": "container.pack",
        "ship": "container.ship",
    }
    serializer_class = s.ContainerOutputSerializer
    queryset = Container.objects.none()
    lookup_field = "sscc"
    lookup_value_regex = r"[0-9]{18}"
    filterset_class = ContainerFilter
    ordering_fields = ["created_at", "sscc"]
    ordering = ["-created_at"]

    def base_queryset(self) -> Any:
        return selectors.container_list()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Filters: site, kind, status, batch, parent (an SSCC), top_level."""
        return super().list(request, *args, **kwargs)

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", OpenApiTypes.STR, description="A page of children."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="Children per page."),
        ],
        responses={200: s.ContainerDetailOutputSerializer},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The container, the number of packs in its whole tree, and its direct
        children, cases first then packs, a page at a time (``children.next``)."""
        container = self.get_object()
        children, after = selectors.container_children(
            container,
            cursor=request.query_params.get("cursor"),
            page_size=request.query_params.get("page_size"),
        )
        data = dict(s.ContainerOutputSerializer(container).data)
        data["pack_count"] = services.pack_count(container)
        next_url = None
        if after is not None:
            next_url = request.build_absolute_uri(
                f"{request.path}?{urlencode({**request.query_params.dict(), 'cursor': after})}"
            )
        data["children"] = {"next": next_url, "results": children}
        return Response(data)

    @extend_schema(
        request=s.ContainerCreateInputSerializer,
        responses={201: s.ContainerOutputSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A new empty case or pallet at a site, numbered with the site's next SSCC
        (GS1 company prefix of the site, else the ``GS1_COMPANY_PREFIX`` setting)."""
        user = signed_in(request)
        data = s.ContainerCreateInputSerializer(data=request.data)
        data.narrow("site", Site.objects.restrict(user, "container.pack"))
        data.narrow("batch", Batch.objects.restrict(user, "container.pack"))
        data.is_valid(raise_exception=True)
        container = services.container_create(**data.validated_data)
        return Response(s.ContainerOutputSerializer(container).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ChildrenInputSerializer, responses={200: s.PackedOutputSerializer})
    @action(detail=True, methods=["post"], filter_backends=[])
    def pack(self, request: Request, sscc: str) -> Response:
        """Put up to 10,000 packs and cases into the container, all or nothing: a case
        takes packs, a pallet packs and cases; each child at the container's site, not
        decommissioned or shipped, in no other container; a case holds one batch unless
        its site allows mixed cases. A 400 names every offending child."""
        container = self.get_object()
        data = s.ChildrenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.container_pack(container=container, codes=data.validated_data["children"])
        return Response(s.PackedOutputSerializer(result).data)

    @extend_schema(request=s.UnpackInputSerializer, responses={200: s.PackedOutputSerializer})
    @action(detail=True, methods=["post"], filter_backends=[])
    def unpack(self, request: Request, sscc: str) -> Response:
        """Take the named children out (all of them when ``children`` is left out)."""
        container = self.get_object()
        data = s.UnpackInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.container_unpack(
            container=container, codes=data.validated_data.get("children")
        )
        return Response(s.PackedOutputSerializer(result).data)

    @extend_schema(request=s.ShipInputSerializer, responses={200: s.ShippedOutputSerializer})
    @action(detail=True, methods=["post"], filter_backends=[])
    def ship(self, request: Request, sscc: str) -> Response:
        """Ship the container and everything in it to a GLN: every pack becomes
        shipped. 409 when it is in another container, empty, already shipped, or holds a
        pack of a batch that is not released."""
        container = self.get_object()
        data = s.ShipInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.container_ship(container=container, **data.validated_data)
        return Response(s.ShippedOutputSerializer(result).data)
