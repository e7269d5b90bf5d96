from __future__ import annotations

import smtplib

from celery import shared_task

from notifications.sending import broadcast_fail, broadcast_send, stalled_broadcasts


def _give_up(self, exc, task_id, args, kwargs, einfo):  # type: ignore[no-untyped-def]
    broadcast_fail(broadcast_id=args[0] if args else kwargs["broadcast_id"], error=str(exc))


@shared_task(
    bind=True,
    acks_late=True,
    record_runs=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    on_failure=_give_up,
)
def send_broadcast(self, broadcast_id: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Send what is left of a broadcast; a retry or a redelivery resumes at its cursor."""
    broadcast = broadcast_send(broadcast_id=broadcast_id)
    return {"sent": broadcast.sent, "failed": broadcast.failed, "total": broadcast.total}


@shared_task(acks_late=True)
def requeue_stalled_broadcasts() -> int:
    """Publish again the broadcasts whose message was lost (the broker was down when
    they were created). A second delivery of one already being sent does no harm: it
    finds the broadcast locked and leaves it to the first."""
    ids = stalled_broadcasts()
    for broadcast_id in ids:
        send_broadcast.delay(str(broadcast_id))
    return len(ids)
