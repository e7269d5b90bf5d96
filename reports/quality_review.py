"""The annual product quality review of a product (EU GMP Chapter 1, 1.10), as a PDF:
the batches made in the year at the reader's sites, how many were released and
rejected, every failed inspection, and for each parameter measured the trend across
those batches (``inspections.trends``) with its control chart."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Q
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Image, Paragraph, Spacer, Table

from batches.choices import BatchStatus
from batches.models import Batch, Product
from inspections import charts, selectors
from inspections.choices import InspectionStatus
from inspections.models import Inspection
from reports import pdf

TITLE = "Product quality review"


def content(product: Product, year: int, site_ids: Iterable[Any] | None) -> dict[str, Any]:
    since, until = date(year, 1, 1), date(year, 12, 31)
    batches = Batch.objects.filter(
        product=product, manufacturing_date__gte=since, manufacturing_date__lte=until
    )
    if site_ids is not None:
        batches = batches.filter(site_id__in=list(site_ids))
    counts = batches.aggregate(
        made=Count("pk"),
        released=Count("pk", filter=Q(status=BatchStatus.RELEASED)),
        rejected=Count("pk", filter=Q(status=BatchStatus.REJECTED)),
    )
    failed = [
        {
            "batch_number": number,
            "kind": kind,
            "performed_at": performed_at,
            "out_of_specification": [r["parameter"] for r in results if not r.get("in_spec")],
        }
        for number, kind, performed_at, results in Inspection.objects.filter(
            batch__in=batches, superseded_by__isnull=True, status=InspectionStatus.FAILED
        )
        .order_by("performed_at", "id")
        .values_list("batch__batch_number", "kind", "performed_at", "results")
    ]
    # Every parameter measured, in one query.
    trends = selectors.product_trends(
        product=product, parameters=None, site_ids=site_ids, since=since, until=until
    )
    review = {
        "product": {
            "id": product.pk,
            "name": product.name,
            "strength": product.strength,
            "dosage_form": product.dosage_form,
            "gtin": product.gtin,
        },
        "year": year,
        "batches": counts,
        "failed_inspections": failed,
        "parameters": list(trends.values()),
    }
    # JSON-safe (UUIDs, dates and times as the API writes them), as its hash reads it.
    return json.loads(json.dumps(review, cls=DjangoJSONEncoder))


def _figure(value: Any) -> str:
    return "–" if value is None else f"{value:.4g}"


def render(review: dict[str, Any], digest: str) -> bytes:
    styles = getSampleStyleSheet()
    product, counts = review["product"], review["batches"]
    story: list[Any] = [
        Paragraph(f"{TITLE} {review['year']}", styles["Title"]),
        Paragraph(
            f"{product['name']} {product['strength']}, {product['dosage_form']} · "
            f"GTIN {product['gtin']}",
            styles["Heading3"],
        ),
        Table(
            [
                ["Batches made", "Released", "Rejected", "Failed inspections"],
                [
                    counts["made"],
                    counts["released"],
                    counts["rejected"],
                    len(review["failed_inspections"]),
                ],
            ],
            style=pdf.GRID,
        ),
        Spacer(1, 4 * mm),
    ]
    if review["failed_inspections"]:
        story.append(Paragraph("Failed inspections", styles["Heading3"]))
        rows = [["Batch", "Inspection", "Performed (UTC)", "Out of specification"]]
        rows += [
            [f["batch_number"], f["kind"], f["performed_at"], ", ".join(f["out_of_specification"])]
            for f in review["failed_inspections"]
        ]
        story += [Table(rows, style=pdf.GRID, repeatRows=1), Spacer(1, 4 * mm)]
    for parameter in review["parameters"]:
        stats = parameter["statistics"]
        unit = f" ({parameter['unit']})" if parameter["unit"] else ""
        story.append(Paragraph(f"{parameter['parameter']}{unit}", styles["Heading3"]))
        story.append(
            Table(
                [
                    ["Batches", "Mean", "σ", "Cpk", "LCL", "UCL", "OOS", "OOT"],
                    [
                        stats["count"],
                        _figure(stats["mean"]),
                        _figure(stats["standard_deviation"]),
                        _figure(stats["cpk"]),
                        _figure(stats["lower_control_limit"]),
                        _figure(stats["upper_control_limit"]),
                        len(parameter["out_of_specification"]),
                        len(parameter["out_of_trend"]),
                    ],
                ],
                style=pdf.GRID,
            )
        )
        png = charts.control_chart(parameter, charts.PNG)
        story += [Image(io.BytesIO(png), width=180 * mm, height=90 * mm), Spacer(1, 3 * mm)]
    return pdf.build(
        story,
        title=f"{TITLE} {product['gtin']} {review['year']}",
        label=f"{product['gtin']} {review['year']}",
        digest=digest,
    )
