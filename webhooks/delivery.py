"""From a published event to a delivered one: the outbox, fanning out, and sending.

1. ``webhooks.outbox.write`` (the sink of ``core.topics.publish``) inserts the event
   into the outbox in the change's transaction and asks for a fan-out once it commits.
   A change that rolls back leaves no event; a committed one is never lost: if the
   broker cannot take the request, the ``webhooks: sweep`` beat job fans out what is
   left.
2. ``fan_out`` makes one ``Delivery`` per active subscription that wants the event's
   type, is bound to its site (or to none), and whose creator may read it now
   (``Topic.codename`` at the event's site): a subscriber never receives what its
   creator could not read.
3. ``drain`` serves one subscription: it takes the subscription's lease (one sender at a
   time), sends its due deliveries oldest first, and records every attempt. A failed
   attempt schedules that delivery's retry (exponential backoff with jitter, up to
   ``WEBHOOK_RETRY_HOURS``, then it is failed) and pauses the subscription until then,
   so a dead or hanging receiver costs one attempt per retry, holds one worker at most
   for ``WEBHOOK_TIMEOUT_SECONDS``, and never delays another subscription's deliveries.
   ``WEBHOOK_DISABLE_AFTER`` failed deliveries in a row disable the subscription and
   e-mail its creator.

A worker killed mid-send leaves the delivery pending and the lease to expire; the sweep
sends it again. A receiver may thus see an event twice, always with the same
``webhook-id`` (at least once, never lost).
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from core.emails import queue_email
from rbac.resolver import compute
from webhooks import events, interest, sending
from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, OutboxEvent, Subscription

logger = logging.getLogger(__name__)

FAN_OUT_BATCH = 500
# Events older than this that were not fanned out are the sweep's (the commit hook
# could not publish their fan-out).
SWEEP_AFTER = timedelta(seconds=5)


def window() -> timedelta:
    return timedelta(hours=settings.WEBHOOK_RETRY_HOURS)


def backoff(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: doubling from
    ``WEBHOOK_RETRY_BASE_SECONDS``, capped, with half of it random (jitter)."""
    delay = min(
        settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS,
        settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
    )
    return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 (not a secret)


class _Readers:
    """Who may read what, fresh from the database, once per creator per fan-out."""

    def __init__(self) -> None:
        self._permissions: dict[Any, Any] = {}

    def may_read(self, subscription: Subscription, event: OutboxEvent) -> bool:
        creator = subscription.created_by
        if creator.pk not in self._permissions:
            self._permissions[creator.pk] = compute(creator)
        permissions = self._permissions[creator.pk]
        if event.site_id is None:
            return bool(permissions.sites_for(event.codename) is None)
        return bool(permissions.has(event.codename, str(event.site_id)))


def _wants(subscription: Subscription, event: OutboxEvent) -> bool:
    if event.only_for_id is not None:
        return event.only_for_id == subscription.pk
    if event.type not in subscription.events:
        return False
    return subscription.site_id is None or subscription.site_id == event.site_id


def fan_out(*, older_than: timedelta | None = None) -> tuple[set[str], bool]:
    """Deliveries for a batch of outbox events not yet fanned out: the ids of the
    subscriptions that got some, and whether more events wait. Runs concurrently with
    itself (``SKIP LOCKED``)."""
    now = timezone.now()
    pending = OutboxEvent.objects.filter(fanned_out_at=None)
    if older_than is not None:
        pending = pending.filter(occurred_at__lt=now - older_than)
    with transaction.atomic():
        batch = list(pending.select_for_update(skip_locked=True).order_by("seq")[:FAN_OUT_BATCH])
        if not batch:
            return set(), False
        subscriptions = list(
            Subscription.objects.filter(is_active=True).select_related("created_by")
        )
        readers = _Readers()
        deliveries = [
            Delivery(
                subscription=subscription,
                event=event,
                position=event.seq,
                next_attempt_at=now,
                give_up_after=now + window(),
            )
            for event in batch
            for subscription in subscriptions
            if _wants(subscription, event) and readers.may_read(subscription, event)
        ]
        Delivery.objects.bulk_create(deliveries, ignore_conflicts=True, batch_size=1000)
        OutboxEvent.objects.filter(seq__in=[event.seq for event in batch]).update(fanned_out_at=now)
    return {str(delivery.subscription_id) for delivery in deliveries}, len(batch) == FAN_OUT_BATCH


def _lease_length() -> timedelta:
    """A lease outlives the longest send by a margin; a killed sender's lease lapses."""
    return timedelta(
        seconds=settings.WEBHOOK_TIMEOUT_SECONDS + settings.WEBHOOK_LEASE_MARGIN_SECONDS
    )


def _lease(subscription_id: str, now: datetime) -> datetime | None:
    """Take the subscription's lease if it is free and the subscription may be served."""
    until = now + _lease_length()
    taken = (
        Subscription.objects.filter(pk=subscription_id, is_active=True)
        .filter(Q(lease_until=None) | Q(lease_until__lt=now))
        .update(lease_until=until)
    )
    return until if taken else None


DUE_BATCH = 50


def _due(subscription_id: str, now: datetime) -> list[Delivery]:
    """The next due deliveries in the order of their events (the partial index on
    subscription and position serves this): a retried one keeps its place."""
    return list(
        Delivery.objects.filter(
            subscription_id=subscription_id,
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=now,
        )
        .select_related("event")
        .order_by("position")[:DUE_BATCH]
    )


def secrets_in_force(subscription: Subscription, now: datetime) -> list[str]:
    found = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires is not None and expires > now:
        found.append(subscription.previous_secret)
    return found


def _record(
    subscription: Subscription, delivery: Delivery, outcome: sending.Outcome
) -> datetime | None:
    """Write the attempt and what follows from it; the sender's renewed lease when it
    may go on (None: it failed, or the delivery is gone with its subscription)."""
    now = timezone.now()
    changes: dict[str, Any] = {
        "attempts": delivery.attempts + 1,
        "last_attempt_at": now,
        "response_status": outcome.status,
        "duration_ms": outcome.duration_ms,
        "error": outcome.error,
    }
    lease = None
    with transaction.atomic():
        if outcome.ok:
            changes.update(status=DeliveryStatus.SUCCEEDED, delivered_at=now, next_attempt_at=None)
        elif now >= delivery.give_up_after:
            changes.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
        else:
            changes["next_attempt_at"] = now + timedelta(seconds=backoff(delivery.attempts + 1))
        if not Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
            **changes
        ):
            return None  # deleted with its subscription, or resent meanwhile
        DeliveryAttempt.objects.create(
            delivery=delivery,
            at=now,
            response_status=outcome.status,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
            succeeded=outcome.ok,
        )
        if outcome.ok:
            lease = now + _lease_length()
            Subscription.objects.filter(pk=subscription.pk).update(
                consecutive_failures=0, paused_until=None, lease_until=lease
            )
        elif changes["next_attempt_at"] is None:
            _failed(subscription)
        else:
            Subscription.objects.filter(pk=subscription.pk).update(
                paused_until=changes["next_attempt_at"]
            )
    return lease


def _failed(subscription: Subscription) -> None:
    """A delivery given up on: count it, and disable the subscription at the limit."""
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    locked.consecutive_failures += 1
    locked.paused_until = None  # the next delivery gets its own tries
    fields = ["consecutive_failures", "paused_until"]
    if locked.is_active and locked.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER:
        locked.is_active = False
        locked.disabled_at = timezone.now()
        locked.disabled_reason = (
            f"{locked.consecutive_failures} deliveries in a row failed for "
            f"{settings.WEBHOOK_RETRY_HOURS} hours."
        )
        fields += ["is_active", "disabled_at", "disabled_reason"]
        events.subscription_disabled(subscription=locked)
        transaction.on_commit(interest.forget)
        creator = locked.created_by
        queue_email(
            template="webhook_disabled",
            to=[creator.email],
            context={
                "name": creator.printed_name,
                "url": locked.url,
                "subscription": str(locked.pk),
                "failures": locked.consecutive_failures,
                "reason": locked.disabled_reason,
            },
        )
        logger.warning("webhook_disabled", extra={"subscription": str(locked.pk)})
    locked.save(update_fields=fields)


def drain(subscription_id: str, *, budget_seconds: float | None = None) -> int | None:
    """Send the subscription's due deliveries, oldest first, until none is due, one
    fails, or the time budget is spent; how many were sent successfully, or None if
    another sender serves the subscription (or it is inactive)."""
    now = timezone.now()
    lease = _lease(subscription_id, now)
    if lease is None:
        return None
    budget = settings.WEBHOOK_DRAIN_SECONDS if budget_seconds is None else budget_seconds
    deadline = now + timedelta(seconds=budget)
    sent = 0
    sender = sending.Sender()
    try:
        while lease is not None and timezone.now() < deadline:
            subscription = Subscription.objects.filter(pk=subscription_id).first()
            if subscription is None:
                break  # deleted while being served
            now = timezone.now()
            paused = subscription.paused_until
            if not subscription.is_active or (paused is not None and paused > now):
                break
            due = _due(subscription_id, now)
            if not due:
                break
            for delivery in due:
                if timezone.now() >= deadline:
                    break
                outcome = sender.send(
                    url=subscription.url,
                    secrets_in_force=secrets_in_force(subscription, now),
                    msg_id=delivery.event.event_id,
                    body=delivery.event.body,
                )
                renewed = _record(subscription, delivery, outcome)
                if renewed is None:
                    break
                lease = renewed
                sent += 1
            else:
                continue  # the whole batch went out: fetch the next one
            break  # a failure (or the deadline) inside the batch
    finally:
        sender.close()
        Subscription.objects.filter(pk=subscription_id).filter(
            Q(lease_until=lease) | Q(lease_until__lt=timezone.now())
        ).update(lease_until=None)
    return sent


def next_attempt(subscription_id: str) -> datetime | None:
    """When the subscription has something to send next (None: nothing pending)."""
    subscription = Subscription.objects.filter(pk=subscription_id, is_active=True).first()
    if subscription is None:
        return None
    due = Delivery.objects.filter(
        subscription_id=subscription_id, status=DeliveryStatus.PENDING
    ).aggregate(at=Min("next_attempt_at"))["at"]
    if due is None:
        return None
    if subscription.paused_until is not None:
        return max(due, subscription.paused_until)
    return due


def due_subscriptions(now: datetime) -> list[str]:
    """Active subscriptions with a due delivery, not paused and not being served."""
    due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now).values(
        "subscription_id"
    )
    return [
        str(pk)
        for pk in Subscription.objects.filter(is_active=True, pk__in=due)
        .filter(Q(paused_until=None) | Q(paused_until__lte=now))
        .filter(Q(lease_until=None) | Q(lease_until__lt=now))
        .values_list("pk", flat=True)
    ]


PRUNE_BATCH = 1000


def prune(now: datetime) -> int:
    """Forget finished deliveries (and their events) past ``WEBHOOK_KEEP_DAYS``, a
    batch at a time; an event with a delivery still pending stays."""
    cutoff = now - timedelta(days=settings.WEBHOOK_KEEP_DAYS)
    old = list(
        OutboxEvent.objects.filter(occurred_at__lt=cutoff)
        .exclude(fanned_out_at=None)
        .exclude(deliveries__status=DeliveryStatus.PENDING)
        .values_list("seq", flat=True)[:PRUNE_BATCH]
    )
    if not old:
        return 0
    deleted, _ = OutboxEvent.objects.filter(seq__in=old).delete()
    return deleted
