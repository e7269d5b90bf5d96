from django.contrib import admin

from notifications.models import Broadcast


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin):
    """Read-only: broadcasts are made through the API, which audits them."""

    list_display = ("subject", "role_name", "site_code", "status", "sent", "total", "created_at")
    list_filter = ("status",)
    search_fields = ("subject",)

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
