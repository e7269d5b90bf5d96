from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from core import topics
from webhooks.models import Delivery, DeliveryStatus, OutboxEvent, Subscription


def make_delivery(
    subscription: Subscription, status: str = DeliveryStatus.FAILED, **fields
) -> Delivery:
    """A delivery of a test event to ``subscription``, written directly (no sending)."""
    event = topics.build("webhook.test", data={"subscription": str(subscription.pk)})
    row = OutboxEvent.objects.create(
        event_id=event.id,
        type=event.type,
        version=event.version,
        codename=event.codename,
        occurred_at=event.occurred_at,
        body=event.body,
        fanned_out_at=timezone.now(),
        only_for=subscription,
    )
    now = timezone.now()
    return Delivery.objects.create(
        subscription=subscription,
        event=row,
        position=row.seq,
        status=status,
        next_attempt_at=None if status != DeliveryStatus.PENDING else now,
        give_up_after=now + timedelta(hours=24),
        **fields,
    )
