from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User, UserSession
from accounts.usernames import validate_username
from core.serializers import CachedFieldsMixin, StrictInputSerializer


class UserOutputSerializer(CachedFieldsMixin, serializers.ModelSerializer[Any]):
    class Meta:
        model = User
        fields: tuple[str, ...] = (
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "phone",
            "address",
            "is_active",
            "is_staff",
            "last_login",
            "created_at",
            "updated_at",
        )
        read_only_fields: tuple[str, ...] = fields


class ProfileOutputSerializer(UserOutputSerializer):
    class Meta(UserOutputSerializer.Meta):
        fields = (*UserOutputSerializer.Meta.fields, "is_superuser")
        read_only_fields = fields


class LoginInputSerializer(StrictInputSerializer):
    username = serializers.CharField(max_length=150, trim_whitespace=False)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class LoginOutputSerializer(serializers.Serializer[Any]):
    access = serializers.CharField()
    refresh = serializers.CharField()
    user = ProfileOutputSerializer()


class RefreshInputSerializer(StrictInputSerializer):
    refresh = serializers.CharField(max_length=4096)


class TokenPairOutputSerializer(serializers.Serializer[Any]):
    access = serializers.CharField()
    refresh = serializers.CharField()


class LogoutInputSerializer(StrictInputSerializer):
    refresh_token = serializers.CharField(max_length=4096, required=False)


class PasswordChangeInputSerializer(StrictInputSerializer):
    current_password = serializers.CharField(max_length=4096, trim_whitespace=False)
    new_password = serializers.CharField(max_length=4096, trim_whitespace=False)


class PasswordChangeOutputSerializer(TokenPairOutputSerializer):
    detail = serializers.CharField()


class ProfileUpdateInputSerializer(StrictInputSerializer):
    echo_serializer = ProfileOutputSerializer

    email = serializers.EmailField(max_length=254, required=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    address = serializers.CharField(max_length=500, required=False, allow_blank=True)


class SessionOutputSerializer(CachedFieldsMixin, serializers.ModelSerializer[Any]):
    is_current = serializers.SerializerMethodField()
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = UserSession
        fields = (
            "id",
            "ip",
            "user_agent",
            "created_at",
            "last_seen_at",
            "expires_at",
            "ended_at",
            "end_reason",
            "is_active",
            "is_current",
        )
        read_only_fields = fields

    def get_is_current(self, obj: UserSession) -> bool:
        return str(obj.pk) == str(self.context.get("current_session_id"))


class UserCreateInputSerializer(StrictInputSerializer):
    username = serializers.CharField(max_length=150, validators=[validate_username])
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    address = serializers.CharField(max_length=500, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False, default=True)
    is_staff = serializers.BooleanField(required=False)


class UserUpdateInputSerializer(StrictInputSerializer):
    echo_serializer = UserOutputSerializer

    username = serializers.CharField(max_length=150, required=False, validators=[validate_username])
    email = serializers.EmailField(max_length=254, required=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    address = serializers.CharField(max_length=500, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    is_staff = serializers.BooleanField(required=False)


class ActiveCountOutputSerializer(serializers.Serializer[Any]):
    active_count = serializers.IntegerField()


class ProfileAssignmentSerializer(serializers.Serializer[Any]):
    role = serializers.CharField()
    site = serializers.UUIDField(allow_null=True)
    site_code = serializers.CharField(allow_null=True, default=None)


class EffectivePermissionsSerializer(serializers.Serializer[Any]):
    """``global``: codenames held everywhere; ``sites``: site id -> codenames held there."""

    is_superuser = serializers.BooleanField()
    locals()["global"] = serializers.ListField(child=serializers.CharField())
    sites = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ProfileWithAccessOutputSerializer(ProfileOutputSerializer):
    """The current user with their roles and effective permissions, as the access
    resolver (rbac) describes them: ``context["access"]``."""

    roles = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()

    class Meta(ProfileOutputSerializer.Meta):
        fields = (*ProfileOutputSerializer.Meta.fields, "roles", "permissions")
        read_only_fields = fields

    @extend_schema_field(ProfileAssignmentSerializer(many=True))
    def get_roles(self, obj: User) -> list[dict[str, Any]]:
        roles: list[dict[str, Any]] = self.context["access"]["roles"]
        return roles

    @extend_schema_field(EffectivePermissionsSerializer)
    def get_permissions(self, obj: User) -> dict[str, Any]:
        permissions: dict[str, Any] = self.context["access"]["permissions"]
        return permissions
