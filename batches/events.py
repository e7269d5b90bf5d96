"""The named audit events of the batch lifecycle: one record per transition, written
in the service's transaction. The batch's own save inside a transition is recorded
by these, not by a generic diff (``core.models.recorded_by_caller``)."""

from __future__ import annotations

from typing import Any

from accounts.models import ElectronicSignature
from audit.capture import record_change
from audit.kinds import Kind
from batches.models import Batch

BATCH_START = "batch_start"
BATCH_COMPLETE = "batch_complete"
BATCH_RELEASE = "batch_release"
BATCH_REJECT = "batch_reject"

KINDS = (
    Kind(BATCH_START, "Batch started"),
    Kind(BATCH_COMPLETE, "Batch completed"),
    Kind(BATCH_RELEASE, "Batch released"),
    Kind(BATCH_REJECT, "Batch rejected"),
)


def _transition(kind: str, batch: Batch, old: dict[str, Any], **extra: Any) -> None:
    fields = sorted(old)
    record_change(
        action=kind,
        instance=batch,
        site_id=batch.site_id,
        old_values=old,
        new_values={**{name: getattr(batch, name) for name in fields}, **extra},
        changed_fields=fields,
    )


def batch_started(*, batch: Batch, old: dict[str, Any]) -> None:
    _transition(BATCH_START, batch, old)


def batch_completed(*, batch: Batch, old: dict[str, Any]) -> None:
    _transition(BATCH_COMPLETE, batch, old)


def batch_released(*, batch: Batch, old: dict[str, Any], signature: ElectronicSignature) -> None:
    _transition(BATCH_RELEASE, batch, old, meaning=signature.meaning)


def batch_rejected(*, batch: Batch, old: dict[str, Any], signature: ElectronicSignature) -> None:
    _transition(BATCH_REJECT, batch, old, meaning=signature.meaning)
