"""Subscriptions: created, changed, deleted, their secret rotated, tested; deliveries
sent again. Every door (the API, a shell, a task) goes through these."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core import topics
from core.exceptions import StateConflict
from rbac.resolver import compute
from sites.models import Site
from webhooks import delivery, events, interest, outbox, sending, tasks
from webhooks.guard import UnsafeURL, check
from webhooks.models import Delivery, DeliveryStatus, Subscription
from webhooks.topics import TEST_TOPIC

EDITABLE = ("url", "events", "site", "description", "is_active")
SUBSCRIPTION_DISABLED = "The subscription is disabled: enable it (is_active) first."
MAX_EVENTS = 50


def _check_url(url: str) -> None:
    try:
        check(url)
    except UnsafeURL as exc:
        raise ValidationError({"url": [str(exc)]}) from None


def _check_events(actor: User, names: Sequence[str], site: Site | None) -> list[str]:
    """Known types, each readable by ``actor`` somewhere (at ``site`` when bound)."""
    if not names:
        raise ValidationError({"events": ["Name at least one event type."]})
    if len(names) > MAX_EVENTS:
        raise ValidationError({"events": [f"At most {MAX_EVENTS} event types."]})
    permissions = compute(actor)
    errors = []
    for name in names:
        try:
            topic = topics.get(name)
        except LookupError:
            errors.append(f"{name}: unknown event type.")
            continue
        if site is not None:
            readable = permissions.has(topic.codename, str(site.pk))
        else:
            readable = permissions.sites_for(topic.codename) != set()
        if not readable:
            errors.append(f"{name}: you may not read these events ({topic.codename}).")
    if errors:
        raise ValidationError({"events": errors})
    return sorted(set(names))


@transaction.atomic
def subscription_create(
    *,
    actor: User,
    url: str,
    types: Sequence[str],
    site: Site | None = None,
    description: str = "",
) -> tuple[Subscription, str]:
    """A new subscription and its secret (``whsec_...``), shown this once."""
    _check_url(url)
    subscription = Subscription(
        url=url,
        events=_check_events(actor, types, site),
        site=site,
        description=description,
        secret=sending.new_secret(),
        created_by=actor,
    )
    subscription.full_clean()
    subscription.save()
    events.subscription_created(subscription=subscription)
    _types_changed()
    return subscription, subscription.secret


def _locked(subscription: Subscription) -> Subscription:
    return Subscription.objects.select_for_update().get(pk=subscription.pk)


@transaction.atomic
def subscription_update(
    *, actor: User, subscription: Subscription, data: Mapping[str, Any]
) -> Subscription:
    subscription = _locked(subscription)
    old = events.state(subscription)
    for name, value in data.items():
        if name not in EDITABLE:
            raise ValidationError({name: ["This field cannot be changed."]})
        setattr(subscription, name, value)
    if "url" in data:
        _check_url(subscription.url)
    if "events" in data or "site" in data:
        subscription.events = _check_events(actor, subscription.events, subscription.site)
    if data.get("is_active") and not old["is_active"]:
        # Enabled again: its pending deliveries go out, each with its own tries left.
        subscription.consecutive_failures = 0
        subscription.disabled_at = None
        subscription.disabled_reason = ""
        subscription.paused_until = None
    subscription.full_clean()
    subscription.save()
    events.subscription_updated(subscription=subscription, old=old)
    _types_changed()
    _serve_after_commit(subscription)
    return subscription


@transaction.atomic
def subscription_delete(*, actor: User, subscription: Subscription) -> None:
    subscription = _locked(subscription)
    events.subscription_deleted(subscription=subscription)
    subscription.delete()
    _types_changed()


@transaction.atomic
def secret_rotate(*, actor: User, subscription: Subscription) -> tuple[Subscription, str]:
    """A new secret; the old one signs too for ``WEBHOOK_SECRET_GRACE_HOURS``, so a
    receiver can switch without losing an event."""
    subscription = _locked(subscription)
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = timezone.now() + timedelta(
        hours=settings.WEBHOOK_SECRET_GRACE_HOURS
    )
    subscription.secret = sending.new_secret()
    subscription.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    events.secret_rotated(subscription=subscription)
    return subscription, subscription.secret


@transaction.atomic
def test_send(*, actor: User, subscription: Subscription) -> str:
    """A ``webhook.test`` event to this subscription only; its event id."""
    subscription = _locked(subscription)
    if not subscription.is_active:
        raise StateConflict(SUBSCRIPTION_DISABLED, code="subscription_disabled")
    event = topics.build(
        TEST_TOPIC.name,
        data={
            "subscription": str(subscription.pk),
            "message": "A test event: the signature verifies with this subscription's secret.",
        },
    )
    outbox.write(event, only_for=subscription)
    events.trial_queued(subscription=subscription, event_id=event.id)
    return event.id


@transaction.atomic
def delivery_resend(*, actor: User, delivery_row: Delivery) -> Delivery:
    """Send a delivery again (whatever became of it), now, with the same ``webhook-id``."""
    locked = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("subscription", "event")
        .get(pk=delivery_row.pk)
    )
    subscription = _locked(locked.subscription)
    if not subscription.is_active:
        raise StateConflict(SUBSCRIPTION_DISABLED, code="subscription_disabled")
    now = timezone.now()
    locked.status = DeliveryStatus.PENDING
    locked.next_attempt_at = now
    locked.give_up_after = now + delivery.window()
    locked.save(update_fields=["status", "next_attempt_at", "give_up_after"])
    subscription.paused_until = None
    subscription.save(update_fields=["paused_until"])
    events.delivery_resent(delivery=locked)
    _serve_after_commit(subscription)
    return locked


def _types_changed() -> None:
    """This process publishes by the new set at once (and again once it is committed,
    for a transaction that rolled back)."""
    interest.forget()
    transaction.on_commit(interest.forget)


def _serve_after_commit(subscription: Subscription) -> None:
    subscription_id = str(subscription.pk)
    transaction.on_commit(lambda: tasks.serve(subscription_id))
