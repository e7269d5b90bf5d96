"""Access records for API requests that write or are refused (reads too, if configured)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from audit import writer
from audit.capture import record_access
from audit.choices import Action

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REFUSED = frozenset({401, 403, 429})


class AuditAccessMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            status = response.status_code
            if request.method in WRITE_METHODS or status in REFUSED or settings.AUDIT_LOG_READS:
                record_access(
                    action=Action.REQUEST,
                    status_code=status,
                    duration_ms=(time.perf_counter() - started) * 1000,
                )
        writer.flush(force=False)
        return response
