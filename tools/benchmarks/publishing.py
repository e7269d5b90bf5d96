"""What publishing an event adds to the request that causes it, measured in-process.

Under wrk the PATCH's throughput on this machine varies by ±15 % from one 10-second run
to the next (and an A/A run of two identical servers differs by as much), which hides
a cost of a few per cent. Here one Django process serves the audited
``PATCH /api/sites/{id}/`` through the test client, one request at a time, on the
benchmark database, in ``BLOCKS`` blocks of ``PER_BLOCK`` requests that alternate
between publishing ``site.updated`` (the bench subscription wants it) and not
publishing (the sink removed, as ``gunicorn_no_publish.py`` does), in alternating order.
Per request it reads the wall time (the request's own latency: nothing queues) and the
CPU time of both sides of the work, this process and its PostgreSQL backend
(``/proc/<pid>/stat`` of ``pg_backend_pid()``). The figures are medians over blocks.

Run by ``make bench`` (``tools.benchmarks.run``) in a process of its own.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

BLOCKS = int(os.environ.get("BENCH_PUBLISH_BLOCKS", "16"))
PER_BLOCK = int(os.environ.get("BENCH_PUBLISH_REQUESTS", "60"))
_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def measure() -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from core import topics
    from sites.models import Site
    from webhooks import interest

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    sites = [
        str(pk) for pk in Site.objects.filter(code__startswith="BP-").values_list("pk", flat=True)
    ]
    # A session made directly: the sign-in flood that ran before has used up this
    # address's budget of sign-ins, and a password hash is not what is measured here.
    from accounts import services as account_services
    from accounts.models import User

    _, tokens = account_services.session_start(
        user=User.objects.get(username="bench.admin"), ip=None, user_agent="bench"
    )
    token = tokens.access
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    sinks = list(topics._sinks)
    assert interest.wanted("site.updated"), "the bench subscription to site.updated is missing"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    counter = 0

    def block(publishing: bool) -> dict[str, float]:
        nonlocal counter
        topics._sinks[:] = sinks if publishing else []
        walls = []
        cpu_before, pg_before = time.process_time(), _cpu(backend)
        for _ in range(PER_BLOCK):
            counter += 1
            path = f"/api/sites/{sites[counter % len(sites)]}/"
            started = time.perf_counter()
            response = client.patch(
                path,
                json.dumps({"name": f"Publish bench {counter}"}),
                content_type="application/json",
            )
            walls.append(time.perf_counter() - started)
            assert response.status_code == 200, response.content
        return {
            "wall_ms": 1000 * statistics.median(walls),
            "cpu_ms": 1000
            * (time.process_time() - cpu_before + _cpu(backend) - pg_before)
            / PER_BLOCK,
        }

    block(True), block(False)  # warm-up
    runs: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    for n in range(BLOCKS):
        for publishing in (True, False) if n % 2 == 0 else (False, True):
            runs[publishing].append(block(publishing))
    topics._sinks[:] = sinks
    result: dict[str, Any] = {"blocks": BLOCKS, "requests_per_block": PER_BLOCK}
    for key in ("wall_ms", "cpu_ms"):
        published = statistics.median(r[key] for r in runs[True])
        silent = statistics.median(r[key] for r in runs[False])
        paired = statistics.median(
            p[key] / s[key] for p, s in zip(runs[True], runs[False], strict=True)
        )
        result[key] = {
            "published": round(published, 3),
            "silent": round(silent, 3),
            "ratio": round(paired, 4),
        }
    return result


if __name__ == "__main__":
    print(json.dumps(measure()))
