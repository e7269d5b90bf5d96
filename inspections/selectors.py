from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import JSONField, QuerySet
from django.db.models.expressions import RawSQL

from inspections import trends
from inspections.choices import InspectionStatus
from inspections.models import Inspection


def inspection_list() -> QuerySet[Inspection]:
    return Inspection.objects.select_related("batch", "signature", "superseded_by")


def trend_points(
    *,
    product_id: Any,
    parameters: Collection[str] | None,
    site_ids: Iterable[Any] | None,
    since: date | None = None,
    until: date | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Per parameter (every one measured when ``parameters`` is None), one point per
    batch of the product that has a current (completed, not superseded) inspection with
    a numeric result for it: the latest such inspection's value and limits, in
    manufacturing order. One query, whatever the number of parameters. ``site_ids``
    None means every site; ``since`` and ``until`` bound the manufacturing date, both
    included."""
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
    columns = (
        "pk",
        "batch_id",
        "batch__batch_number",
        "batch__manufacturing_date",
        "batch__site_id",
    )
    found: Iterable[tuple[Any, ...]]
    if parameters is not None and connection.vendor == "postgresql":
        # Only each parameter's result crosses the wire, not every inspection's whole
        # list: decoding those lists was most of a long trend's time.
        names = list(parameters)
        rows = rows.annotate(
            **{f"result_{n}": _first_numeric_result(name) for n, name in enumerate(names)}
        )
        found = (
            (*head, [result for result in results if result is not None])
            for *head, results in _with_results(rows, columns, len(names))
        )
    else:
        found = rows.order_by("performed_at").values_list(*columns, "results")
    latest: dict[str, dict[Any, dict[str, Any]]] = {}
    # In order of performance, so that a batch's latest inspection is the one kept.
    for inspection_id, batch_id, number, made, site_id, results in found:
        seen: set[str] = set()
        for result in results:
            parameter, value = result.get("parameter"), result.get("value")
            if not isinstance(parameter, str) or parameter in seen or not is_number(value):
                continue
            if parameters is not None and parameter not in parameters:
                continue
            seen.add(parameter)
            latest.setdefault(parameter, {})[batch_id] = {
                "batch": batch_id,
                "batch_number": number,
                "manufacturing_date": made,
                "site": site_id,
                "inspection": inspection_id,
                "value": float(value),
                "unit": str(result.get("unit") or ""),
                "min": number_or_none(result.get("min")),
                "max": number_or_none(result.get("max")),
            }
    return {
        parameter: sorted(
            by_batch.values(), key=lambda p: (p["manufacturing_date"], p["batch_number"])
        )
        for parameter, by_batch in sorted(latest.items())
    }


# The first result of a parameter whose value is a JSON number: what the loop above
# keeps of an inspection's results for that parameter (a boolean is not a number).
_FIRST_NUMERIC = '$[*] ? (@.parameter == $name && @.value.type() == "number")'


def _first_numeric_result(name: str) -> RawSQL:
    return RawSQL(
        'jsonb_path_query_first("inspections_inspection"."results", %s::jsonpath, '
        "jsonb_build_object('name', %s::text))",
        (_FIRST_NUMERIC, name),
        output_field=JSONField(),
    )


def _with_results(
    rows: QuerySet[Inspection], columns: tuple[str, ...], count: int
) -> Iterator[tuple[Any, ...]]:
    results = [f"result_{n}" for n in range(count)]
    for row in rows.order_by("performed_at").values_list(*columns, *results):
        yield (*row[: len(columns)], list(row[len(columns) :]))


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def number_or_none(value: Any) -> float | None:
    return float(value) if is_number(value) else None


STATISTICS = (
    "mean",
    "standard_deviation",
    "baseline",
    "centre_line",
    "baseline_sigma",
    "upper_control_limit",
    "lower_control_limit",
    "lower_specification_limit",
    "upper_specification_limit",
    "cpk",
)


def product_trends(
    *,
    product: Any,
    parameters: Collection[str] | None,
    site_ids: Iterable[Any] | None,
    since: date | None = None,
    until: date | None = None,
    baseline: int = trends.DEFAULT_BASELINE,
) -> dict[str, dict[str, Any]]:
    """The trend of each parameter (every one measured when ``parameters`` is None)
    across the product's batches at ``site_ids``, as
    ``GET /api/products/{id}/trends/`` answers it (and its chart draws it)."""
    found = trend_points(
        product_id=product.pk, parameters=parameters, site_ids=site_ids, since=since, until=until
    )
    answers = {}
    for parameter in parameters if parameters is not None else found:
        points = found.get(parameter, [])
        trend = trends.analyse(
            [trends.Point(p["value"], p["min"], p["max"]) for p in points], baseline=baseline
        )
        for n, point in enumerate(points):
            point["out_of_specification"] = trend.points[n].out_of_specification
            point["nelson_rules"] = trend.rules.get(n, [])
        answers[parameter] = {
            "product": product.pk,
            "product_name": product.name,
            "parameter": parameter,
            "unit": points[-1]["unit"] if points else "",
            "since": since,
            "until": until,
            "statistics": {
                "count": len(points),
                **{name: getattr(trend, name) for name in STATISTICS},
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
    return answers
