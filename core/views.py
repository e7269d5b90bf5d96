import threading
from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


_FAVICON = (Path(__file__).parent / "static" / "core" / "favicon.ico").read_bytes()


@cache_control(public=True, max_age=86_400)
def favicon(request: HttpRequest) -> HttpResponse:
    """What every browser asks for on every page (a 404 logged each time, otherwise)."""
    return HttpResponse(_FAVICON, content_type="image/x-icon")


@csrf_exempt  # nothing to protect; without it a POST/PUT/DELETE got an HTML 403
def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """Unknown paths under /api/ answer JSON, not Django's HTML page."""
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


def server_error(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "Internal server error.", "code": "server_error"}, status=500
        )
    return HttpResponse("Internal server error.", status=500, content_type="text/plain")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
    return HttpResponse("Bad request.", status=400, content_type="text/plain")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "detail": "You do not have permission to perform this action.",
                "code": "permission_denied",
            },
            status=403,
        )
    return HttpResponse("Forbidden.", status=403, content_type="text/plain")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_not_found(request)
    return HttpResponse("Not found.", status=404, content_type="text/plain")


_schema_lock = threading.Lock()
_schema_document: dict[str, Any] = {}
_rendered_schemas: dict[str, tuple[bytes, str, str]] = {}


def forget_schema() -> None:
    """Drop the process's schema (tests that change what it documents)."""
    with _schema_lock:
        _schema_document.clear()
        _rendered_schemas.clear()


class JSONErrorsMixin:
    """For a view that answers a document (YAML, a PDF, a chart): its errors still
    leave in the API's JSON, whatever media type the client asked for (and the schema
    documents them so, ``core.schema``)."""

    errors_in_json = True

    def handle_exception(self, exc: Exception) -> Response:
        response: Response = super().handle_exception(exc)  # type: ignore[misc]
        self.request.accepted_renderer = JSONRenderer()  # type: ignore[attr-defined]
        self.request.accepted_media_type = JSONRenderer.media_type  # type: ignore[attr-defined]
        return response


class SchemaView(JSONErrorsMixin, SpectacularAPIView):
    """The OpenAPI document, generated once per process and kept rendered per media type.

    Generating it walks every view and serializer (about 0.4 s of CPU, on a public URL);
    it changes only with the code, which a new process loads. ``?lang`` and ``?version``
    are not offered (one language, one version), so there are only the four renderings.
    """

    @extend_schema(**SCHEMA_KWARGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        renderer = request.accepted_renderer
        rendered = _rendered_schemas.get(renderer.media_type)
        if rendered is None:
            # One thread generates; others asking meanwhile wait for it, not redo it.
            with _schema_lock:
                rendered = _rendered_schemas.get(renderer.media_type)
                if rendered is None:
                    rendered = self._render(request, renderer)
                    _rendered_schemas[renderer.media_type] = rendered
        content, content_type, disposition = rendered
        return HttpResponse(
            content, content_type=content_type, headers={"Content-Disposition": disposition}
        )

    def _render(self, request: Request, renderer: BaseRenderer) -> tuple[bytes, str, str]:
        if "schema" not in _schema_document:
            generator = self.generator_class(urlconf=self.urlconf, patterns=self.patterns)
            _schema_document["schema"] = generator.get_schema(request=request, public=True)  # type: ignore[no-untyped-call]
        filename = self._get_filename(request, None)  # type: ignore[no-untyped-call]
        response = Response(
            _schema_document["schema"],
            headers={"Content-Disposition": f'inline; filename="{filename}"'},
        )
        response.accepted_renderer = renderer
        response.accepted_media_type = renderer.media_type
        # DRF sets renderer_context on the response before rendering.
        response.renderer_context = self.get_renderer_context()  # type: ignore[attr-defined]
        response.render()
        return response.content, response["Content-Type"], response["Content-Disposition"]
