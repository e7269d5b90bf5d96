"""Storing audit records: the one multi-row insert that change records (in the caller's
transaction), the access writer's synchronous fallback and its Celery task share."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from audit.models import AuditLog


def to_model(record: dict[str, Any]) -> AuditLog:
    values = dict(record)
    values["id"] = uuid.UUID(values["id"])
    values["timestamp"] = datetime.fromisoformat(values["timestamp"])
    return AuditLog(**values)


def insert(records: list[dict[str, Any]]) -> None:
    """One multi-row insert; a record already stored (redelivery) is skipped."""
    if records:
        AuditLog.objects.bulk_create(
            [to_model(r) for r in records], ignore_conflicts=True, batch_size=500
        )
