"""The e-mail outbox rows: sending one row exactly once, giving up on it, and finding
the rows the beat job must publish again. Publishing itself is ``core.tasks``'s; the
front door for callers is ``core.emails.queue_email``."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.mail import render_email
from core.models import OutboxEmail

logger = logging.getLogger(__name__)

# Unsent rows older than this are published again by the beat job; the commit hook had
# its chance by then.
REDISPATCH_AFTER = timedelta(minutes=1)
# A row already republished waits this long before the next attempt, so a task waiting
# out its SMTP retries (up to about 40 minutes in all) is not joined by copies every minute.
REDISPATCH_EVERY = timedelta(minutes=15)
GIVE_UP_AFTER = timedelta(days=3)
KEEP_SENT = timedelta(days=7)
DISPATCH_BATCH = 500


def send_outbox_email(outbox_id: str) -> int:
    """Send the row's message unless it was sent, given up on, or is being sent now."""
    with transaction.atomic():
        row = (
            OutboxEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=outbox_id, sent_at=None, failed_at=None)
            .first()
        )
        if row is None:
            return 0
        sent = render_email(row.template, row.to, row.context).send()
        row.sent_at = timezone.now()
        row.save(update_fields=["sent_at"])
    return sent


def give_up(outbox_id: str, error: str) -> None:
    OutboxEmail.objects.filter(pk=outbox_id, sent_at=None).update(
        failed_at=timezone.now(), error=error[:2000]
    )


def due_for_dispatch(now: datetime, min_age: timedelta = REDISPATCH_AFTER) -> list[str]:
    """Ids of unsent rows to publish again (at most ``DISPATCH_BATCH``), after expiring
    rows past ``GIVE_UP_AFTER`` and pruning sent rows past ``KEEP_SENT``."""
    pending = OutboxEmail.objects.filter(sent_at=None, failed_at=None)
    expired = pending.filter(created_at__lt=now - GIVE_UP_AFTER).update(
        failed_at=now, error="not sent within the retention period"
    )
    if expired:
        logger.error("emails_given_up", extra={"count": expired})
    OutboxEmail.objects.filter(sent_at__lt=now - KEEP_SENT).delete()
    due = pending.filter(created_at__lte=now - min_age).exclude(
        dispatched_at__gt=now - REDISPATCH_EVERY
    )
    return [str(pk) for pk in due.values_list("pk", flat=True)[:DISPATCH_BATCH]]


def mark_dispatched(outbox_ids: list[str], now: datetime) -> None:
    OutboxEmail.objects.filter(pk__in=outbox_ids).update(dispatched_at=now)
