from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from inspections.models import Inspection
from rbac.enforcement import restrict


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    list_display = ("batch", "kind", "status", "performed_by", "performed_at")
    list_filter = ("status", "kind")
    search_fields = ("batch__batch_number", "notes")
    list_select_related = ("batch", "performed_by")
    readonly_fields = (
        "id",
        "batch",
        "status",
        "results",
        "performed_by",
        "completed_at",
        "completed_by",
        "signature",
        "supersedes",
        "correction_reason",
        "created_at",
        "updated_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Inspection]:
        return restrict(
            super().get_queryset(request), request.user, "inspection.view", "batch__site"
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # recorded through the API, with a signature on completion

    def has_change_permission(self, request: HttpRequest, obj: Inspection | None = None) -> bool:
        if obj is not None and obj.status != "pending":
            return False
        return super().has_change_permission(request, obj)
