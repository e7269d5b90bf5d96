"""Subscriptions, the outbox of published events, and the log of their deliveries.

An ``OutboxEvent`` is written in the transaction of the change it states
(``core.topics.publish``); fanning out turns it into one ``Delivery`` per subscription
that may receive it; each try of a delivery is a ``DeliveryAttempt``. A subscription is
served by one sender at a time (``lease_until``), so a slow or dead receiver holds one
worker at most and never the others' deliveries (``webhooks.delivery``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from core.access import RestrictedQuerySet


class Subscription(models.Model):
    audit_exempt = "Recorded by named events (webhooks.events); secrets never enter the trail."

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Checked by webhooks.guard, which also takes plant-network names without a dot.
    url = models.CharField(max_length=2000)
    events = models.JSONField(default=list)
    site = models.ForeignKey(
        "sites.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100)
    # The secret before the last rotation: it signs too, until previous_secret_expires_at.
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Deliveries given up on (retries exhausted) since the last success.
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    # A failed attempt pauses every delivery of the subscription until its retry.
    paused_until = models.DateTimeField(null=True, blank=True)
    # The sender serving this subscription holds it until then (None: nobody).
    lease_until = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url


class OutboxEvent(models.Model):
    audit_exempt = "Outgoing event queue; the change each event states is audited."

    seq = models.BigAutoField(primary_key=True)
    event_id = models.CharField(max_length=64)  # evt_ and a UUID: unique by construction
    type = models.CharField(max_length=64)
    version = models.PositiveSmallIntegerField()
    site_id = models.UUIDField(null=True, blank=True)
    codename = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    body = models.TextField()
    # Set once deliveries were made for every subscription that may receive it.
    fanned_out_at = models.DateTimeField(null=True, blank=True)
    # Only this subscription (a test event).
    only_for = models.ForeignKey(
        Subscription,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # indexed only where set (webhooks_outbox_only_for_idx)
    )

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(
                fields=["seq"],
                condition=models.Q(fanned_out_at__isnull=True),
                name="webhooks_outbox_pending_idx",
            ),
            models.Index(fields=["occurred_at"], name="webhooks_outbox_occurred_idx"),
            models.Index(
                fields=["only_for"],
                condition=models.Q(only_for__isnull=False),
                name="webhooks_outbox_only_for_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Delivery(models.Model):
    audit_exempt = "Delivery log; redeliveries are recorded by named events."

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    # The event's place in the outbox: a subscription's deliveries go out in this order.
    position = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Retries stop (the delivery fails) at the first failed attempt after this.
    give_up_after = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="webhooks_one_delivery_per_event"
            )
        ]
        indexes = [
            models.Index(
                fields=["subscription", "position"],
                condition=models.Q(status="pending"),
                name="webhooks_delivery_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.subscription_id}"


class DeliveryAttempt(models.Model):
    audit_exempt = "Delivery log: one row per try of a delivery."

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    at = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.FloatField()
    error = models.CharField(max_length=500, blank=True)
    succeeded = models.BooleanField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.at}"
