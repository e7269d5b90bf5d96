from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from audit.partitions import ensure_partitions
from audit.sealing import seal, verify
from audit.store import insert

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True, max_retries=None)
def write_access_records(records: list[dict[str, Any]]) -> int:
    """One multi-row insert; ids already stored (a redelivered task) are skipped."""
    insert(records)
    return len(records)


@shared_task(acks_late=True)
def seal_audit_trail() -> int:
    return seal()


@shared_task(acks_late=True)
def ensure_audit_partitions() -> list[str]:
    """This month's partition and the next ones (audit/partitions.py AHEAD)."""
    return ensure_partitions()


@shared_task(acks_late=True)
def verify_audit_trail(full: bool = False) -> bool:
    """Scheduled daily with ``full=True`` (migration 0008); problems are in the result
    and the logs, and ``SealState`` remembers the outcome."""
    result = verify(full=full)
    if not result.ok:
        logger.error(
            "audit_verification_failed",
            extra={"mode": result.mode, "problems": result.problem_count, "first": result.problem},
        )
    return result.ok
