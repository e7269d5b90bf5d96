"""What QA's documents cost: the trend of a parameter (JSON, SVG, PNG) across 500
batches, the trend request's p50/p99 with ``BENCH_TREND_BATCHES`` (10,000) batches of one
product, and a certificate of analysis of a batch with 10 inspections of 20 results.

Run by ``make bench`` (``tools.benchmarks.run``) in a Django process of its own, on the
benchmark database. The batches and their completed inspections are written once, in
bulk (a fill, not the API's work), and kept for the next run. Requests go through the
test client, one at a time, as ``bench.qa`` (``inspection.view`` at the bench site).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from datetime import date, timedelta
from typing import Any

BIG = int(os.environ.get("BENCH_TREND_BATCHES", "10000"))
SMALL = 500
ROUNDS = int(os.environ.get("BENCH_QA_ROUNDS", "30"))


def _results(rng: random.Random, n: int, drift: float) -> list[dict[str, Any]]:
    out = []
    for k in range(n):
        value = (
            round(100 + drift + rng.gauss(0, 0.8), 3) if k == 0 else round(rng.uniform(0, 0.5), 3)
        )
        low, high = (95.0, 105.0) if k == 0 else (None, 1.0)
        out.append(
            {
                "parameter": "assay" if k == 0 else f"impurity {k}",
                "value": value,
                "unit": "%",
                "min": low,
                "max": high,
                "in_spec": (low is None or value >= low) and value <= high,
            }
        )
    return out


def _fill(product: Any, site: Any, analyst: Any, count: int, prefix: str) -> None:
    from django.utils import timezone

    from batches.choices import BatchStatus
    from batches.models import Batch
    from core import reasons
    from core.context import acting_as_system
    from inspections.choices import InspectionStatus
    from inspections.models import Inspection

    have = Batch.objects.filter(product=product).count()
    if have >= count:
        return
    rng = random.Random(count)
    start = date(2020, 1, 1)
    now = timezone.now()
    with acting_as_system("bench"), reasons.given("Benchmark fill"):
        for offset in range(have, count, 1000):
            batches = Batch.objects.bulk_create(
                [
                    Batch(
                        product=product,
                        site=site,
                        batch_number=f"{prefix}{n:06d}",
                        planned_quantity=10_000,
                        produced_quantity=9_900,
                        manufacturing_date=start + timedelta(days=n // 5),
                        expiry_date=start + timedelta(days=n // 5 + 730),
                        status=BatchStatus.RELEASED,
                    )
                    for n in range(offset, min(offset + 1000, count))
                ]
            )
            Inspection.objects.bulk_create(
                [
                    Inspection(
                        batch=batch,
                        kind="assay",
                        results=_results(rng, 20, drift=n / count),
                        performed_by=analyst,
                        performed_at=now,
                        status=InspectionStatus.PASSED,
                        completed_at=now,
                        completed_by=analyst,
                    )
                    for n, batch in enumerate(batches, start=offset)
                ]
            )


def _timed(call: Any, rounds: int = ROUNDS) -> dict[str, float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - started))
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[min(len(times) - 1, int(0.99 * len(times)))], 2),
    }


def measure() -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from batches.models import Batch, Product
    from core import reasons
    from core.context import acting_as_system
    from inspections.choices import InspectionStatus
    from inspections.models import Inspection
    from reports import certificates, pdf
    from sites.models import Site

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    site = Site.objects.get(code="BENCH-01")
    analyst = User.objects.get(username="bench.qa")
    products = {}
    for gtin, name, count, prefix in (
        ("04012345000108", "Bench trend product", BIG, "TB"),
        ("04012345000115", "Bench trend product 500", SMALL, "TS"),
    ):
        products[count], _ = Product.objects.get_or_create(
            gtin=gtin, defaults={"name": name, "strength": "10 mg", "dosage_form": "tablet"}
        )
        _fill(products[count], site, analyst, count, prefix)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE batches_batch")
        cursor.execute("ANALYZE inspections_inspection")

    # A session made directly: the sign-in flood that ran before has used up this
    # address's budget of sign-ins, and a password hash is not what is measured here.
    from accounts import services as account_services

    _, tokens = account_services.session_start(
        user=User.objects.get(username="bench.qa"), ip=None, user_agent="bench"
    )
    token = tokens.access
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def trend(product: Any, accept: str) -> Any:
        def call() -> None:
            response = client.get(
                f"/api/products/{product.pk}/trends/?parameter=assay", HTTP_ACCEPT=accept
            )
            assert response.status_code == 200, response.content

        return call

    # A batch with ten current inspections of twenty results each.
    batch = Batch.objects.filter(product=products[SMALL]).order_by("batch_number").first()
    assert batch is not None
    extra = Inspection.objects.filter(batch=batch).count()
    if extra < 10:
        rng = random.Random(7)
        with acting_as_system("bench"), reasons.given("Benchmark fill"):
            Inspection.objects.bulk_create(
                Inspection(
                    batch=batch,
                    kind="other",
                    results=_results(rng, 20, 0),
                    performed_by=analyst,
                    status=InspectionStatus.PASSED,
                    completed_by=analyst,
                    completed_at=batch.created_at,
                )
                for _ in range(10 - extra)
            )

    def certificate() -> None:
        content = certificates.content(
            Batch.objects.select_related("product", "site", "release_signature").get(pk=batch.pk)
        )
        certificates.render(content, pdf.document_hash(content))

    points = client.get(f"/api/products/{products[BIG].pk}/trends/?parameter=assay").json()
    return {
        "big_batches": BIG,
        "big_points": len(points["points"]),
        "trend_500_json": _timed(trend(products[SMALL], "application/json")),
        "trend_500_svg": _timed(trend(products[SMALL], "image/svg+xml"), rounds=10),
        "trend_500_png": _timed(trend(products[SMALL], "image/png"), rounds=10),
        "trend_big_json": _timed(trend(products[BIG], "application/json")),
        "certificate_10x20": _timed(certificate, rounds=10),
    }


if __name__ == "__main__":
    print(json.dumps(measure()))
