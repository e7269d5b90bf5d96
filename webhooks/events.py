"""The named audit events of webhook subscriptions, written in the service's
transaction. Subscriptions are not diffed: their secrets must never enter the trail,
and their delivery bookkeeping (lease, pause, failure count) moves with every send."""

from __future__ import annotations

from typing import Any

from audit.capture import record_change
from audit.kinds import Kind
from webhooks.models import Delivery, Subscription

WEBHOOK_CREATE = "webhook_create"
WEBHOOK_UPDATE = "webhook_update"
WEBHOOK_DELETE = "webhook_delete"
WEBHOOK_ROTATE = "webhook_rotate_secret"
WEBHOOK_DISABLE = "webhook_disable"
WEBHOOK_TEST = "webhook_test"
WEBHOOK_REDELIVER = "webhook_redeliver"

KINDS = (
    Kind(WEBHOOK_CREATE, "Webhook subscription created"),
    Kind(WEBHOOK_UPDATE, "Webhook subscription changed"),
    Kind(WEBHOOK_DELETE, "Webhook subscription deleted"),
    Kind(WEBHOOK_ROTATE, "Webhook secret rotated"),
    Kind(WEBHOOK_DISABLE, "Webhook subscription disabled after failures"),
    Kind(WEBHOOK_TEST, "Webhook test event sent"),
    Kind(WEBHOOK_REDELIVER, "Webhook delivery sent again"),
)
FIELDS = ("url", "events", "site_id", "description", "is_active")


def state(subscription: Subscription) -> dict[str, Any]:
    """What the trail shows of a subscription: never its secrets."""
    return {name: getattr(subscription, name) for name in FIELDS}


def _record(
    kind: str,
    subscription: Subscription,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> None:
    changed = sorted(
        name
        for name in {*(old or {}), *(new or {})}
        if (old or {}).get(name) != (new or {}).get(name)
    )
    record_change(
        action=kind,
        instance=subscription,
        site_id=subscription.site_id,
        old_values=old,
        new_values=new,
        changed_fields=changed,
    )


def subscription_created(*, subscription: Subscription) -> None:
    _record(WEBHOOK_CREATE, subscription, new=state(subscription))


def subscription_updated(*, subscription: Subscription, old: dict[str, Any]) -> None:
    _record(WEBHOOK_UPDATE, subscription, old=old, new=state(subscription))


def subscription_deleted(*, subscription: Subscription) -> None:
    _record(WEBHOOK_DELETE, subscription, old=state(subscription))


def secret_rotated(*, subscription: Subscription) -> None:
    expires = subscription.previous_secret_expires_at
    _record(WEBHOOK_ROTATE, subscription, new={"previous_secret_expires_at": expires})


def subscription_disabled(*, subscription: Subscription) -> None:
    _record(
        WEBHOOK_DISABLE,
        subscription,
        old={"is_active": True},
        new={
            "is_active": False,
            "consecutive_failures": subscription.consecutive_failures,
            "disabled_reason": subscription.disabled_reason,
        },
    )


def trial_queued(*, subscription: Subscription, event_id: str) -> None:
    _record(WEBHOOK_TEST, subscription, new={"event_id": event_id})


def delivery_resent(*, delivery: Delivery) -> None:
    _record(
        WEBHOOK_REDELIVER,
        delivery.subscription,
        new={"delivery": str(delivery.pk), "event_id": delivery.event.event_id},
    )
