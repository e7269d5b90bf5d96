from django.contrib import admin

from core.admin_base import ReadOnlyServiceAdmin
from reports.models import DailyReportDispatch


@admin.register(DailyReportDispatch)
class DailyReportDispatchAdmin(ReadOnlyServiceAdmin):
    """Which daily reports went out: for holders of ``audit.view`` at the site, like the
    report itself."""

    codenames = {"view": "audit.view"}
    list_display = ("day", "site", "recipients", "queued_at")
    list_filter = ("day",)
    readonly_fields = ("day", "site", "recipients", "queued_at")
