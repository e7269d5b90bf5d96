from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from batches.models import Batch, Product
from rbac.enforcement import restrict


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "strength", "dosage_form", "gtin", "is_active")
    list_filter = ("is_active", "dosage_form")
    search_fields = ("name", "gtin")
    readonly_fields = ("id", "created_at", "updated_at")


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    """Status and signatures are read-only here: transitions happen only through the API."""

    list_display = (
        "batch_number",
        "product",
        "site",
        "status",
        "manufacturing_date",
        "expiry_date",
    )
    list_filter = ("status", "site")
    search_fields = ("batch_number", "product__name", "product__gtin")
    list_select_related = ("product", "site")
    readonly_fields = (
        "id",
        "status",
        "created_by",
        "started_at",
        "started_by",
        "completed_at",
        "completed_by",
        "released_at",
        "released_by",
        "rejected_at",
        "rejected_by",
        "release_signature",
        "rejection_signature",
        "created_at",
        "updated_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Batch]:
        return restrict(super().get_queryset(request), request.user, "batch.view", "site")

    def has_change_permission(self, request: HttpRequest, obj: Batch | None = None) -> bool:
        if obj is not None and obj.status in ("released", "rejected"):
            return False
        return super().has_change_permission(request, obj)
