from django.contrib import admin

from core.admin_base import ReadOnlyServiceAdmin
from serializations.models import SerialJob, SerialNumber


class SerialsAdmin(ReadOnlyServiceAdmin):
    """Serials change only through the API's services (bulk, audited, all or nothing)."""

    codenames = {"view": "serial.view"}


@admin.register(SerialNumber)
class SerialNumberAdmin(SerialsAdmin):
    list_display = ("id", "gtin", "serial", "batch", "status", "status_changed_at")
    list_filter = ("status",)
    # Exact matches only: a LIKE over millions of rows is no search.
    search_fields = ("=serial", "=gtin")
    list_select_related = ("batch",)
    raw_id_fields = ("batch",)
    show_full_result_count = False


@admin.register(SerialJob)
class SerialJobAdmin(SerialsAdmin):
    list_display = ("id", "batch", "count", "strategy", "status", "generated", "created_at")
    list_filter = ("status", "strategy")
    list_select_related = ("batch",)
