"""The e-mail outbox's Celery side: publishing a row, sending it, and the beat job that
publishes rows again once the broker is back (see ``core.emails``)."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.utils import timezone

from core.mail import render_email
from core.outbox import (
    REDISPATCH_AFTER,
    due_for_dispatch,
    give_up,
    mark_dispatched,
    send_outbox_email,
)

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def send_templated_email(
    self: Any,
    outbox_id: str | None = None,
    *,
    template: str = "",
    to: list[str] | None = None,
    context: dict[str, Any] | None = None,
) -> int:
    """Send one outbox message; SMTP and network errors retry with backoff.

    ``template``/``to``/``context`` without ``outbox_id``: a message published before the
    outbox existed, still in a queue; sent as it was then.
    """
    if outbox_id is None:
        return render_email(template, to or [], context or {}).send()
    try:
        return send_outbox_email(outbox_id)
    except (smtplib.SMTPException, OSError) as exc:
        if self.request.retries >= self.max_retries:
            give_up(outbox_id, repr(exc))
        raise


def publish(outbox_id: str) -> bool:
    """Hand one outbox row to Celery; on failure it stays for the beat job."""
    try:
        send_templated_email.apply_async(kwargs={"outbox_id": outbox_id}, retry=False)
    except Exception:
        # Broker unreachable (or, with eager tasks, the send itself failed): the row
        # is committed and unsent, so the beat job will publish it again.
        logger.warning("email_left_in_outbox", extra={"outbox_id": outbox_id}, exc_info=True)
        return False
    return True


def dispatch_outbox(min_age: timedelta = REDISPATCH_AFTER) -> int:
    """Publish unsent rows again (the beat job); expire and prune old ones."""
    now = timezone.now()
    published = []
    for outbox_id in due_for_dispatch(now, min_age):
        if not publish(outbox_id):
            break  # the broker is down: the next run tries again
        published.append(outbox_id)
    mark_dispatched(published, now)
    return len(published)


@shared_task
def dispatch_email_outbox(min_age_seconds: float | None = None) -> int:
    """Beat job: publish e-mails the broker could not take when their change committed."""
    if min_age_seconds is None:
        return dispatch_outbox()
    return dispatch_outbox(timedelta(seconds=min_age_seconds))
