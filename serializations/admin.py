from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from rbac.enforcement import restrict
from serializations.models import SerialJob, SerialNumber


class ReadOnlyAdmin(admin.ModelAdmin):
    """Serials change only through the API's services (bulk, audited, all or nothing)."""

    site_path = "batch__site"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return restrict(super().get_queryset(request), request.user, "serial.view", self.site_path)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SerialNumber)
class SerialNumberAdmin(ReadOnlyAdmin):
    list_display = ("id", "gtin", "serial", "batch", "status", "status_changed_at")
    list_filter = ("status",)
    # Exact matches only: a LIKE over millions of rows is no search.
    search_fields = ("=serial", "=gtin")
    list_select_related = ("batch",)
    raw_id_fields = ("batch",)
    show_full_result_count = False


@admin.register(SerialJob)
class SerialJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "batch", "count", "strategy", "status", "generated", "created_at")
    list_filter = ("status", "strategy")
    list_select_related = ("batch",)
