"""The named audit events of broadcasts: created (with its audience), completed
(with what was sent) and failed, each written in the service's transaction.
Broadcast rows are not diffed (their progress columns move with every chunk)."""

from __future__ import annotations

from audit.capture import record_change
from audit.kinds import Kind
from notifications.models import Broadcast, BroadcastStatus

BROADCAST_CREATE = "broadcast_create"
BROADCAST_COMPLETE = "broadcast_complete"
BROADCAST_FAIL = "broadcast_fail"

KINDS = (
    Kind(BROADCAST_CREATE, "Broadcast queued"),
    Kind(BROADCAST_COMPLETE, "Broadcast sent"),
    Kind(BROADCAST_FAIL, "Broadcast failed"),
)


def _record(kind: str, broadcast: Broadcast, **values: object) -> None:
    record_change(
        action=kind,
        instance=broadcast,
        site_id=broadcast.site_id,
        new_values=values,
        changed_fields=sorted(values),
    )


def broadcast_created(*, broadcast: Broadcast) -> None:
    _record(
        BROADCAST_CREATE,
        broadcast,
        subject=broadcast.subject,
        body=broadcast.body,
        role=broadcast.role_name or None,
        site=broadcast.site_code or None,
        total=broadcast.total,
    )


def broadcast_completed(*, broadcast: Broadcast) -> None:
    _record(
        BROADCAST_COMPLETE,
        broadcast,
        status=BroadcastStatus.COMPLETED,
        sent=broadcast.sent,
        failed=broadcast.failed,
        total=broadcast.total,
    )


def broadcast_failed(*, broadcast: Broadcast, error: str) -> None:
    _record(BROADCAST_FAIL, broadcast, status=BroadcastStatus.FAILED, error=error[:200])
