"""Request id and request context for every request."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.context import (
    REQUEST_ID_HEADER,
    RequestContext,
    clean_request_id,
    client_ip,
    reset_context,
    set_context,
)

MAX_USER_AGENT = 512
MAX_REASON = 2000  # the audit record's reason column
REASON_HEADER = "HTTP_X_CHANGE_REASON"


class RequestContextMiddleware:
    """Assign the request id, fill the context variables, refuse oversized bodies early."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = clean_request_id(request.META.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        # Later readers of the header (django-structlog's request logging) see the
        # sanitized id, never a client's raw value.
        request.META[REQUEST_ID_HEADER] = request_id
        token = set_context(
            RequestContext(
                request_id=request_id,
                ip=client_ip(request.META),
                user_agent=request.headers.get("user-agent", "")[:MAX_USER_AGENT],
                method=request.method or "",
                path=request.path[:1024],
                # Whitespace only is no reason; an over-long one is refused, not cut.
                change_reason=request.META.get(REASON_HEADER, "").strip(),
            )
        )
        try:
            response = (
                self._too_large(request)
                or self._reason_too_long(request)
                or self.get_response(request)
            )
        finally:
            reset_context(token)
        response["X-Request-ID"] = request_id
        return response

    @staticmethod
    def _reason_too_long(request: HttpRequest) -> HttpResponse | None:
        if len(request.META.get(REASON_HEADER, "").strip()) <= MAX_REASON:
            return None
        return JsonResponse(
            {
                "detail": f"X-Change-Reason is longer than {MAX_REASON} characters.",
                "code": "reason_too_long",
            },
            status=400,
        )

    @staticmethod
    def _too_large(request: HttpRequest) -> HttpResponse | None:
        try:
            length = int(request.headers.get("content-length") or 0)
        except ValueError:
            return JsonResponse(
                {"detail": "Invalid Content-Length header.", "code": "bad_request"}, status=400
            )
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return JsonResponse(
                {
                    "detail": f"Request body exceeds {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
                    "code": "payload_too_large",
                },
                status=413,
            )
        return None
