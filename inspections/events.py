"""The named audit event of an inspection's outcome, written in the service's
transaction; the inspection's save is recorded by it, not by a generic diff."""

from __future__ import annotations

from typing import Any

from audit.capture import record_change
from audit.kinds import Kind
from core.topics import publish
from inspections.models import Inspection

INSPECTION_COMPLETE = "inspection_complete"

# Published to subscribers (inspections.topics), in the same transaction as the record.
INSPECTION_COMPLETED_TOPIC = "inspection.completed"

KINDS = (Kind(INSPECTION_COMPLETE, "Inspection completed"),)


def inspection_completed(*, inspection: Inspection, old: dict[str, Any], site_id: Any) -> None:
    fields = sorted(old)
    record_change(
        action=INSPECTION_COMPLETE,
        instance=inspection,
        site_id=site_id,
        old_values=old,
        new_values={
            **{name: getattr(inspection, name) for name in fields},
            "batch_id": inspection.batch_id,
        },
        changed_fields=fields,
    )
    publish(INSPECTION_COMPLETED_TOPIC, instance=inspection, site_id=site_id)
