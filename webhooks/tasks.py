"""The Celery side of webhooks: fanning out, serving a subscription, and the sweep."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from webhooks import delivery

logger = logging.getLogger(__name__)

DOORBELL = "webhooks:fan-out-requested"
# Short: a bell the fan-out never cleared (its task lost, or a worker on another cache)
# silences rings this long at most; a second fan-out task is harmless.
DOORBELL_SECONDS = 2


def publish(task: Any, *args: Any, countdown: float = 0) -> bool:
    """Hand a task to Celery; if the broker cannot take it, the sweep will do its work.

    Tasks run in-process (no broker) cannot wait: a later retry is left to the sweep.
    """
    if countdown > 0 and task.app.conf.task_always_eager:
        return False
    try:
        task.apply_async(args=args, countdown=countdown or None, retry=False)
    except Exception:
        logger.warning("webhook_task_left_to_sweep", extra={"task": task.name}, exc_info=True)
        return False
    return True


def request_fan_out() -> None:
    publish(fan_out)


def serve(subscription_id: str) -> None:
    publish(drain, subscription_id)


@shared_task
def fan_out() -> int:
    """Deliveries for the events committed since the last fan-out; serve them."""
    cache.delete(DOORBELL)  # before reading: an event committed from now on rings again
    subscriptions, more = delivery.fan_out()
    for subscription_id in sorted(subscriptions):
        serve(subscription_id)
    if more:
        request_fan_out()
    return len(subscriptions)


@shared_task
def drain(subscription_id: str) -> int:
    """Serve one subscription, then ask for its next turn when something is left. If
    another sender holds it, that sender does (or, killed, the sweep once its lease
    lapses)."""
    sent = delivery.drain(subscription_id)
    if sent is None:
        return 0
    at = delivery.next_attempt(subscription_id)
    if at is not None:
        delay = max((at - timezone.now()).total_seconds(), 0.0)
        publish(drain, subscription_id, countdown=delay)
    return sent


@shared_task
def sweep(min_age_seconds: float | None = None) -> int:
    """Beat job: events the commit hook could not fan out (older than
    ``min_age_seconds``), subscriptions with due deliveries nobody serves (a retry
    whose task was lost, a killed sender), and finished deliveries past their keeping
    time."""
    older_than = delivery.SWEEP_AFTER
    if min_age_seconds is not None:
        older_than = timedelta(seconds=min_age_seconds)
    more = True
    while more:
        _, more = delivery.fan_out(older_than=older_than)
    now = timezone.now()
    due = delivery.due_subscriptions(now)
    for subscription_id in due:
        if not publish(drain, subscription_id):
            break
    delivery.prune(now)
    return len(due)
