from django.contrib import admin

from core.admin_base import ReadOnlyServiceAdmin
from serializations.models import Container, EPCISEvent, SerialJob, SerialNumber


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


@admin.register(Container)
class ContainerAdmin(ReadOnlyServiceAdmin):
    """Cases and pallets are packed, unpacked and shipped by the packaging line through
    the API (all or nothing, with their EPCIS events); the admin shows them."""

    codenames = {"view": "container.view"}
    list_display = ("sscc", "kind", "site", "batch", "parent", "status", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("=sscc",)
    list_select_related = ("site", "batch", "parent")
    raw_id_fields = ("batch", "parent")


@admin.register(EPCISEvent)
class EPCISEventAdmin(ReadOnlyServiceAdmin):
    """The EPCIS events as stored: append-only."""

    codenames = {"view": "serial.view"}
    list_display = ("id", "event_type", "action", "biz_step", "disposition", "site", "event_time")
    list_filter = ("event_type", "action", "biz_step")
    search_fields = ("=event_id",)
    list_select_related = ("site",)
    raw_id_fields = ("batch",)
    show_full_result_count = False
