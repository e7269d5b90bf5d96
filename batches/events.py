"""The named audit events of the batch lifecycle: one record per transition, written
in the service's transaction. The batch's own save inside a transition is recorded
by these, not by a generic diff (``core.models.recorded_by_caller``)."""

from __future__ import annotations

from typing import Any

from accounts.models import ElectronicSignature
from audit.capture import record_change
from audit.kinds import Kind
from batches.models import Batch
from core.topics import publish

BATCH_START = "batch_start"
BATCH_COMPLETE = "batch_complete"
BATCH_RELEASE = "batch_release"
BATCH_REJECT = "batch_reject"

# Published to subscribers (batches.topics), in the same transaction as the record.
BATCH_PLANNED_TOPIC = "batch.planned"
BATCH_STARTED_TOPIC = "batch.started"
BATCH_COMPLETED_TOPIC = "batch.completed"
BATCH_RELEASED_TOPIC = "batch.released"
BATCH_REJECTED_TOPIC = "batch.rejected"

KINDS = (
    Kind(BATCH_START, "Batch started"),
    Kind(BATCH_COMPLETE, "Batch completed"),
    Kind(BATCH_RELEASE, "Batch released"),
    Kind(BATCH_REJECT, "Batch rejected"),
)


def _transition(kind: str, topic: str, batch: Batch, old: dict[str, Any], **extra: Any) -> None:
    fields = sorted(old)
    record_change(
        action=kind,
        instance=batch,
        site_id=batch.site_id,
        old_values=old,
        new_values={**{name: getattr(batch, name) for name in fields}, **extra},
        changed_fields=fields,
    )
    publish(topic, instance=batch, site_id=batch.site_id)


def batch_planned(*, batch: Batch) -> None:
    """A new batch: its record is the generic creation diff; this publishes it."""
    publish(BATCH_PLANNED_TOPIC, instance=batch, site_id=batch.site_id)


def batch_started(*, batch: Batch, old: dict[str, Any]) -> None:
    _transition(BATCH_START, BATCH_STARTED_TOPIC, batch, old)


def batch_completed(*, batch: Batch, old: dict[str, Any]) -> None:
    _transition(BATCH_COMPLETE, BATCH_COMPLETED_TOPIC, batch, old)


def batch_released(*, batch: Batch, old: dict[str, Any], signature: ElectronicSignature) -> None:
    _transition(BATCH_RELEASE, BATCH_RELEASED_TOPIC, batch, old, meaning=signature.meaning)


def batch_rejected(*, batch: Batch, old: dict[str, Any], signature: ElectronicSignature) -> None:
    _transition(BATCH_REJECT, BATCH_REJECTED_TOPIC, batch, old, meaning=signature.meaning)
