"""The service's own Prometheus metrics and the ``/metrics`` endpoint.

Domain-free: apps increment the counters defined here (``SERIALS_GENERATED`` by the
serial generation service, the auth-cache counters by the permission resolver) and
register scrape-time collectors (``register_collector``) for values read from the
database when Prometheus asks, such as the audit records waiting to be sealed.

Process model. Counters live in the process that increments them. Under gunicorn with
several workers, set ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, cleared when
gunicorn starts; see ``config/gunicorn.py``): prometheus_client then keeps every
worker's counters in memory-mapped files and ``/metrics`` adds them up, whichever worker
answers the scrape. Without it each worker reports only its own counts. Celery task
outcomes happen in worker processes that serve no HTTP at all, so they are counted in
Redis (one ``HINCRBY`` per task) and read back at scrape time; without Redis (the
embedded default, eager tasks) they are counted in this process.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django_prometheus.conf import PROMETHEUS_LATENCY_BUCKETS
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from core.context import client_ip

logger = logging.getLogger(__name__)

# --- counters other apps increment ----------------------------------------------------

AUTH_CACHE_LOOKUPS = Counter(
    "auth_cache_lookups",
    "Cached security decisions looked up: kind is permissions, user or session; "
    "result is hit (answered from the cache) or miss (computed from the database).",
    ["kind", "result"],
)
# Bound once: ``.labels()`` on every request would cost a dict lookup and a lock more.
PERMISSION_CACHE_HIT = AUTH_CACHE_LOOKUPS.labels("permissions", "hit")
PERMISSION_CACHE_MISS = AUTH_CACHE_LOOKUPS.labels("permissions", "miss")

# --- requests -------------------------------------------------------------------------

# django-prometheus's request metrics that dashboards read, under the names it gives
# them, observed once per request from the figures the request's access log line
# carries (``core.middleware.RequestContextMiddleware``). Its own pair of middlewares
# updated a dozen series per request (body-size histograms, transports, charsets).
REQUEST_LATENCY = Histogram(
    "django_http_requests_latency_seconds_by_view_method",
    "Histogram of request processing time labelled by view.",
    ["view", "method"],
    buckets=PROMETHEUS_LATENCY_BUCKETS,
)
RESPONSES = Counter(
    "django_http_responses_total_by_status_view_method",
    "Count of responses by status, view, method.",
    ["status", "view", "method"],
)
UNNAMED_VIEW = "<unnamed view>"  # answered before URL resolution, or by an unnamed view
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
# The labelled series of each (view, method, status) seen, bound once per process.
_request_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(view: str | None, method: str, status: int, seconds: float) -> None:
    # A client chooses the method: anything unusual is one series, not one per spelling.
    method = method if method in _METHODS else "<invalid method>"
    key = (view or UNNAMED_VIEW, method, status)
    series = _request_series.get(key)
    if series is None:
        series = _request_series.setdefault(
            key,
            (
                REQUEST_LATENCY.labels(key[0], method),
                RESPONSES.labels(str(status), key[0], method),
            ),
        )
    series[0].observe(seconds)
    series[1].inc()


# --- Celery task outcomes, counted across processes -----------------------------------

TASK_OUTCOMES_KEY = "metrics:celery_task_outcomes"
_local_outcomes: dict[tuple[str, str], int] = {}
_local_lock = threading.Lock()


def _redis() -> Any:
    if "RedisCache" not in settings.CACHES["default"]["BACKEND"]:
        return None
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def count_task_outcome(task: str, outcome: str) -> None:
    """One more ``outcome`` (succeeded, failed, retried) of ``task``; never raises."""
    try:
        client = _redis()
        if client is not None:
            client.hincrby(TASK_OUTCOMES_KEY, f"{task}|{outcome}", 1)
            return
    except Exception:  # metrics must never break a task
        logger.warning("task_outcome_not_counted", extra={"task": task, "outcome": outcome})
        return
    with _local_lock:
        _local_outcomes[task, outcome] = _local_outcomes.get((task, outcome), 0) + 1


def task_outcomes() -> dict[tuple[str, str], int]:
    client = _redis()
    if client is None:
        with _local_lock:
            return dict(_local_outcomes)
    counts: dict[tuple[str, str], int] = {}
    for field, value in client.hgetall(TASK_OUTCOMES_KEY).items():
        task, _, outcome = field.decode().rpartition("|")
        counts[task, outcome] = int(value)
    return counts


class SharedCounter:
    """A counter kept in Redis, for events that happen in Celery workers as well as in
    web processes (one ``HINCRBY`` per ``inc``: count events, not rows, with it)."""

    KEY = "metrics:shared_counters"

    def __init__(self, name: str, documentation: str) -> None:
        self.name = name
        self.documentation = documentation
        _shared_counters.append(self)

    def inc(self, amount: float = 1) -> None:
        count_shared(self.name, amount)


_shared_counters: list[SharedCounter] = []


def count_shared(name: str, amount: float) -> None:
    try:
        client = _redis()
        if client is not None:
            client.hincrbyfloat(SharedCounter.KEY, name, amount)
            return
    except Exception:
        logger.warning("shared_counter_not_counted", extra={"counter": name})
        return
    with _local_lock:
        _local_shared[name] = _local_shared.get(name, 0) + amount


_local_shared: dict[str, float] = {}


def shared_values() -> dict[str, float]:
    client = _redis()
    if client is None:
        with _local_lock:
            return dict(_local_shared)
    return {k.decode(): float(v) for k, v in client.hgetall(SharedCounter.KEY).items()}


#: Serial numbers created, in web and worker processes alike:
#: ``SERIALS_GENERATED.inc(count)`` once a generation has committed;
#: ``rate(serials_generated_total[5m])`` is the generation rate.
SERIALS_GENERATED = SharedCounter(
    "serials_generated", "Serial numbers generated (committed), all batches, all processes."
)


# --- scrape-time collectors -----------------------------------------------------------

_collectors: list[Callable[[], Iterable[Any]]] = []


def register_collector(collect: Callable[[], Iterable[Any]]) -> None:
    """``collect()`` yields metric families, read when ``/metrics`` is scraped."""
    if collect not in _collectors:
        _collectors.append(collect)


def _task_outcome_families() -> Iterable[Any]:
    family = CounterMetricFamily(
        "celery_task_outcomes",
        "Celery task runs by task name and outcome (succeeded, failed, retried), all workers.",
        labels=["task", "outcome"],
    )
    for (task, outcome), value in sorted(task_outcomes().items()):
        family.add_metric([task, outcome], value)
    yield family


def _shared_counter_families() -> Iterable[Any]:
    values = shared_values()
    for counter in _shared_counters:
        family = CounterMetricFamily(counter.name, counter.documentation)
        family.add_metric([], values.get(counter.name, 0.0))
        yield family


register_collector(_task_outcome_families)
register_collector(_shared_counter_families)


class _ServiceCollector(Collector):
    def collect(self) -> Iterable[Any]:
        for collect in list(_collectors):
            try:
                yield from collect()
            except Exception:  # one broken source must not hide the others
                logger.exception("metrics_collector_failed", extra={"collector": repr(collect)})


def _service_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ServiceCollector())
    return registry


def exposition() -> bytes:
    """Everything: process counters (all workers in multiprocess mode) and scrape-time values."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_service_registry())


# --- who may scrape -------------------------------------------------------------------

METRICS_FORBIDDEN = "Metrics are served only to configured networks or with the metrics token."


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())


def scrape_allowed(request: HttpRequest) -> bool:
    """From an allowed network, or carrying ``Authorization: Bearer <METRICS_TOKEN>``."""
    token = settings.METRICS_TOKEN
    header = request.headers.get("authorization", "")
    if token and header.startswith("Bearer "):
        if hmac.compare_digest(header[7:].strip().encode(), token.encode()):
            return True
    ip = client_ip(request.META)
    if ip is None:
        return False
    address = ipaddress.ip_address(ip)
    return any(address in net for net in _networks(tuple(settings.METRICS_ALLOWED_NETWORKS)))


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not scrape_allowed(request):
        return JsonResponse({"detail": METRICS_FORBIDDEN, "code": "permission_denied"}, status=403)
    if request.method not in ("GET", "HEAD"):
        return JsonResponse(
            {"detail": f'Method "{request.method}" not allowed.', "code": "method_not_allowed"},
            status=405,
        )
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
