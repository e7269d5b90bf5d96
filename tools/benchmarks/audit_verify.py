"""Audit verification, full and incremental, on a trail of a given size.

Run by ``make bench`` (``tools.benchmarks.run``) in its own process, on its own database
(``pharma_bench_audit``): ``python -m tools.benchmarks.audit_verify N`` grows the trail
to N valid records and seals (each record's canonical text and MAC made by
``audit.canonical``, the chain by ``audit.chain.chain_hash``, both tables filled with
COPY), then times ``verify(full=True)`` over everything, writes 1,000 more records
as the application does, times the sealer on them and ``verify()`` (incremental, from
the checkpoint the full run wrote); the sealer runs every 30 s meanwhile, as beat
runs it. The trail only grows: sizes are run in order and
each starts from the one before. Prints one JSON object.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

NEW_RECORDS = 1000
# Generated records are one second apart, as a plant writing around the clock would
# leave them, so the trail spans months (one partition each) and the sealer's lookback
# covers the last hour of it, not the whole trail. ``BENCH_AUDIT_SPAN`` (records, the
# largest size of the run) places the first record so that the last lands a day ago.
STEP = dt.timedelta(seconds=1)
OTHER_SITES = [str(uuid.UUID(int=n)) for n in range(1, 10)]


def origin(span: int) -> dt.datetime:
    """The instant before the first generated record: kept from an earlier size, or
    placed so that ``span`` records end a day before now."""
    from audit.models import AuditLog

    first = (
        AuditLog.objects.filter(user_agent="bench")
        .order_by("timestamp")
        .values_list("timestamp", "resource_id")
        .first()
    )
    if first is not None:
        stamped, n = first
        return stamped - int(n) * STEP
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=1) - span * STEP


def create_partitions(start: dt.datetime, end: dt.datetime) -> None:
    """One partition per month of the span, as the hourly job would have made them."""
    from django.db import connection

    month = start.date().replace(day=1)
    with connection.cursor() as cursor:
        while month <= end.date():
            cursor.execute("SELECT audit_create_partition(%s)", [month])
            month = (month + dt.timedelta(days=32)).replace(day=1)


def grow(target: int, *, site_id: str, span: int) -> float:
    """Append valid records and their seals until there are ``target``; returns seconds."""
    from django.db import connection

    from audit.canonical import CONTENT_FIELDS, canonical_text, mac
    from audit.chain import GENESIS, chain_hash
    from audit.models import AuditSeal

    started = time.perf_counter()
    last = AuditSeal.objects.order_by("-seq").only("seq", "hash").first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    base = origin(span)
    create_partitions(base, base + max(span, target) * STEP)
    log_columns = [*CONTENT_FIELDS, "mac"]
    json_fields = {"old_values", "new_values", "changed_fields"}
    chunk = 50_000
    while seq < target:
        count = min(chunk, target - seq)
        logs: list[list[Any]] = []
        seals: list[tuple[Any, ...]] = []
        for n in range(seq + 1, seq + count + 1):
            record = {
                "id": str(uuid.uuid4()),
                "timestamp": (base + n * STEP).isoformat(),
                "action": "update",
                "actor_id": None,
                "actor_username": "bench.admin",
                "resource_type": "sites.site",
                "resource_id": str(n),
                "site_id": site_id if n % 10 == 0 else OTHER_SITES[n % 9],
                "old_values": {"name": f"Plant {n - 1}"},
                "new_values": {"name": f"Plant {n}"},
                "changed_fields": ["name"],
                "request_id": uuid.UUID(int=n).hex,
                "ip": "127.0.0.1",
                "user_agent": "bench",
                "method": "PATCH",
                "path": f"/api/sites/{n}/",
                "status_code": 200,
                "duration_ms": 1.5,
                "reason": "",
            }
            text = canonical_text(record)
            record["mac"] = mac(text)
            prev_hash, prev = prev, chain_hash(prev, text)
            logs.append(
                [json.dumps(record[c]) if c in json_fields else record[c] for c in log_columns]
            )
            seals.append((n, record["id"], text, prev_hash, prev))
        with connection.cursor() as cursor:
            names = ", ".join(log_columns)
            with cursor.copy(f"COPY audit_auditlog ({names}) FROM STDIN") as copy:
                for log in logs:
                    copy.write_row(log)
            sql = "COPY audit_auditseal (seq, log_id, text, prev_hash, hash, sealed_at) FROM STDIN"
            now = dt.datetime.now(dt.UTC)
            with cursor.copy(sql) as copy:
                for link in seals:
                    copy.write_row((*link, now))
        seq += count
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditlog")
        cursor.execute("ANALYZE audit_auditseal")
    return time.perf_counter() - started


@contextlib.contextmanager
def sealer_running() -> Iterator[None]:
    """The sealer every 30 s in a thread, as beat runs it in production: a full run
    longer than AUDIT_SEAL_MAX_LAG_SECONDS would otherwise report it idle."""
    from django.db import connection

    from audit import sealing

    stop = threading.Event()

    def loop() -> None:
        try:
            while not stop.wait(30):
                sealing.seal()
        finally:
            connection.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def main() -> None:
    import django

    django.setup()
    from django.db import transaction

    from audit import sealing
    from audit.capture import build
    from audit.models import AuditLog
    from audit.store import insert
    from sites.models import Site

    target = int(sys.argv[1])
    span = int(os.environ.get("BENCH_AUDIT_SPAN", target))
    site_id = str(Site.objects.get(code="BENCH-01").pk)
    sealing.seal()  # what the setup wrote
    generated = grow(target, site_id=site_id, span=span)
    sealing.seal()  # the sealer's last run: not a seal_lag

    started = time.perf_counter()
    with sealer_running():
        full = sealing.verify(full=True)
    full_s = time.perf_counter() - started
    if not full.ok:
        raise SystemExit(f"the generated trail does not verify: {full.problems[:3]}")

    with transaction.atomic():
        insert([build(action="update", resource_type="sites.site") for _ in range(NEW_RECORDS)])
    started = time.perf_counter()
    sealing.seal()
    seal_s = time.perf_counter() - started
    started = time.perf_counter()
    incremental = sealing.verify()
    incremental_s = time.perf_counter() - started
    if not incremental.ok or incremental.mode != "incremental":
        raise SystemExit(f"the incremental run failed: {incremental.as_dict()}")

    print(
        json.dumps(
            {
                "records": AuditLog.objects.count(),
                "generate_s": round(generated, 1),
                "full_s": round(full_s, 2),
                "full_checked_records": full.checked_records,
                "seal_new_s": round(seal_s, 3),
                "incremental_s": round(incremental_s, 3),
                "incremental_checked_seals": incremental.checked_seals,
                "incremental_checked_records": incremental.checked_records,
                "site": site_id,
            }
        )
    )


if __name__ == "__main__":
    main()
