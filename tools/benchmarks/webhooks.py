"""Webhook fan-out: ``BENCH_WEBHOOK_EVENTS`` (10,000) events to 10 subscriptions, one of
them down, delivered by a real Celery worker to nine real receivers on 127.0.0.1.

Run by ``make bench`` (``tools.benchmarks.run``) in a Django process of its own, on the
benchmark database and broker. The events are written to the outbox as the publishing
path writes them (``core.topics.build``, one row each), then one fan-out is asked for and
the clock runs until every delivery to the nine has succeeded. Each receiver verifies
every signature with the ``standardwebhooks`` package. The dead subscription (a port
nobody listens on) is paused by its failures; the report says how often it was tried.
Everything made here is deleted at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tools.harness import HOST, PY, ROOT, free_port, stop

EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "10000"))
LIVE = 9
# A prefork worker, as production runs it (`celery worker --concurrency=N`).
WORKER_PROCESSES = int(os.environ.get("BENCH_WEBHOOK_WORKER_PROCESSES", "4"))
DEADLINE = float(os.environ.get("BENCH_WEBHOOK_DEADLINE", "900"))


class _Counting(ThreadingHTTPServer):
    daemon_threads = True
    secret = ""
    received = 0
    unverified = 0
    lock = threading.Lock()


def _receiver() -> _Counting:
    from standardwebhooks import Webhook, WebhookVerificationError

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            server: Any = self.server
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                Webhook(server.secret).verify(body, dict(self.headers.items()), json_parse=False)
                verified = True
            except WebhookVerificationError:
                verified = False
            with server.lock:
                server.received += 1
                server.unverified += not verified
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = _Counting((HOST, free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _worker(log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            PY,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(WORKER_PROCESSES),
            "--loglevel",
            "WARNING",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "--hostname",
            f"bench-webhooks-{os.getpid()}@localhost",
        ],
        cwd=ROOT,
        env={**os.environ, "WEBHOOK_ALLOW_HTTP": "true", "WEBHOOK_ALLOWED_HOSTS": HOST},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def fan_out() -> dict[str, Any]:
    os.environ["WEBHOOK_ALLOW_HTTP"] = "true"
    os.environ["WEBHOOK_ALLOWED_HOSTS"] = HOST
    import django

    django.setup()
    from django.db.models import Count, Sum

    from accounts.models import User
    from core import topics
    from sites.models import Site
    from webhooks import services, tasks
    from webhooks.models import Delivery, DeliveryStatus, OutboxEvent, Subscription

    admin = User.objects.get(username="bench.admin")
    site = Site.objects.get(code="BENCH-01")
    OutboxEvent.objects.all().delete()  # what the PATCH runs left, no worker having run
    receivers = [_receiver() for _ in range(LIVE)]
    dead_url = f"http://{HOST}:{free_port()}/down"
    subscriptions = []
    for receiver in receivers:
        subscription, secret = services.subscription_create(
            actor=admin,
            url=f"http://{HOST}:{receiver.server_address[1]}/hook",
            types=["batch.started"],
        )
        receiver.secret = secret
        subscriptions.append(subscription)
    dead, _ = services.subscription_create(actor=admin, url=dead_url, types=["batch.started"])
    rows = []
    for n in range(EVENTS):
        event = topics.build(
            "batch.started",
            data={"id": f"bench-{n}", "batch_number": f"B{n:06d}", "status": "in_production"},
            site_id=site.pk,
        )
        rows.append(
            OutboxEvent(
                event_id=event.id,
                type=event.type,
                version=event.version,
                site_id=event.site_id,
                codename=event.codename,
                occurred_at=event.occurred_at,
                body=event.body,
            )
        )
    OutboxEvent.objects.bulk_create(rows, batch_size=2000)

    log = ROOT / "bench-results" / "webhook-worker.log"
    log.write_bytes(b"")
    worker = _worker(log)
    try:
        time.sleep(3)  # the worker connects to the broker
        started = time.monotonic()
        tasks.request_fan_out()
        expected = EVENTS * LIVE
        live = Delivery.objects.filter(subscription__in=subscriptions)
        while time.monotonic() - started < DEADLINE:
            done = live.filter(status=DeliveryStatus.SUCCEEDED).count()
            if done >= expected:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        done = live.filter(status=DeliveryStatus.SUCCEEDED).count()
    finally:
        stop(worker)
    dead_attempts = (
        Delivery.objects.filter(subscription=dead).aggregate(n=Sum("attempts"))["n"] or 0
    )
    per_receiver = [r.received for r in receivers]
    duplicates = sum(per_receiver) - done
    unverified = sum(r.unverified for r in receivers)
    statuses = dict(
        Delivery.objects.filter(subscription=dead)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    for receiver in receivers:
        receiver.shutdown()
    Subscription.objects.filter(pk__in=[s.pk for s in [*subscriptions, dead]]).delete()
    OutboxEvent.objects.all().delete()
    return {
        "events": EVENTS,
        "subscribers": LIVE + 1,
        "delivered": done,
        "expected": expected,
        "seconds": round(elapsed, 2),
        "deliveries_per_s": round(done / elapsed, 1),
        "events_per_s": round(done / LIVE / elapsed, 1),
        "duplicates": duplicates,
        "unverified": unverified,
        "dead_attempts": dead_attempts,
        "dead_pending": statuses.get("pending", 0),
        "worker_processes": WORKER_PROCESSES,
    }


if __name__ == "__main__":
    if sys.argv[1:] != ["fan_out"]:
        sys.exit("usage: python -m tools.benchmarks.webhooks fan_out")
    print(json.dumps(fan_out()))
