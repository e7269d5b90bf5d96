from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from audit.models import AuditLog, AuditSeal
from rbac.enforcement import restrict


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = (
        "timestamp",
        "action",
        "actor_username",
        "resource_type",
        "resource_id",
        "status_code",
        "request_id",
    )
    list_filter = ("action", "resource_type", "timestamp")
    search_fields = ("actor_username", "resource_id", "request_id", "path")
    date_hierarchy = "timestamp"
    ordering = ("-timestamp",)
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditLog]:
        return restrict(super().get_queryset(request), request.user, "audit.view", "site")


@admin.register(AuditSeal)
class AuditSealAdmin(ReadOnlyAdmin):
    list_display = ("seq", "log_id", "hash", "sealed_at")
    search_fields = ("log_id", "hash")
    show_full_result_count = False
