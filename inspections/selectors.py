from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db.models import QuerySet

from inspections import trends
from inspections.choices import InspectionStatus
from inspections.models import Inspection


def inspection_list() -> QuerySet[Inspection]:
    return Inspection.objects.select_related("batch", "signature", "superseded_by")


def trend_points(
    *,
    product_id: Any,
    parameter: str,
    site_ids: Iterable[Any] | None,
    since: date | None = None,
    until: date | None = None,
) -> list[dict[str, Any]]:
    """One point per batch of the product that has a current (completed, not superseded)
    inspection with a numeric result for ``parameter``: the latest such inspection's
    value and limits, in manufacturing order. ``site_ids`` None means every site;
    ``since`` and ``until`` bound the manufacturing date, both included."""
    rows = Inspection.objects.filter(
        batch__product_id=product_id,
        status__in=[InspectionStatus.PASSED, InspectionStatus.FAILED],
        superseded_by__isnull=True,
    )
    if site_ids is not None:
        rows = rows.filter(batch__site_id__in=list(site_ids))
    if since is not None:
        rows = rows.filter(batch__manufacturing_date__gte=since)
    if until is not None:
        rows = rows.filter(batch__manufacturing_date__lte=until)
    latest: dict[Any, dict[str, Any]] = {}
    for inspection_id, batch_id, number, made, site_id, performed_at, results in rows.order_by(
        "performed_at"
    ).values_list(
        "pk",
        "batch_id",
        "batch__batch_number",
        "batch__manufacturing_date",
        "batch__site_id",
        "performed_at",
        "results",
    ):
        for result in results:
            value = result.get("value")
            if result.get("parameter") != parameter or not _is_number(value):
                continue
            latest[batch_id] = {
                "batch": batch_id,
                "batch_number": number,
                "manufacturing_date": made,
                "site": site_id,
                "inspection": inspection_id,
                "performed_at": performed_at,
                "value": float(value),
                "unit": str(result.get("unit") or ""),
                "min": _number_or_none(result.get("min")),
                "max": _number_or_none(result.get("max")),
            }
            break
    return sorted(latest.values(), key=lambda p: (p["manufacturing_date"], p["batch_number"]))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _number_or_none(value: Any) -> float | None:
    return float(value) if _is_number(value) else None


def product_trend(
    *,
    product: Any,
    parameter: str,
    site_ids: Iterable[Any] | None,
    since: date | None = None,
    until: date | None = None,
    baseline: int = trends.DEFAULT_BASELINE,
) -> dict[str, Any]:
    """The trend of ``parameter`` across the product's batches at ``site_ids``, as
    ``GET /api/products/{id}/trends/`` answers it (and its chart draws it)."""
    points = trend_points(
        product_id=product.pk, parameter=parameter, site_ids=site_ids, since=since, until=until
    )
    trend = trends.analyse(
        [trends.Point(p["value"], p["min"], p["max"], key=p["batch"]) for p in points],
        baseline=baseline,
    )
    for n, point in enumerate(points):
        point["out_of_specification"] = trend.points[n].out_of_specification
        point["nelson_rules"] = trend.rules.get(n, [])
        del point["performed_at"]
    return {
        "product": product.pk,
        "product_name": product.name,
        "parameter": parameter,
        "unit": points[-1]["unit"] if points else "",
        "since": since,
        "until": until,
        "statistics": {
            "count": len(points),
            "mean": trend.mean,
            "standard_deviation": trend.standard_deviation,
            "baseline": trend.baseline,
            "centre_line": trend.centre_line,
            "baseline_sigma": trend.baseline_sigma,
            "upper_control_limit": trend.upper_control_limit,
            "lower_control_limit": trend.lower_control_limit,
            "lower_specification_limit": trend.lower_specification_limit,
            "upper_specification_limit": trend.upper_specification_limit,
            "cpk": trend.cpk,
        },
        "points": points,
        "out_of_specification": [points[n]["batch"] for n in trend.out_of_specification],
        "out_of_trend": [
            {
                "batch": points[n]["batch"],
                "batch_number": points[n]["batch_number"],
                "rules": trend.rules[n],
            }
            for n in trend.out_of_trend
        ],
    }
