from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import User
from core.models import related_model
from core.serializers import CachedFieldsMixin, StrictInputSerializer
from rbac.models import Permission, Role, RoleAssignment


class PermissionOutputSerializer(CachedFieldsMixin, serializers.ModelSerializer[Any]):
    class Meta:
        model = Permission
        fields = ("codename", "description")
        read_only_fields = fields


class RoleOutputSerializer(CachedFieldsMixin, serializers.ModelSerializer[Any]):
    permissions = serializers.SerializerMethodField()

    class Meta:
        model = Role
        fields = (
            "id",
            "name",
            "description",
            "permissions",
            "is_system",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_permissions(self, obj: Role) -> list[str]:
        return sorted(p.codename for p in obj.permissions.all())


class RoleInputSerializer(StrictInputSerializer):
    echo_serializer = RoleOutputSerializer

    name = serializers.RegexField(r"^[\w .-]{1,64}$", max_length=64)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    permissions = serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=500, allow_empty=True
    )


class AssignmentOutputSerializer(CachedFieldsMixin, serializers.ModelSerializer[Any]):
    role_name = serializers.CharField(source="role.name", read_only=True)
    site_code = serializers.CharField(
        source="site.code", read_only=True, default=None, allow_null=True
    )
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = RoleAssignment
        fields = ("id", "user", "username", "role", "role_name", "site", "site_code", "created_at")
        read_only_fields = fields


class AssignmentInputSerializer(StrictInputSerializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    role = serializers.PrimaryKeyRelatedField(queryset=Role.objects.all())
    # The site model is reached through the relation: rbac imports nothing of sites.
    site = serializers.PrimaryKeyRelatedField(
        queryset=related_model(RoleAssignment, "site")._default_manager.all(),
        allow_null=True,
        required=False,
    )

    def __init__(self, *args: Any, site_queryset: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Sites the caller cannot see do not exist for it: 400, like any unknown id.
        self.narrow("site", site_queryset)
