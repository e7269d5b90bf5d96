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

from typing import Any

from django.db import transaction

from core.models import OutboxEmail
from core.tasks import publish


def queue_email(*, template: str, to: list[str], context: dict[str, Any]) -> None:
    """Send ``emails/<template>.txt`` (+ ``.html``, subject from ``_subject.txt``) later.

    The context must be JSON-serializable: tasks receive values, never model instances.
    """
    recipients = sorted({address for address in to if address})
    if not recipients:
        return
    row = OutboxEmail.objects.create(template=template, to=recipients, context=context)
    transaction.on_commit(lambda: publish(str(row.pk)))
