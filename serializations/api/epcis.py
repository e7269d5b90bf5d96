"""The EPCIS 2.0 endpoints: the event query, a batch's document, and capture."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import signed_in
from batches.models import Batch
from core.parsers import JSONParser
from rbac.viewsets import ScopedGenericViewSet
from serializations import capture, epcis, selectors
from serializations.models import EPCISEvent

MEDIA_TYPE = "application/json"


class JSONLDRenderer(renderers.JSONRenderer):
    media_type = "application/ld+json"
    # JSON-LD is JSON: no ?format= of its own (only the Accept header tells them apart),
    # so ?format=json stays the one format the query string can name.
    format = "json"


class JSONLDParser(JSONParser):
    media_type = "application/ld+json"


RENDERERS = [renderers.JSONRenderer, JSONLDRenderer]


def _media_type(request: Request) -> str:
    """What the client asked for: ``application/ld+json`` or (by default) JSON."""
    renderer = getattr(request, "accepted_renderer", None)
    return JSONLDRenderer.media_type if isinstance(renderer, JSONLDRenderer) else MEDIA_TYPE


_LIST = "Values separated by | or commas, or the parameter repeated."
QUERY_PARAMETERS = [
    OpenApiParameter("EQ_bizStep", OpenApiTypes.STR, description="CBV bizStep. " + _LIST),
    OpenApiParameter("EQ_disposition", OpenApiTypes.STR, description="CBV disposition. " + _LIST),
    OpenApiParameter("EQ_action", OpenApiTypes.STR, description="ADD, OBSERVE, DELETE. " + _LIST),
    OpenApiParameter("EQ_eventType", OpenApiTypes.STR, description="ObjectEvent, … " + _LIST),
    OpenApiParameter("GE_eventTime", OpenApiTypes.DATETIME, description="eventTime at or after."),
    OpenApiParameter("LT_eventTime", OpenApiTypes.DATETIME, description="eventTime before."),
    OpenApiParameter(
        "MATCH_epc", OpenApiTypes.STR, description="In epcList or childEPCs. " + _LIST
    ),
    OpenApiParameter("MATCH_parentID", OpenApiTypes.STR, description="As parentID. " + _LIST),
    OpenApiParameter("MATCH_anyEPC", OpenApiTypes.STR, description="Anywhere. " + _LIST),
    OpenApiParameter(
        "EQ_bizLocation", OpenApiTypes.STR, description="A site's SGLN URI (…/414/{GLN}). " + _LIST
    ),
    OpenApiParameter("perPage", OpenApiTypes.INT, description="Events per page (1–1000)."),
    OpenApiParameter("nextPageToken", OpenApiTypes.STR, description="From the Link header."),
]
DOCUMENT = OpenApiResponse(
    OpenApiTypes.OBJECT, "An EPCIS 2.0 JSON-LD document, valid against GS1's schema."
)


class EPCISEventViewSet(ScopedGenericViewSet):
    """``GET /api/epcis/events/``: the EPCIS events of the caller's sites."""

    required_permissions = {"list": "serial.view"}
    queryset = EPCISEvent.objects.none()
    filter_backends: list[Any] = []
    pagination_class = None
    renderer_classes = RENDERERS

    def base_queryset(self) -> Any:
        return EPCISEvent.objects.all()

    @extend_schema(parameters=QUERY_PARAMETERS, responses={200: DOCUMENT})
    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """An ``EPCISQueryDocument`` of the events matching the EPCIS 2.0 REST binding's
        query parameters, oldest recorded first, ``perPage`` at a time: the next page's
        URL is in the ``Link`` header (``rel="next"``, with ``nextPageToken``)."""
        texts, token = selectors.epcis_events(self.get_queryset(), request.query_params)
        response = HttpResponse(epcis.query_document(texts), content_type=_media_type(request))
        if token is not None:
            params = request.query_params.copy()
            params["nextPageToken"] = token
            url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
            response["Link"] = f'<{url}>; rel="next"'
        return response


class BatchEPCISViewSet(ScopedGenericViewSet):
    """``GET /api/batches/{id}/epcis/``: every event of one batch."""

    required_permissions = {"list": "serial.view"}
    queryset = EPCISEvent.objects.none()
    filter_backends: list[Any] = []
    pagination_class = None
    renderer_classes = RENDERERS
    parent_model = Batch
    parent_lookup = "batch_pk"

    def base_queryset(self) -> Any:
        return EPCISEvent.objects.all()

    @extend_schema(
        parameters=[OpenApiParameter("batch_pk", OpenApiTypes.UUID, "path")],
        responses={200: DOCUMENT},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> StreamingHttpResponse:
        """One ``EPCISDocument`` of every event naming a pack of the batch (or a case or
        pallet holding one), oldest first, streamed in constant memory."""
        batch = self.get_parent()
        response = StreamingHttpResponse(
            epcis.stream_document(selectors.batch_event_texts(batch)),
            content_type=_media_type(request),
        )
        response["Content-Disposition"] = f'attachment; filename="epcis-{batch.pk}.json"'
        return response


class CaptureOutputSerializer(serializers.Serializer):
    captured = serializers.IntegerField(help_text="Events applied and stored.")
    duplicates = serializers.IntegerField(help_text="Events stored before: skipped.")
    event_ids = serializers.ListField(child=serializers.CharField())


class CaptureView(ScopedGenericViewSet):
    """``POST /api/epcis/capture/``: a trading partner's EPCIS document."""

    required_permissions = {"create": "serial.update_status"}
    queryset = EPCISEvent.objects.none()
    filter_backends: list[Any] = []
    pagination_class = None
    parser_classes = [JSONParser, JSONLDParser]

    def base_queryset(self) -> Any:
        return EPCISEvent.objects.all()

    @extend_schema(
        request={
            "application/json": OpenApiTypes.OBJECT,
            "application/ld+json": OpenApiTypes.OBJECT,
        },
        responses={200: CaptureOutputSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Apply an ``EPCISDocument`` (``application/json`` or ``application/ld+json``,
        at most ``MAX_REQUEST_BODY_BYTES`` and ``EPCIS_CAPTURE_MAX_EVENTS`` events): it
        must validate against GS1's EPCIS 2.0 schema, and each event must be one this
        service applies (commissioning of a batch's packs named by their lot, packing
        and unpacking, shipping containers, packing/dispensing/decommissioning moves)
        to known packs at the caller's sites. All or nothing; a 400 names every schema
        error by its JSON path and every refused event by its index. An event whose
        eventID is stored already is skipped, so sending a document twice changes
        nothing the second time."""
        result = capture.epcis_capture(actor=signed_in(request), document=request.data)
        return Response(CaptureOutputSerializer(result).data)
