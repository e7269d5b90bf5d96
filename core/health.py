"""Liveness and readiness endpoints.

``/health/live/`` answers as long as the process serves requests and touches nothing
else (an orchestrator restarts the container when it fails). ``/health/ready/`` checks
the database, the cache and, when one is configured, the Celery broker with
django-health-check, and answers 503 when any of them is down.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
from typing import Any

from asgiref.sync import sync_to_async
from celery import current_app
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from core import replicas

# What never_cache writes, less Expires (which max-age overrides), set as one header:
# never_cache parsed and rebuilt the header and formatted a date on every probe.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


def live(request: HttpRequest) -> HttpResponse:
    response = JsonResponse({"status": "ok"})
    response["Cache-Control"] = NEVER_CACHE
    return response


@dataclasses.dataclass
# django-health-check ships no type information.
class Broker(HealthCheck):  # type: ignore[misc]
    """Opens a connection to the Celery broker."""

    timeout = datetime.timedelta(seconds=2)

    def run(self) -> None:
        # The project's Celery app (config/celery.py) is the current one once Django
        # has loaded the config package; core reaches it through Celery, not by import.
        try:
            with current_app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=1)
        except Exception as exc:  # kombu raises many kinds; all mean "down"
            raise ServiceUnavailable("Broker unreachable") from exc


# django-health-check ships no type information.
class ReadyView(HealthCheckView):  # type: ignore[misc]
    """Always JSON; 503 (not 500) when a dependency is down."""

    def get_checks(self):  # type: ignore[no-untyped-def]
        yield Database()
        yield Cache()
        if settings.HEALTH_CHECK_BROKER:
            yield Broker()

    async def get(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        with self.get_executor() as executor:
            self.results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())  # type: ignore[no-untyped-call]
            )
        failed = any(result.error for result in self.results)
        checks = {
            result.check.__class__.__name__.lower(): (
                "ok" if not result.error else str(result.error)
            )
            for result in self.results
        }
        body: dict[str, Any] = {"status": "unavailable" if failed else "ok", "checks": checks}
        if settings.DATABASE_REPLICA_URLS:
            # Reported, never failing readiness: a skipped replica's reads go to the primary.
            body["replicas"] = await sync_to_async(replicas.report)()
        return JsonResponse(body, status=503 if failed else 200)
