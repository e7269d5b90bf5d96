"""The sink of ``core.topics.publish``: a published event into the outbox, in the
change's transaction, and a fan-out asked for once it commits (``webhooks.delivery``)."""

from __future__ import annotations

from django.db import transaction

from core.topics import Event
from webhooks import tasks
from webhooks.models import OutboxEvent, Subscription


def write(event: Event, *, only_for: Subscription | None = None) -> None:
    """The outbox row of ``event``; ``only_for`` sends it to that subscription alone
    (a test event)."""
    OutboxEvent.objects.create(
        only_for=only_for,
        event_id=event.id,
        type=event.type,
        version=event.version,
        site_id=event.site_id,
        codename=event.codename,
        occurred_at=event.occurred_at,
        body=event.body,
    )
    transaction.on_commit(tasks.request_fan_out)
