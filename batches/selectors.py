from __future__ import annotations

from django.db.models import QuerySet

from batches.models import Batch, Product


def product_list() -> QuerySet[Product]:
    return Product.objects.order_by("name", "gtin")


def batch_list() -> QuerySet[Batch]:
    """What a list page shows: the batch, its product and site, in one query."""
    return Batch.objects.select_related("product", "site").only(
        "id",
        "batch_number",
        "status",
        "planned_quantity",
        "produced_quantity",
        "manufacturing_date",
        "expiry_date",
        "created_at",
        "updated_at",
        "site_id",
        "product_id",
        "product__id",
        "product__gtin",
        "product__name",
        "product__strength",
        "site__id",
        "site__code",
    )


def batch_detail() -> QuerySet[Batch]:
    return Batch.objects.select_related(
        "product",
        "site",
        "created_by",
        "started_by",
        "completed_by",
        "released_by",
        "rejected_by",
        "release_signature",
        "rejection_signature",
    )
