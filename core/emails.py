"""Templated e-mail, sent by a Celery task after the surrounding transaction commits."""

from __future__ import annotations

from typing import Any

from django.db import transaction


def queue_email(*, template: str, to: list[str], context: dict[str, Any]) -> None:
    """Send ``emails/<template>.txt`` (+ ``.html``, subject from ``_subject.txt``) later.

    The context must be JSON-serializable: tasks receive values, never model instances.
    """
    recipients = sorted({address for address in to if address})
    if not recipients:
        return
    from core.tasks import send_templated_email

    transaction.on_commit(
        lambda: send_templated_email.delay(template=template, to=recipients, context=context)
    )
