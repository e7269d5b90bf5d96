"""Every write on inspections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import NotRequired, TypedDict, cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import SignatureMeaning, User
from accounts.signatures import Reauthentication, check_meaning, signature_create
from batches.choices import FINAL, BatchStatus
from batches.models import Batch
from batches.services import lock_batch, qa_recipients, require_status
from core import reasons
from core.emails import queue_email
from core.exceptions import StateConflict
from core.models import recorded_by_caller
from inspections import events
from inspections.choices import InspectionStatus, Outcome
from inspections.models import Inspection

BATCH_NOT_INSPECTABLE = (
    "Inspections are recorded for batches in production or quarantine; this one is {status}."
)
BATCH_READ_ONLY = "The batch is {status}: its inspections are read-only."
NOT_PENDING = (
    "The inspection is {status}: completed inspections are read-only; record a correction instead."
)
OUT_OF_SPEC = "An inspection with out-of-specification results cannot pass: {parameters}."
SUPERSEDE_OTHER_BATCH = "A correction must be for the same batch as the inspection it corrects."
SUPERSEDE_PENDING = "Only a completed inspection can be corrected; change the pending one instead."
ALREADY_SUPERSEDED = "This inspection has already been corrected."
REASON_REQUIRED = "A correction needs a reason."
INSPECTABLE = frozenset({BatchStatus.IN_PRODUCTION, BatchStatus.QUARANTINE})
OPEN = frozenset(BatchStatus) - FINAL  # a released or rejected batch is read-only
EDITABLE_FIELDS = ("kind", "results", "notes", "performed_at")
SIGNATURE_EXCLUDE = frozenset({"updated_at", "signature_id"})
# Completing an inspection says "I reviewed (or approve) this record", whatever its outcome.
COMPLETE_MEANINGS = frozenset({SignatureMeaning.REVIEW, SignatureMeaning.APPROVAL})


class Measurement(TypedDict):
    """One result as the input serializer validates it; limits are inclusive, and a
    missing one is open on that side."""

    parameter: str
    value: float
    unit: NotRequired[str]
    min: NotRequired[float | None]
    max: NotRequired[float | None]


class EvaluatedMeasurement(TypedDict):
    """A result as stored: its limits and its in-spec verdict, computed here."""

    parameter: str
    value: float
    unit: str
    min: float | None
    max: float | None
    in_spec: bool


def evaluate(results: Sequence[Measurement]) -> list[EvaluatedMeasurement]:
    """Each result with its in-spec flag computed from its limits."""
    evaluated: list[EvaluatedMeasurement] = []
    for result in results:
        value, low, high = result["value"], result.get("min"), result.get("max")
        in_spec = (low is None or value >= low) and (high is None or value <= high)
        evaluated.append(
            {
                "parameter": result["parameter"],
                "value": value,
                "unit": result.get("unit", ""),
                "min": low,
                "max": high,
                "in_spec": in_spec,
            }
        )
    return evaluated


def _require_batch(batch: Batch, *, creating: bool) -> None:
    require_status(batch, OPEN, message=BATCH_READ_ONLY, code="batch_read_only")
    if creating:
        require_status(
            batch, INSPECTABLE, message=BATCH_NOT_INSPECTABLE, code="batch_not_inspectable"
        )


def _require_pending(inspection: Inspection) -> None:
    if inspection.status != InspectionStatus.PENDING:
        raise StateConflict(
            NOT_PENDING.format(status=inspection.status),
            code="invalid_status",
            extra={"status": inspection.status},
        )


@transaction.atomic
def inspection_create(
    *,
    actor: User,
    batch: Batch,
    kind: str,
    results: Sequence[Measurement],
    notes: str = "",
    performed_at: datetime | None = None,
    supersedes: Inspection | None = None,
    correction_reason: str = "",
) -> Inspection:
    """Record an inspection (or a correction of a completed one) for a running batch."""
    batch = lock_batch(batch.pk)
    _require_batch(batch, creating=True)
    if supersedes is not None:
        if supersedes.batch_id != batch.pk:
            raise ValidationError({"supersedes": [SUPERSEDE_OTHER_BATCH]})
        if supersedes.status == InspectionStatus.PENDING:
            raise ValidationError({"supersedes": [SUPERSEDE_PENDING]})
        if not correction_reason.strip():
            raise ValidationError({"correction_reason": [REASON_REQUIRED]})
    inspection = Inspection(
        batch=batch,
        kind=kind,
        results=evaluate(results),
        notes=notes,
        performed_by=actor,
        performed_at=performed_at or timezone.now(),
        supersedes=supersedes,
        correction_reason=correction_reason.strip(),
    )
    inspection.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            inspection.save()
    except IntegrityError as exc:  # the one-to-one: someone corrected it first
        raise StateConflict(ALREADY_SUPERSEDED, code="already_superseded") from exc
    return inspection


@transaction.atomic
def inspection_update(*, inspection: Inspection, data: Mapping[str, object]) -> Inspection:
    """Change a pending inspection of a batch that is not released or rejected."""
    reasons.require(Inspection)
    _require_batch(lock_batch(inspection.batch_id), creating=False)
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    _require_pending(inspection)
    for name, value in data.items():
        if name not in EDITABLE_FIELDS:
            raise ValidationError({name: ["This field cannot be changed."]})
        if name == "results":
            # Validated by the input serializer: a list of measurements.
            value = evaluate(cast("Sequence[Measurement]", value))
        setattr(inspection, name, value)
    inspection.full_clean(validate_unique=False)
    inspection.save()
    return inspection


def _check_outcome(inspection: Inspection, outcome: str) -> None:
    if outcome == Outcome.PASSED and not inspection.all_in_spec:
        failing = ", ".join(r["parameter"] for r in inspection.results if not r.get("in_spec"))
        raise ValidationError({"outcome": [OUT_OF_SPEC.format(parameters=failing)]})
    if outcome == Outcome.PASSED and not inspection.results:
        raise ValidationError({"outcome": ["An inspection without results cannot pass."]})


def inspection_complete(
    *,
    reauth: Reauthentication,
    inspection: Inspection,
    outcome: str,
    meaning: str,
    reason: str = "",
) -> Inspection:
    """Record the outcome with the inspector's electronic signature."""
    actor = reauth.user
    check_meaning(meaning, COMPLETE_MEANINGS)
    _require_batch(inspection.batch, creating=False)
    _require_pending(inspection)
    _check_outcome(inspection, outcome)
    signer = reauth.verify()
    with transaction.atomic():
        # Batch first, then inspection: the same order as release, so they serialise.
        batch = lock_batch(inspection.batch_id)
        _require_batch(batch, creating=False)
        inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
        _require_pending(inspection)
        _check_outcome(inspection, outcome)
        with reasons.named_act(events.INSPECTION_COMPLETE, reason=reason):
            old = {
                "status": inspection.status,
                "completed_at": inspection.completed_at,
                "completed_by_id": inspection.completed_by_id,
                "signature_id": inspection.signature_id,
            }
            inspection.status = outcome
            inspection.completed_at = timezone.now()
            inspection.completed_by = actor
            inspection.signature = signature_create(
                signer=signer,
                record=inspection,
                meaning=meaning,
                meanings=COMPLETE_MEANINGS,
                reason=reason,
                exclude=SIGNATURE_EXCLUDE,
            )
            with recorded_by_caller():
                inspection.save(
                    update_fields=["status", "completed_at", "completed_by", "signature"]
                )
            events.inspection_completed(inspection=inspection, old=old, site_id=batch.site_id)
        if outcome == Outcome.FAILED:
            queue_email(
                template="inspection_failed",
                to=qa_recipients(batch.site_id),
                context={
                    "batch_number": batch.batch_number,
                    "kind": inspection.kind,
                    "inspector": actor.printed_name,
                    "failing": [r["parameter"] for r in inspection.results if not r["in_spec"]],
                    "reason": reason,
                },
            )
    return inspection
