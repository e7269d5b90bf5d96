from typing import Any

from django.contrib import admin
from django.utils.html import format_html

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
    # One line per record at 1,400 px beside the navigation and the filters: compact
    # times, identifiers and long names cut short (the whole value on hover, and on the
    # record's page).
    list_display = ("when", "action", "actor", "record", "status", "request")
    list_display_links = ("when",)
    list_filter = (KindFilter, "resource_type", "timestamp")
    search_fields = ("actor_username", "resource_id", "request_id", "path")
    date_hierarchy = "timestamp"
    ordering = ("-timestamp",)
    show_full_result_count = False

    class Media:
        css = {"all": ["audit/admin.css"]}

    @admin.display(description="time (UTC)", ordering="timestamp")
    def when(self, record: AuditLog) -> str:
        return record.timestamp.strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="actor", ordering="actor_username")
    def actor(self, record: AuditLog) -> str:
        return shortened(record.actor_username, keep=12, css="name")

    @admin.display(description="record", ordering="resource_type")
    def record(self, record: AuditLog) -> str:
        """The model's name and the record's id cut short; both whole in the title."""
        whole = f"{record.resource_type} {record.resource_id}".strip()
        name = record.resource_type.rpartition(".")[2]
        ident = record.resource_id
        ident = f"{ident[:8]}…" if len(ident) > 12 else ident
        return format_html('<span title="{}">{} {}</span>', whole, name, ident)

    @admin.display(description="HTTP", ordering="status_code")
    def status(self, record: AuditLog) -> Any:
        return record.status_code

    @admin.display(description="request", ordering="request_id")
    def request(self, record: AuditLog) -> str:
        return shortened(record.request_id)


def shortened(value: str, keep: int = 8, css: str = "identifier") -> str:
    """``value`` cut to ``keep`` characters, the whole of it in the title."""
    if len(value) <= keep + 4:
        return value
    return format_html('<span class="{}" title="{}">{}…</span>', css, value, value[:keep])


@admin.register(AuditSeal)
class AuditSealAdmin(ReadOnlyServiceAdmin):
    """The seal chain covers every site: for holders of ``audit.verify`` globally."""

    codenames = {"view": "audit.verify"}
    list_display = ("seq", "log_id", "hash", "sealed_at")
    search_fields = ("log_id", "hash")
    show_full_result_count = False
