"""Serial generation against this database's raw ceiling, and the CSV export.

Run by ``make bench`` (``tools.benchmarks.run``) in its own process, on the benchmark
database. One round generates 1,000,000 random serials for a fresh batch through
``serializations.jobs.job_run`` (exactly what a Celery worker runs for a job:
the batch lock, COPY in chunks, the audit record, the job's success, one commit),
and inserts 1,000,000 rows into the same table, with the same indexes and foreign key,
with one ``INSERT ... SELECT`` over ``generate_series`` and random serials made in SQL:
what the database can do with no client at all. The table is emptied before each
run, so both start alike; the rounds alternate and the median of each is reported.
Then the last generated batch is exported as CSV through the view's generator.
Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from datetime import date

COUNT = int(os.environ.get("BENCH_SERIALS", "1000000"))
ROUNDS = int(os.environ.get("BENCH_SERIAL_ROUNDS", "3"))


def rss_mb() -> float:
    """Peak resident set size of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    import django

    django.setup()
    from django.db import connection

    from batches.choices import BatchStatus
    from batches.models import Batch, Product
    from serializations import jobs, selectors
    from serializations.models import SerialJob, SerialNumber
    from sites.models import Site

    site = Site.objects.get(code="BENCH-01")
    product, _ = Product.objects.get_or_create(
        gtin="04012345000023", defaults={"name": "Bench serialised tablets"}
    )
    table = SerialNumber._meta.db_table

    def fresh_batch(label: str) -> Batch:
        number = f"S{label}{time.monotonic_ns() % 10**12}"
        return Batch.objects.create(
            product=product,
            site=site,
            batch_number=number[:20],
            planned_quantity=COUNT,
            manufacturing_date=date(2026, 1, 1),
            expiry_date=date(2029, 1, 1),
            status=BatchStatus.IN_PRODUCTION,
        )

    def empty_table() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}")
            cursor.execute("CHECKPOINT")

    def ceiling() -> float:
        batch = fresh_batch("C")
        empty_table()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (batch_id, gtin, serial, status, status_changed_at, "
                "decommission_reason, created_at) "
                "SELECT %s, %s, upper(substr(md5(random()::text), 1, 12)), 'commissioned', "
                "now(), '', now() FROM generate_series(1, %s)",
                [batch.pk, product.gtin, COUNT],
            )
        return COUNT / (time.perf_counter() - started)

    def service() -> tuple[float, Batch]:
        batch = fresh_batch("G")
        job = SerialJob.objects.create(batch=batch, count=COUNT, strategy="random", length=12)
        empty_table()
        started = time.perf_counter()
        done = jobs.job_run(job.pk)
        elapsed = time.perf_counter() - started
        assert done is not None and done.status == "succeeded", done
        assert done.generated == COUNT
        return COUNT / elapsed, batch

    rss_before = rss_mb()
    raw, ours = [], []
    batch = None
    for _ in range(ROUNDS):
        raw.append(ceiling())
        rate, batch = service()
        ours.append(rate)
    rss_generate = rss_mb()
    assert batch is not None
    stored = SerialNumber.objects.filter(batch=batch).count()

    started = time.perf_counter()
    rows = size = 0
    for part in selectors.export_csv(batch):
        size += len(part)
        rows += part.count("\n")
    export_seconds = time.perf_counter() - started
    rows -= 1  # the header
    result = {
        "serials": COUNT,
        "rounds": ROUNDS,
        "ceiling_rows_per_s": statistics.median(raw),
        "service_rows_per_s": statistics.median(ours),
        "ceiling_runs": [round(r) for r in raw],
        "service_runs": [round(r) for r in ours],
        "stored_in_last_batch": stored,
        "rss_mb_before": round(rss_before, 1),
        "rss_mb_peak_generate": round(rss_generate, 1),
        "export_rows": rows,
        "export_rows_per_s": rows / export_seconds,
        "export_mb": round(size / 2**20, 1),
        "rss_mb_peak_export": round(rss_mb(), 1),
    }
    empty_table()
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
