"""Templated e-mail through a durable outbox.

``queue_email`` writes an ``OutboxEmail`` row in the caller's transaction and publishes
a Celery task for it after commit. A change that rolls back leaves no e-mail; a change
that commits always has its e-mail, even when the broker is down at that moment: the
publish failure is logged (the request still succeeds) and the ``core: e-mail outbox``
beat job publishes the row again once the broker is back.

Sending locks the row (``SKIP LOCKED``), sends, and marks it sent in one transaction: a
row published twice, by the commit hook and the beat job, is sent once. A worker killed
mid-send loses its lock with its connection, and the redelivered task sends the message
then; only a kill after the SMTP server accepted the message and before the commit can
send it twice (at least once, as SMTP itself is).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

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


def queue_email(*, template: str, to: list[str], context: dict[str, Any]) -> None:
    """Send ``emails/<template>.txt`` (+ ``.html``, subject from ``_subject.txt``) later.

    The context must be JSON-serializable: tasks receive values, never model instances.
    """
    recipients = sorted({address for address in to if address})
    if not recipients:
        return
    row = OutboxEmail.objects.create(template=template, to=recipients, context=context)
    transaction.on_commit(lambda: publish(str(row.pk)))


def publish(outbox_id: str) -> bool:
    """Hand one outbox row to Celery; on failure it stays for the beat job."""
    from core.tasks import send_templated_email

    try:
        send_templated_email.apply_async(kwargs={"outbox_id": outbox_id}, retry=False)
    except Exception:
        # Broker unreachable (or, with eager tasks, the send itself failed): the row
        # is committed and unsent, so the beat job will publish it again.
        logger.warning("email_left_in_outbox", extra={"outbox_id": outbox_id}, exc_info=True)
        return False
    return True


def send_outbox_email(outbox_id: str) -> int:
    """Send the row's message unless it was sent, given up on, or is being sent now."""
    from core.tasks import render_email

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


def dispatch_outbox(min_age: timedelta = REDISPATCH_AFTER) -> int:
    """Publish unsent rows again (the beat job); expire and prune old ones."""
    now = timezone.now()
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
    ids = [str(pk) for pk in due.values_list("pk", flat=True)[:DISPATCH_BATCH]]
    published = []
    for outbox_id in ids:
        if not publish(outbox_id):
            break  # the broker is down: the next run tries again
        published.append(outbox_id)
    OutboxEmail.objects.filter(pk__in=published).update(dispatched_at=now)
    return len(published)
