from django.contrib import admin

from core.admin_base import ReadOnlyServiceAdmin
from notifications.models import Broadcast


@admin.register(Broadcast)
class BroadcastAdmin(ReadOnlyServiceAdmin):
    """Read-only: broadcasts are made through the API, which audits them. The same
    permission as the API's (``user.update``, global)."""

    codenames = {"view": "user.update"}
    list_display = ("subject", "role_name", "site_code", "status", "sent", "total", "created_at")
    list_filter = ("status",)
    search_fields = ("subject",)
