from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import CachedFieldsMixin, StrictInputSerializer
from sites.models import Site
from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Subscription

MAX_URL = 2000


class EventTypesField(serializers.ListField):
    child = serializers.CharField(max_length=64)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_empty", False)
        kwargs.setdefault("max_length", 50)
        kwargs.setdefault("help_text", "Event types (GET /api/webhooks/event-types/).")
        super().__init__(**kwargs)


class SubscriptionOutputSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    site = serializers.UUIDField(source="site_id", read_only=True, allow_null=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    secret_rotated_until = serializers.DateTimeField(
        source="previous_secret_expires_at",
        read_only=True,
        allow_null=True,
        help_text="Until then the secret before the last rotation signs too.",
    )

    class Meta:
        model = Subscription
        fields: tuple[str, ...] = (
            "id",
            "url",
            "events",
            "site",
            "description",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "consecutive_failures",
            "paused_until",
            "secret_rotated_until",
            "created_by",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class SubscriptionSecretOutputSerializer(SubscriptionOutputSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The signing secret (whsec_...): shown this once only."
    )

    class Meta(SubscriptionOutputSerializer.Meta):
        fields = (*SubscriptionOutputSerializer.Meta.fields, "secret")
        read_only_fields = fields


class SubscriptionCreateInputSerializer(StrictInputSerializer):
    url = serializers.CharField(max_length=MAX_URL, help_text="https only; a public address.")
    events = EventTypesField()
    site = serializers.PrimaryKeyRelatedField(
        queryset=Site.objects.all(),
        required=False,
        allow_null=True,
        help_text="Only this site's events (none: every site the creator may read).",
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class SubscriptionUpdateInputSerializer(StrictInputSerializer):
    echo_serializer = SubscriptionOutputSerializer

    url = serializers.CharField(max_length=MAX_URL, required=False)
    events = EventTypesField(required=False)
    site = serializers.PrimaryKeyRelatedField(
        queryset=Site.objects.all(), required=False, allow_null=True
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(
        required=False, help_text="true enables a subscription disabled after failures."
    )


class SecretOutputSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The new signing secret: shown this once only.")
    previous_secret_expires_at = serializers.DateTimeField(
        help_text="Until then the previous secret signs too."
    )


class TestSentOutputSerializer(serializers.Serializer):
    event_id = serializers.CharField(help_text="The webhook-id the receiver gets.")


class AttemptOutputSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ("at", "succeeded", "response_status", "duration_ms", "error")
        read_only_fields = fields


class DeliveryOutputSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    event_id = serializers.CharField(source="event.event_id", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    next_retry_at = serializers.SerializerMethodField(
        help_text="When the next try is due (pending deliveries only)."
    )
    tries = AttemptOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = (
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "created_at",
            "last_attempt_at",
            "response_status",
            "duration_ms",
            "error",
            "delivered_at",
            "next_retry_at",
            "tries",
        )
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_next_retry_at(self, delivery: Delivery) -> Any:
        if delivery.status != DeliveryStatus.PENDING:
            return None
        paused = delivery.subscription.paused_until
        due = delivery.next_attempt_at
        if paused is not None and (due is None or paused > due):
            due = paused
        return serializers.DateTimeField().to_representation(due) if due else None


class EventTypeOutputSerializer(serializers.Serializer):
    type = serializers.CharField(source="name")
    version = serializers.IntegerField()
    description = serializers.CharField()
    permission = serializers.CharField(
        source="codename", help_text="What the subscription's creator must hold to receive it."
    )
