"""Request id, request context, the access log line and the request metrics of every
request, and the middleware that runs only for the admin's pages."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils.module_loading import import_string

from core import replicas
from core.context import (
    REQUEST_ID_HEADER,
    RequestContext,
    clean_request_id,
    client_ip,
    get_context,
    reset_context,
    set_context,
)
from core.metrics import observe_request

access_log = logging.getLogger("core.access")

MAX_USER_AGENT = 512
MAX_REASON = 2000  # the audit record's reason column
REASON_HEADER = "HTTP_X_CHANGE_REASON"


class RequestContextMiddleware:
    """Assign the request id, fill the context variables, refuse oversized bodies early;
    once answered, write the request's one access log line and observe its metrics.

    The outermost middleware: the duration it logs is the whole stack's. The log line is
    ``request_finished`` with ``request`` (method and path with query), ``code`` and
    ``duration_ms``; the request id, user and client address come from the context,
    as on every line. 5xx are logged at ERROR, 4xx at WARNING, the rest at INFO.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = clean_request_id(request.META.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        # Later readers of the header see the sanitized id, never a client's raw value.
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
            self._finished(request, response, time.perf_counter() - started)
        finally:
            reset_context(token)
        response["X-Request-ID"] = request_id
        return response

    @staticmethod
    def _finished(request: HttpRequest, response: HttpResponse, seconds: float) -> None:
        status = response.status_code
        if settings.DATABASE_REPLICA_URLS:  # read-your-writes: this caller's next reads
            replicas.after_request(request.method or "", status, get_context().user_id)
        match = getattr(request, "resolver_match", None)
        observe_request(match.view_name if match else None, request.method or "", status, seconds)
        level = (
            logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
        )
        if access_log.isEnabledFor(level):
            access_log.log(
                level,
                "request_finished",
                extra={
                    "request": f"{request.method} {request.get_full_path()}",
                    "code": status,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )

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


ADMIN_PREFIX = "/admin/"


class AdminMiddleware:
    """The middleware of ``settings.ADMIN_MIDDLEWARE``, run for the admin's pages only.

    Sessions, CSRF, session sign-in, OTP, messages and the admin allow-list concern
    the admin alone: the API signs callers in with a JWT, and
    health, metrics and the documents under ``/api/`` have no session. Every other
    request skips them. Under ``/admin/`` they run in their listed order, as they would
    in ``MIDDLEWARE`` at this one's place, hooks included: their ``process_view`` in
    order before the view, ``process_template_response`` and ``process_exception`` in
    reverse order after it, and an exception inside the chain turned into a response at
    the middleware it passes, as Django's handler does (``convert_exception_to_response``).

    The admin's system checks look for its middleware in ``MIDDLEWARE``; ``core.checks``
    looks for it here instead.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        handler: Callable[[HttpRequest], Any] = get_response
        instances: list[Any] = []
        for path in reversed(settings.ADMIN_MIDDLEWARE):
            try:
                instance = import_string(path)(handler)
            except MiddlewareNotUsed:  # as Django's handler: left out
                continue
            instances.insert(0, instance)
            handler = convert_exception_to_response(instance)
        self.admin_response = handler
        self._view_hooks = [m.process_view for m in instances if hasattr(m, "process_view")]
        self._template_hooks = [
            m.process_template_response
            for m in reversed(instances)
            if hasattr(m, "process_template_response")
        ]
        self._exception_hooks = [
            m.process_exception for m in reversed(instances) if hasattr(m, "process_exception")
        ]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(ADMIN_PREFIX):
            response: HttpResponse = self.admin_response(request)
            return response
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if request.path_info.startswith(ADMIN_PREFIX):
            for hook in self._view_hooks:
                response: HttpResponse | None = hook(request, view, args, kwargs)
                if response is not None:
                    return response
        return None

    def process_template_response(
        self, request: HttpRequest, response: TemplateResponse
    ) -> TemplateResponse:
        if request.path_info.startswith(ADMIN_PREFIX):
            for hook in self._template_hooks:
                response = hook(request, response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path_info.startswith(ADMIN_PREFIX):
            for hook in self._exception_hooks:
                response: HttpResponse | None = hook(request, exception)
                if response is not None:
                    return response
        return None
