"""The API side of reasons for change: the header in the schema, the body field."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from core import reasons

HEADER_DESCRIPTION = (
    "Why the record is changed (EU GMP Annex 11 §9), stored on every audit record of the "
    "request; up to 2,000 characters, whitespace only counts as none. {rule} A body "
    "`reason`, where the operation takes one, is used instead."
)
REQUIRED = (
    "Required for updates, deletes and status moves of GMP records "
    "(`AUDIT_REASON_REQUIRED_FOR`): without a reason the answer is 400 "
    '`{"reason": [...]}` (code `reason_required`) and nothing changes.'
)
REASON_HEADER = OpenApiParameter(
    "X-Change-Reason",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=HEADER_DESCRIPTION.format(rule=REQUIRED),
)


def reason_field() -> serializers.CharField:
    """The body ``reason`` of an update: the reason for change, as the header gives it."""
    return serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=reasons.MAX_LENGTH,
        write_only=True,
        help_text="The reason for the change (else the X-Change-Reason header); "
        "required for GMP records.",
    )


def bind_body_reason(validated: dict[str, Any]) -> dict[str, Any]:
    """Bind the body's ``reason`` for the request and hand back the rest of the data."""
    data = dict(validated)
    reasons.bind(data.pop("reason", ""))
    return data
