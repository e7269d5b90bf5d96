"""The annual product quality review of a product (EU GMP Chapter 1, 1.10), as a PDF:
the batches made in the year at the reader's sites, how many were released and
rejected, every failed inspection, and for each parameter measured the trend across
those batches (``inspections.trends``) with its control chart."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date
from typing import Any

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
    made = list(batches.order_by("manufacturing_date", "batch_number").values("pk", "status"))
    current = Inspection.objects.filter(batch__in=batches, superseded_by__isnull=True).exclude(
        status=InspectionStatus.PENDING
    )
    failed = [
        {
            "batch_number": number,
            "kind": kind,
            "performed_at": performed_at.isoformat().replace("+00:00", "Z"),
            "out_of_specification": [r["parameter"] for r in results if not r.get("in_spec")],
        }
        for number, kind, performed_at, results in current.filter(status=InspectionStatus.FAILED)
        .order_by("performed_at", "id")
        .values_list("batch__batch_number", "kind", "performed_at", "results")
    ]
    parameters = sorted(
        {r["parameter"] for results in current.values_list("results", flat=True) for r in results}
    )
    trends = []
    for parameter in parameters:
        trend = selectors.product_trend(
            product=product, parameter=parameter, site_ids=site_ids, since=since, until=until
        )
        trends.append(
            {
                "parameter": parameter,
                "unit": trend["unit"],
                "statistics": trend["statistics"],
                "out_of_specification": len(trend["out_of_specification"]),
                "out_of_trend": len(trend["out_of_trend"]),
                "trend": _json_safe(trend),
            }
        )
    return {
        "product": {
            "id": str(product.pk),
            "name": product.name,
            "strength": product.strength,
            "dosage_form": product.dosage_form,
            "gtin": product.gtin,
        },
        "year": year,
        "batches": {
            "made": len(made),
            "released": sum(1 for b in made if b["status"] == BatchStatus.RELEASED),
            "rejected": sum(1 for b in made if b["status"] == BatchStatus.REJECTED),
        },
        "failed_inspections": failed,
        "parameters": trends,
    }


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # UUIDs


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
                        parameter["out_of_specification"],
                        parameter["out_of_trend"],
                    ],
                ],
                style=pdf.GRID,
            )
        )
        png = charts.control_chart(parameter["trend"], charts.PNG)
        story += [Image(io.BytesIO(png), width=180 * mm, height=90 * mm), Spacer(1, 3 * mm)]
    return pdf.build(
        story,
        title=f"{TITLE} {product['gtin']} {review['year']}",
        label=f"{product['gtin']} {review['year']}",
        digest=digest,
    )
