from django.contrib import admin

from reports.models import DailyReportDispatch


@admin.register(DailyReportDispatch)
class DailyReportDispatchAdmin(admin.ModelAdmin):
    list_display = ("day", "site", "recipients", "queued_at")
    list_filter = ("day",)
    readonly_fields = ("day", "site", "recipients", "queued_at")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
