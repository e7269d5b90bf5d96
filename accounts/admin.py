from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from accounts.models import ElectronicSignature, User, UserSession


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "is_active",
        "is_staff",
        "last_login",
        "created_at",
    )
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("username", "email", "first_name", "last_name")
    ordering = ("username",)
    readonly_fields = ("id", "last_login", "date_joined", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("id", "username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email", "phone", "address")}),
        ("Status", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),
    )


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "ip",
        "created_at",
        "last_seen_at",
        "expires_at",
        "ended_at",
        "end_reason",
    )
    list_filter = ("end_reason",)
    search_fields = ("user__username", "ip", "user_agent")
    list_select_related = ("user",)
    readonly_fields = (
        "id",
        "user",
        "refresh_jti",
        "ip",
        "user_agent",
        "created_at",
        "last_seen_at",
        "expires_at",
        "ended_at",
        "end_reason",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ElectronicSignature)
class ElectronicSignatureAdmin(admin.ModelAdmin):
    list_display = ("signed_at", "printed_name", "meaning", "record_type", "record_id")
    list_filter = ("meaning", "record_type")
    search_fields = ("printed_name", "record_id", "signer__username")
    readonly_fields = (
        "id",
        "signer",
        "printed_name",
        "signed_at",
        "meaning",
        "reason",
        "record_type",
        "record_id",
        "content_hash",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
