"""What QA looks at before signing a batch's release, in one place: the admin's batch
review page (``reports.admin.BatchReviewAdmin``).

``lifecycle`` says who did each step and when (from a batch read with
``batches.selectors.DETAIL_RELATED``), ``parameters`` which results have a
trend to draw, ``audit_trail`` the batch's records and those of its inspections, newest
first, as far as the reader may see them. The inspections and signatures are the
certificate's (``reports.certificates``), with those still pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from accounts.models import User
from audit.models import AuditLog
from batches.models import Batch
from core.access import holds
from inspections.models import Inspection
from inspections.selectors import is_number
from reports import certificates

AUDIT_PAGE_SIZE = 25


@dataclass(frozen=True)
class Step:
    """One step of the lifecycle; ``at`` None: not (yet) taken."""

    label: str
    at: datetime | None
    by: str | None
    signature: dict[str, Any] | None = None


def _name(user: User | None) -> str | None:
    return user.printed_name if user is not None else None


def readable(moment: str | None) -> str | None:
    """An ISO 8601 UTC time as the page prints it: ``2026-11-02 18:00:05``."""
    return moment[:19].replace("T", " ") if moment else moment


def _signed(signature: Any) -> dict[str, Any] | None:
    entry = certificates.signed(signature)
    if entry is not None:
        entry["signed_at"] = readable(entry["signed_at"])
    return entry


def lifecycle(batch: Batch) -> list[Step]:
    """Planned, started, completed, then released or rejected (the one that happened;
    a batch still open shows release as the step ahead)."""
    steps = [
        Step("Planned", batch.created_at, _name(batch.created_by)),
        Step("Production started", batch.started_at, _name(batch.started_by)),
        Step("Production completed (quarantine)", batch.completed_at, _name(batch.completed_by)),
    ]
    if batch.rejected_at is not None:
        signature = _signed(batch.rejection_signature)
        steps.append(Step("Rejected", batch.rejected_at, _name(batch.rejected_by), signature))
    else:
        signature = _signed(batch.release_signature)
        steps.append(Step("Released", batch.released_at, _name(batch.released_by), signature))
    return steps


def inspections(batch: Batch) -> list[dict[str, Any]]:
    """Every current inspection, pending ones too, each result with its limits as text."""
    found = certificates.inspections(batch, pending=True)
    for inspection in found:
        inspection["performed_at"] = readable(inspection["performed_at"])
        if inspection["signature"] is not None:
            inspection["signature"]["signed_at"] = readable(inspection["signature"]["signed_at"])
        for result in inspection["results"]:
            result["limits"] = certificates.limits_text(result)
    return found


def parameters(found: list[dict[str, Any]]) -> list[str]:
    """The parameters with a numeric result in the batch's completed inspections: those
    the product's trends have a point of this batch for."""
    names: dict[str, None] = {}
    for inspection in found:
        if inspection["verdict"] == "pending":
            continue
        for result in inspection["results"]:
            if isinstance(result["parameter"], str) and is_number(result["value"]):
                names.setdefault(result["parameter"])
    return list(names)


def may_read_trail(user: Any, batch: Batch) -> bool:
    return holds(user, "audit.view", batch)


def audit_trail(user: Any, batch: Batch) -> QuerySet[AuditLog]:
    """The records of the batch and of its inspections (every one, superseded too),
    newest first, among those ``user`` may read (``audit.view`` at the batch's site)."""
    inspection_ids = [
        str(pk) for pk in Inspection.objects.filter(batch=batch).values_list("pk", flat=True)
    ]
    about = Q(resource_type=Batch._meta.label_lower, resource_id=str(batch.pk)) | Q(
        resource_type=Inspection._meta.label_lower, resource_id__in=inspection_ids
    )
    records: QuerySet[AuditLog] = AuditLog.objects.restrict(user, "audit.view")  # type: ignore[attr-defined]
    return records.filter(about).order_by("-timestamp", "-id")
