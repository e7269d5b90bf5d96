from typing import Any

from django.contrib import admin

from audit import kinds
from audit.models import AuditLog, AuditSeal
from core.admin_base import ReadOnlyServiceAdmin


class KindFilter(admin.SimpleListFilter):
    """The registered kinds (not a DISTINCT over the whole trail)."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return kinds.choices()

    def queryset(self, request: Any, queryset: Any) -> Any:
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyServiceAdmin):
    """Read-only, like the table itself; records of other sites do not exist here."""

    codenames = {"view": "audit.view"}
    list_display = (
        "timestamp",
        "action",
        "actor_username",
        "resource_type",
        "resource_id",
        "status_code",
        "request_id",
    )
    list_filter = (KindFilter, "resource_type", "timestamp")
    search_fields = ("actor_username", "resource_id", "request_id", "path")
    date_hierarchy = "timestamp"
    ordering = ("-timestamp",)
    show_full_result_count = False


@admin.register(AuditSeal)
class AuditSealAdmin(ReadOnlyServiceAdmin):
    """The seal chain covers every site: for holders of ``audit.verify`` globally."""

    codenames = {"view": "audit.verify"}
    list_display = ("seq", "log_id", "hash", "sealed_at")
    search_fields = ("log_id", "hash")
    show_full_result_count = False
