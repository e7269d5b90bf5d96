from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import signed_in
from core import topics
from core.pagination import CursorPagination
from core.serializers import EmptyInputSerializer
from rbac.viewsets import ScopedGenericViewSet
from webhooks import services
from webhooks.api import serializers as s
from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Subscription

MANAGE = "webhook.manage"
# A delivery id in the path: anything else is no route (404), not a 400 from the lookup.
UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class DeliveryPagination(CursorPagination):
    ordering = "-created_at"


class SubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Webhook subscriptions: which events go to which URL, signed with its secret
    (Standard Webhooks). ``webhook.manage``, a global permission, for everything."""

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    required_permissions = {
        action: MANAGE
        for action in (
            "list",
            "retrieve",
            "create",
            "partial_update",
            "destroy",
            "rotate_secret",
            "send_test",
            "deliveries",
            "redeliver",
            "event_types",
        )
    }
    global_actions = frozenset(required_permissions)
    serializer_class = s.SubscriptionOutputSerializer
    queryset = Subscription.objects.none()
    filter_backends: list[Any] = []

    def base_queryset(self) -> QuerySet[Subscription]:
        return Subscription.objects.select_related("created_by")

    @extend_schema(
        request=s.SubscriptionCreateInputSerializer,
        responses={201: s.SubscriptionSecretOutputSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Subscribe a URL to event types; the answer holds the signing secret, once.
        A site-bound subscription receives only that site's events; none receives an
        event its creator could not read."""
        data = s.SubscriptionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription, secret = services.subscription_create(
            actor=signed_in(request),
            url=data.validated_data["url"],
            types=data.validated_data["events"],
            site=data.validated_data.get("site"),
            description=data.validated_data.get("description", ""),
        )
        subscription.secret = secret
        body = s.SubscriptionSecretOutputSerializer(subscription).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.SubscriptionUpdateInputSerializer,
        responses={200: s.SubscriptionOutputSerializer},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        subscription = self.get_object()
        data = s.SubscriptionUpdateInputSerializer(
            data=request.data, partial=True, echo_instance=subscription
        )
        data.is_valid(raise_exception=True)
        subscription = services.subscription_update(
            actor=signed_in(request), subscription=subscription, data=data.validated_data
        )
        return Response(s.SubscriptionOutputSerializer(subscription).data)

    @extend_schema(responses={204: OpenApiResponse(description="Subscription deleted.")})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The subscription and its delivery log; nothing more is sent to it."""
        services.subscription_delete(actor=signed_in(request), subscription=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=EmptyInputSerializer, responses={200: s.SecretOutputSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        """A new secret, shown once; the old one signs too for a grace period
        (``WEBHOOK_SECRET_GRACE_HOURS``), so the receiver can switch without a gap."""
        EmptyInputSerializer(data=request.data).is_valid(raise_exception=True)
        subscription, secret = services.secret_rotate(
            actor=signed_in(request), subscription=self.get_object()
        )
        return Response(
            {
                "secret": secret,
                "previous_secret_expires_at": subscription.previous_secret_expires_at,
            }
        )

    @extend_schema(request=EmptyInputSerializer, responses={202: s.TestSentOutputSerializer})
    @action(detail=True, methods=["post"], url_path="test")
    def send_test(self, request: Request, pk: str | None = None) -> Response:
        """Send a ``webhook.test`` event to this subscription only (see its deliveries)."""
        EmptyInputSerializer(data=request.data).is_valid(raise_exception=True)
        event_id = services.test_send(actor=signed_in(request), subscription=self.get_object())
        return Response({"event_id": event_id}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=DeliveryStatus.values, description="Only these."
            ),
            OpenApiParameter("cursor", OpenApiTypes.STR),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={200: s.DeliveryOutputSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=DeliveryPagination)
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        """Every delivery of an event to this subscription, newest first, each with
        its tries (status, response code, duration) and its next retry."""
        subscription = self.get_object()
        rows = (
            Delivery.objects.filter(subscription=subscription)
            .select_related("event", "subscription")
            .prefetch_related(Prefetch("tries", queryset=DeliveryAttempt.objects.order_by("at")))
        )
        wanted = request.query_params.get("status")
        if wanted is not None:
            if wanted not in DeliveryStatus.values:
                raise exceptions.ValidationError(
                    {"status": [f"One of {', '.join(DeliveryStatus.values)}."]}
                )
            rows = rows.filter(status=wanted)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(s.DeliveryOutputSerializer(page, many=True).data)

    @extend_schema(request=EmptyInputSerializer, responses={202: s.DeliveryOutputSerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path=rf"deliveries/(?P<delivery_id>{UUID_PATTERN})/redeliver",
    )
    def redeliver(self, request: Request, pk: str | None = None, delivery_id: str = "") -> Response:
        """Send a delivery again now, with the same ``webhook-id`` (receivers that
        de-duplicate by it see it once)."""
        EmptyInputSerializer(data=request.data).is_valid(raise_exception=True)
        subscription = self.get_object()
        found = get_object_or_404(
            Delivery.objects.filter(subscription=subscription), pk=delivery_id
        )
        row = services.delivery_resend(actor=signed_in(request), delivery_row=found)
        return Response(s.DeliveryOutputSerializer(row).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: s.EventTypeOutputSerializer(many=True)})
    @action(detail=False, methods=["get"], url_path="event-types", pagination_class=None)
    def event_types(self, request: Request) -> Response:
        """The event catalogue: each type with its version, and the permission a
        subscription's creator needs to receive it. Payloads are in the schema's
        ``components`` (``WebhookEvent_*``)."""
        return Response(s.EventTypeOutputSerializer(topics.catalogue(), many=True).data)
