"""The daily QA report: what happened to batches and inspections at each site in a day.

A day is a UTC calendar day, [00:00, 24:00) UTC, the same for every site, so that one
scheduled run covers the whole company. For each site: batches released and rejected
in the day, batches that were in quarantine at its end (and since when), and
inspections that failed in it. Five queries whatever the number of sites.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from batches.choices import BatchStatus
from batches.models import Batch
from inspections.choices import InspectionStatus
from inspections.models import Inspection
from sites.models import Site


def window(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def default_day() -> date:
    """Yesterday (UTC): the last complete day."""
    return timezone.now().astimezone(UTC).date() - timedelta(days=1)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _batch(batch: Batch, at: datetime | None) -> dict[str, Any]:
    return {
        "id": str(batch.pk),
        "batch_number": batch.batch_number,
        "product": batch.product.name,
        "gtin": batch.product.gtin,
        "at": _iso(at),
    }


def daily_report(*, day: date, site_ids: Iterable[Any] | None = None) -> dict[str, Any]:
    """The report for ``day``; ``site_ids`` None means every site."""
    start, end = window(day)
    now = timezone.now()
    sites = Site.objects.order_by("code")
    if site_ids is not None:
        sites = sites.filter(pk__in=list(site_ids))
    site_list = list(sites)
    in_scope = [site.pk for site in site_list]
    batches = Batch.objects.filter(site_id__in=in_scope).select_related("product")
    released = batches.filter(released_at__gte=start, released_at__lt=end).order_by("released_at")
    rejected = batches.filter(rejected_at__gte=start, rejected_at__lt=end).order_by("rejected_at")
    # In quarantine at the end of the day: completed before it, not yet released or
    # rejected by then (a report of a past day shows that day's backlog, not today's).
    quarantine = (
        batches.filter(completed_at__lt=end)
        .exclude(Q(released_at__lt=end) | Q(rejected_at__lt=end))
        .filter(status__in=[BatchStatus.QUARANTINE, BatchStatus.RELEASED, BatchStatus.REJECTED])
        .order_by("completed_at")
    )
    failed = (
        Inspection.objects.filter(
            batch__site_id__in=in_scope,
            status=InspectionStatus.FAILED,
            completed_at__gte=start,
            completed_at__lt=end,
        )
        .select_related("batch")
        .order_by("completed_at")
    )
    sections: dict[Any, dict[str, Any]] = {
        site.pk: {
            "site": {"id": str(site.pk), "code": site.code, "name": site.name},
            "released": [],
            "rejected": [],
            "quarantine": [],
            "failed_inspections": [],
        }
        for site in site_list
    }
    for batch in released:
        sections[batch.site_id]["released"].append(_batch(batch, batch.released_at))
    for batch in rejected:
        sections[batch.site_id]["rejected"].append(_batch(batch, batch.rejected_at))
    measured_at = min(end, now)
    for batch in quarantine:
        entry = _batch(batch, batch.completed_at)
        waited = (measured_at - batch.completed_at).total_seconds() / 3600
        entry["waiting_hours"] = round(max(waited, 0.0), 1)
        sections[batch.site_id]["quarantine"].append(entry)
    for inspection in failed:
        sections[inspection.batch.site_id]["failed_inspections"].append(
            {
                "id": str(inspection.pk),
                "batch_id": str(inspection.batch_id),
                "batch_number": inspection.batch.batch_number,
                "kind": inspection.kind,
                "at": _iso(inspection.completed_at),
                "failing_parameters": [
                    r.get("parameter", "") for r in inspection.results if not r.get("in_spec")
                ],
            }
        )
    result = []
    for site in site_list:
        section = sections[site.pk]
        waiting = [b["waiting_hours"] for b in section["quarantine"]]
        section["totals"] = {
            "released": len(section["released"]),
            "rejected": len(section["rejected"]),
            "quarantine": len(section["quarantine"]),
            "quarantine_longest_hours": max(waiting) if waiting else None,
            "failed_inspections": len(section["failed_inspections"]),
        }
        busy = any(section["totals"][k] for k in ("released", "rejected", "quarantine"))
        if site.is_active or busy or section["failed_inspections"]:
            result.append(section)
    return {
        "date": day.isoformat(),
        "from": _iso(start),
        "to": _iso(end),
        "generated_at": _iso(now),
        "sites": result,
    }
