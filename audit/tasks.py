from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True, max_retries=None)
def write_access_records(records: list[dict[str, Any]]) -> int:
    """One multi-row insert; ids already stored (a redelivered task) are skipped."""
    from audit.capture import insert

    insert(records)
    return len(records)


@shared_task(acks_late=True)
def seal_audit_trail() -> int:
    from audit.sealing import seal

    return seal()


@shared_task(acks_late=True)
def ensure_audit_partitions() -> list[str]:
    """This month's partition and the next ones (audit/partitions.py AHEAD)."""
    from audit.partitions import ensure_partitions

    return ensure_partitions()
