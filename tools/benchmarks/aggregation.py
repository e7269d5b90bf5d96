"""Aggregation and EPCIS through the API: packing, shipping, the batch's document, and
the ``MATCH_epc`` query over a large event table.

Run by ``make bench`` (``tools.benchmarks.run``) against its gunicorn, on the benchmark
database. ``prepare`` (in a Django process) makes a released batch of
``BENCH_AGG_PACKS`` (100,000) packs and a second one for the 10,000-child requests,
and tops the event table up to ``BENCH_EPCIS_EVENTS`` (1,000,000) stored events;
``measure`` (here, over HTTP) packs the first batch into cases of 50 and the cases
onto pallets of 50 (2,000 cases and 40 pallets for 100,000 packs), puts the second
batch's packs onto pallets 10,000 to a request, ships the 40 pallets, and reads the
first batch's EPCIS document; ``export_rss`` streams that document in a process of its
own for its peak RSS.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import urllib.error
import urllib.request
from typing import Any

PACKS = int(os.environ.get("BENCH_AGG_PACKS", "100000"))
PER_CASE = 50
CASES_PER_PALLET = 50
BIG_REQUEST = 10_000
EVENTS = int(os.environ.get("BENCH_EPCIS_EVENTS", "1000000"))
PREFIX = "4012345"


def _setup_django() -> None:
    import django

    django.setup()


def prepare() -> dict[str, Any]:
    """Two released batches of fresh packs, and the event table at ``EVENTS`` rows."""
    _setup_django()
    from datetime import date

    from django.db import connection

    from batches.choices import BatchStatus
    from batches.models import Batch, Product
    from core import reasons
    from serializations import jobs
    from serializations.models import EPCISEvent, SerialJob, SerialNumber
    from sites.models import Site

    site = Site.objects.get(code="BENCH-01")
    Site.objects.filter(pk=site.pk).update(gs1_company_prefix=PREFIX)
    product, _ = Product.objects.get_or_create(
        gtin="04012345000030", defaults={"name": "Bench aggregated tablets"}
    )

    def released(count: int) -> tuple[Any, list[str]]:
        number = f"A{time.monotonic_ns() % 10**12}"
        batch = Batch.objects.create(
            product=product,
            site=site,
            batch_number=number,
            planned_quantity=count,
            manufacturing_date=date(2026, 1, 1),
            expiry_date=date(2029, 1, 1),
            status=BatchStatus.IN_PRODUCTION,
        )
        job = SerialJob.objects.create(batch=batch, count=count, strategy="random", length=12)
        jobs.job_run(job.pk)
        with reasons.given("Released for the benchmark"):
            Batch.objects.filter(pk=batch.pk).update(status=BatchStatus.RELEASED)
        serials = SerialNumber.objects.filter(batch=batch).order_by("id")
        return batch, [
            f"(01){product.gtin}(21){s}" for s in serials.values_list("serial", flat=True)
        ]

    batch, codes = released(PACKS)
    big_batch, big_codes = released(BIG_REQUEST * 4)
    missing = EVENTS - EPCISEvent.objects.count()
    if missing > 0:
        # Other sites' shipping events, each with one indexed EPC: the table a query of a
        # busy service searches, written in SQL (the trail only grows: topped up once).
        with connection.cursor() as cursor:
            # A fill, not a request: the service's statement timeout does not apply.
            cursor.execute("SET statement_timeout = 0")
            cursor.execute(
                "WITH new AS (INSERT INTO serializations_epcisevent (event_id, event_type, "
                "action, biz_step, disposition, event_time, record_time, site_id, captured, "
                "document) SELECT 'ni:///sha-256;' || md5(random()::text || n) || "
                "md5(n::text) || '?ver=CBV2.0', 'ObjectEvent', 'OBSERVE', 'shipping', "
                "'in_transit', now(), now(), %s, false, '{}' FROM generate_series(1, %s) AS n "
                "RETURNING id) "
                "INSERT INTO serializations_epciseventepc (event_id, epc, role) "
                "SELECT id, 'https://id.gs1.org/00/' || lpad(id::text, 18, '0'), 'e' FROM new",
                [site.pk, missing],
            )
            cursor.execute("ANALYZE serializations_epcisevent")
            cursor.execute("ANALYZE serializations_epciseventepc")
    return {
        "batch": str(batch.pk),
        "codes": codes,
        "big_codes": big_codes,
        "site": str(site.pk),
        "events": EPCISEvent.objects.count(),
        "big_batch": str(big_batch.pk),
    }


def export_rss(batch_id: str) -> dict[str, Any]:
    """Stream the batch's EPCIS document in this process: events/s and peak RSS."""
    _setup_django()
    from batches.models import Batch
    from serializations import epcis, selectors

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    batch = Batch.objects.get(pk=batch_id)
    started = time.perf_counter()
    size = events = 0
    for piece in epcis.stream_document(selectors.batch_event_texts(batch)):
        size += len(piece)
        events += 1
    elapsed = time.perf_counter() - started
    return {
        "events": events - 2,  # the document's head and tail
        "events_per_s": (events - 2) / elapsed,
        "mb": round(size / 2**20, 1),
        "rss_mb_before": round(before, 1),
        "rss_mb_peak": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def measure(base: str, token: str, prepared: dict[str, Any]) -> dict[str, Any]:
    """The HTTP part: every request must succeed (a failed one ends the run)."""

    def call(method: str, path: str, body: dict[str, Any] | None = None) -> bytes:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{base}{path}", data=data, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            raise SystemExit(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from exc

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(call("POST", path, body))
        return result

    def make(kind: str) -> str:
        return str(post("/api/containers/", {"site": prepared["site"], "kind": kind})["sscc"])

    codes = prepared["codes"]
    started = time.perf_counter()
    cases = [make("case") for _ in range(len(codes) // PER_CASE)]
    pallets = [make("pallet") for _ in range(len(cases) // CASES_PER_PALLET)]
    made = time.perf_counter() - started
    started = time.perf_counter()
    for n, case in enumerate(cases):
        part = codes[n * PER_CASE : (n + 1) * PER_CASE]
        post(f"/api/containers/{case}/pack/", {"children": part})
    into_cases = time.perf_counter() - started
    started = time.perf_counter()
    for n, pallet in enumerate(pallets):
        part = cases[n * CASES_PER_PALLET : (n + 1) * CASES_PER_PALLET]
        post(f"/api/containers/{pallet}/pack/", {"children": [f"(00){c}" for c in part]})
    onto_pallets = time.perf_counter() - started

    big_codes = prepared["big_codes"]
    big_pallets = [make("pallet") for _ in range(len(big_codes) // BIG_REQUEST)]
    started = time.perf_counter()
    for n, pallet in enumerate(big_pallets):
        part = big_codes[n * BIG_REQUEST : (n + 1) * BIG_REQUEST]
        post(f"/api/containers/{pallet}/pack/", {"children": part})
    big = time.perf_counter() - started

    started = time.perf_counter()
    for pallet in pallets:
        post(f"/api/containers/{pallet}/ship/", {"destination_gln": "4012345000009"})
    shipped = time.perf_counter() - started

    started = time.perf_counter()
    content = call("GET", f"/api/batches/{prepared['batch']}/epcis/")
    exported = time.perf_counter() - started
    events = len(json.loads(content)["epcisBody"]["eventList"])
    return {
        "packs": len(codes),
        "cases": len(cases),
        "pallets": len(pallets),
        "containers_made_per_s": (len(cases) + len(pallets) + len(big_pallets)) / (made + 1e-9),
        "packs_into_cases_per_s": len(codes) / into_cases,
        "cases_onto_pallets_per_s": len(cases) / onto_pallets,
        "aggregation_packs_per_s": len(codes) / (into_cases + onto_pallets),
        "big_request_packs_per_s": len(big_codes) / big,
        "big_request_seconds": big / len(big_pallets),
        "ship_pallets_per_s": len(pallets) / shipped,
        "ship_packs_per_s": len(codes) / shipped,
        "export_events": events,
        "export_events_per_s": events / exported,
        "export_mb": round(len(content) / 2**20, 1),
        "match_epc_uri": f"/api/epcis/events/?MATCH_epc=https://id.gs1.org/01/"
        f"{codes[0][4:18]}/21/{codes[0][22:]}",
    }


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        print(json.dumps(prepare()))
    elif sys.argv[1] == "export":
        print(json.dumps(export_rss(sys.argv[2])))
