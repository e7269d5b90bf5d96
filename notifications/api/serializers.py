from __future__ import annotations

import uuid
from typing import Any

from django.urls import reverse
from rest_framework import serializers

from core.serializers import StrictInputSerializer
from notifications.models import Broadcast
from rbac.models import Role
from sites.models import Site

UNKNOWN_ROLE = "Unknown role."
UNKNOWN_SITE = "Unknown site."


def _by_id_or(model: Any, value: str, field: str) -> Any:
    try:
        return model.objects.filter(pk=uuid.UUID(value)).first()
    except ValueError:
        return model.objects.filter(**{field: value}).first()


class BroadcastCreateInputSerializer(StrictInputSerializer):
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=10_000)
    role = serializers.CharField(
        required=False, allow_null=True, max_length=64, help_text="Role id or name."
    )
    site = serializers.CharField(
        required=False, allow_null=True, max_length=64, help_text="Site id or code."
    )

    def validate_subject(self, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise serializers.ValidationError("The subject must be one line.")
        return value

    def validate_role(self, value: str | None) -> Role | None:
        if value is None:
            return None
        role = _by_id_or(Role, value, "name")
        if role is None:
            raise serializers.ValidationError(UNKNOWN_ROLE)
        return role

    def validate_site(self, value: str | None) -> Site | None:
        if value is None:
            return None
        site = _by_id_or(Site, value, "code")
        if site is None:
            raise serializers.ValidationError(UNKNOWN_SITE)
        return site


class BroadcastOutputSerializer(serializers.ModelSerializer):
    role = serializers.CharField(source="role_name", allow_blank=True)
    site = serializers.CharField(source="site_code", allow_blank=True)
    created_by = serializers.CharField(source="created_by.username", default=None)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Broadcast
        fields = (
            "id",
            "url",
            "subject",
            "body",
            "role",
            "site",
            "status",
            "total",
            "sent",
            "failed",
            "errors",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        )
        read_only_fields = fields

    def get_url(self, obj: Broadcast) -> str:
        return reverse("notification-detail", args=[obj.pk])
