"""The read endpoints' latency as the serial table grows: 10^5, then 10^7 serials.

Run by ``make bench`` (``tools.benchmarks.run``; ``BENCH_SCALE=0`` skips it), or alone
(``python -m tools.benchmarks.scale``), on its own database ``pharma_bench_scale``
(``BENCH_SCALE_DATABASE_URL``). The serials are generated in SQL, 100,000 per batch
and one product (GTIN) per batch, so they spread over the hash partitions as plants'
products do. At each size of ``BENCH_SCALE_SIZES`` (default ``100000,10000000``) the
service answers under gunicorn and wrk measures, for ``BENCH_DURATION`` seconds each:

- ``GET /api/serials/verify/`` of a pack of the first batch,
- ``GET /api/serials/?batch=`` of the first batch: the first page, and a deep cursor
  (the page that starts 100 rows before its last),
- ``GET /api/batches/?page_size=50``,
- ``GET /api/reports/daily/``.

The audit list's p99 at 10^5 and 10^7 records is the audit section's. Prints one JSON
object: per size, per endpoint, req/s, p50 and p99.
"""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any
from urllib import parse

from tools.benchmarks import run
from tools.harness import HOST, manage, stop

PER_BATCH = 100_000
SIZES = [
    int(size)
    for size in os.environ.get("BENCH_SCALE_SIZES", "100000,10000000").split(",")
    if size.strip()
]

FILL = r"""
import json, sys
from datetime import date
from django.db import connection
from batches.choices import BatchStatus
from batches.models import Batch, Product
from serializations.models import SerialNumber
from sites.models import Site
from stdnum import ean

target = TARGET
site = Site.objects.get(code="BENCH-01")
table = SerialNumber._meta.db_table
batches = list(Batch.objects.filter(batch_number__startswith="SC").order_by("batch_number"))
have = SerialNumber.objects.filter(batch__batch_number__startswith="SC").count()
n = len(batches)
while have < target:
    body = f"07{n:011d}"
    product, _ = Product.objects.get_or_create(
        gtin=body + ean.calc_check_digit(body),
        defaults={"name": f"Scale product {n}", "strength": "10 mg", "dosage_form": "tablet"},
    )
    batch = Batch.objects.create(
        product=product, site=site, batch_number=f"SC{n:06d}", planned_quantity=PER_BATCH,
        manufacturing_date=date(2026, 1, 1), expiry_date=date(2029, 1, 1),
        status=BatchStatus.IN_PRODUCTION,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (batch_id, gtin, serial, status, status_changed_at, "
            "decommission_reason, created_at) SELECT %s, %s, lpad(g::text, 12, '0'), "
            "'commissioned', now(), '', now() FROM generate_series(1, %s) AS g",
            [batch.pk, product.gtin, PER_BATCH],
        )
    batches.append(batch)
    have += PER_BATCH
    n += 1
with connection.cursor() as cursor:
    cursor.execute(f"VACUUM ANALYZE {table}")
first = batches[0]
ids = SerialNumber.objects.filter(batch=first).order_by("-id").values_list("id", flat=True)
deep = ids[100]
print(json.dumps({"batch": str(first.pk), "gtin": first.product.gtin,
                  "deep_id": deep, "serials": SerialNumber.objects.count()}))
"""


def measure(wrk: str, env: dict[str, str], filled: dict[str, Any]) -> dict[str, Any]:
    port = run.PORT + 5
    server = run.start_gunicorn(env, port=port)
    base = f"http://{HOST}:{port}"
    try:
        token = run.login("bench.admin", base=base)
        cursor = parse.quote(base64.b64encode(f"p={filled['deep_id']}".encode()).decode())
        day = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
        paths = {
            "verify": f"/api/serials/verify/?code=(01){filled['gtin']}(21)000000050000",
            "serials_first_page": f"/api/serials/?batch={filled['batch']}&page_size=50",
            "serials_deep_cursor": (
                f"/api/serials/?batch={filled['batch']}&page_size=50&cursor={cursor}"
            ),
            "batch_list": "/api/batches/?page_size=50",
            "daily_report": f"/api/reports/daily/?date={day}",
        }
        results: dict[str, Any] = {}
        for name, path in paths.items():
            run.request_json("GET", path, token=token, base=base)  # answers 200, or raises
            run.run_wrk(wrk, path, token, base=base)  # warm-up, not recorded
            results[name] = run.run_wrk(wrk, path, token, base=base)
        return results
    finally:
        stop(server)


def benchmark(wrk: str, env: dict[str, str]) -> dict[str, Any]:
    db = os.environ.get(
        "BENCH_SCALE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pharma_bench_scale"
    )
    run.ensure_database(db)
    scale_env = {**env, "DATABASE_URL": db, "LOG_LEVEL": "WARNING"}
    manage(scale_env, "migrate", "--noinput")
    run.setup_data(scale_env)
    results: dict[str, Any] = {}
    for size in sorted(SIZES):
        started = time.monotonic()
        script = FILL.replace("TARGET", str(size)).replace("PER_BATCH", str(PER_BATCH))
        out = manage(scale_env, "shell", "-c", script)
        filled = json.loads(out.strip().splitlines()[-1])
        filled["fill_seconds"] = round(time.monotonic() - started, 1)
        filled["endpoints"] = measure(wrk, scale_env, filled)
        results[str(size)] = filled
    return results


def lines(results: dict[str, Any]) -> list[str]:
    sizes = sorted(results, key=int)
    if not sizes:
        return []
    out = [
        "read endpoints as the serial table grows (p50 / p99 ms, req/s):",
    ]
    for name in results[sizes[0]]["endpoints"]:
        cells = []
        for size in sizes:
            e = results[size]["endpoints"][name]
            cells.append(f"{int(size):,}: {e['p50_ms']:.1f} / {e['p99_ms']:.1f} ({e['rps']:.0f}/s)")
        first, last = (results[s]["endpoints"][name]["p99_ms"] for s in (sizes[0], sizes[-1]))
        out.append(f"- {name}: " + "; ".join(cells) + f"; p99 ratio {last / first:.2f}x")
    return out


if __name__ == "__main__":
    (run.ROOT / "bench-results").mkdir(exist_ok=True)
    measured = benchmark(run.ensure_wrk(), run.environment())
    print("\n".join(lines(measured)))
    print(json.dumps(measured))
