"""The published events in the OpenAPI schema, so clients can generate their types.

For each type in the catalogue (``core.topics``) the schema gets a component
``<Type>Event`` (the envelope, with ``data`` as that event's resource) and an entry in
``x-webhooks``, the OpenAPI 3.0 spelling of 3.1's ``webhooks`` that Redoc renders: the
request a receiver gets, with the Standard Webhooks headers.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.plumbing import process_webhooks
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    OpenApiWebhook,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers

from core import topics

HEADERS = [
    OpenApiParameter(
        "webhook-id",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=True,
        description="The event's id: the same on every retry; de-duplicate by it.",
    ),
    OpenApiParameter(
        "webhook-timestamp",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        required=True,
        description="Unix seconds when this attempt was signed.",
    ),
    OpenApiParameter(
        "webhook-signature",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=True,
        description=(
            "Space-separated 'v1,<base64 HMAC-SHA256 of id.timestamp.body>', one per "
            "secret in force (two during a rotation's grace period)."
        ),
    ),
]


def component_name(topic: topics.Topic) -> str:
    words = topic.name.replace("_", ".").split(".")
    return "".join(word.capitalize() for word in words) + "Event"


def _exactly(base: type[serializers.Field], schema: dict[str, Any]) -> serializers.Field:
    return extend_schema_field(schema)(type("Exactly", (base,), {}))()


def envelope(topic: topics.Topic) -> Any:
    return inline_serializer(
        name=component_name(topic),
        fields={
            # Plain schemas, not one-value enums: those would be renamed together with
            # the API's own enums of the same field name.
            "type": _exactly(
                serializers.CharField,
                {"type": "string", "pattern": f"^{re.escape(topic.name)}$", "example": topic.name},
            ),
            "version": _exactly(
                serializers.IntegerField,
                {
                    "type": "integer",
                    "minimum": topic.version,
                    "maximum": topic.version,
                    "example": topic.version,
                },
            ),
            "id": serializers.CharField(help_text="evt_...: the same as webhook-id."),
            "occurred_at": serializers.DateTimeField(),
            "site": serializers.UUIDField(allow_null=True),
            "data": topic.serializer(),
        },
    )


def _unversioned(decorator: Any) -> Any:
    """drf-spectacular documents a webhook as a stand-in view: it has no API version
    (Accept-header versioning has no request to read there) and none of our errors."""

    def decorate(view: Any) -> Any:
        view = decorator(view)
        view.versioning_class = None
        view.error_responses = False  # the receiver's answers are its own
        return view

    return decorate


def event_webhooks() -> list[OpenApiWebhook]:
    return [
        OpenApiWebhook(
            name=topic.name,
            decorator=_unversioned(
                extend_schema(
                    summary=topic.description,
                    description=(
                        f"Version {topic.version}. Sent to subscriptions of '{topic.name}' whose "
                        f"creator holds {topic.codename} at the event's site. Answer 2xx within "
                        "the timeout; anything else is retried."
                    ),
                    parameters=HEADERS,
                    request=envelope(topic),
                    responses={200: OpenApiResponse(description="Received (any 2xx).")},
                )
            ),
        )
        for topic in topics.catalogue()
    ]


def webhook_events(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: add the event components and x-webhooks."""
    result["x-webhooks"] = process_webhooks(event_webhooks(), generator.registry)
    result["components"] = generator.registry.build(spectacular_settings.APPEND_COMPONENTS)
    return result
