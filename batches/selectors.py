from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from batches.models import Batch, Product


def product_list() -> QuerySet[Product]:
    return Product.objects.order_by("name", "gtin")


def batch_list() -> QuerySet[Batch]:
    """The list's rows; the list reads exactly ``LIST_VALUES`` from them as plain values."""
    return Batch.objects.select_related("product", "site")


# What a batch's detail reads beside the row: its product and site, who took each step,
# and the signatures (the API's detail, the admin's review page).
DETAIL_RELATED = (
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


def batch_detail() -> QuerySet[Batch]:
    return Batch.objects.select_related(*DETAIL_RELATED)


# Exactly what a list row shows (``BatchListOutputSerializer``), read as plain values.
LIST_VALUES = (
    "id",
    "batch_number",
    "status",
    "planned_quantity",
    "produced_quantity",
    "manufacturing_date",
    "expiry_date",
    "site_id",
    "site__code",
    "product_id",
    "product__gtin",
    "product__name",
    "product__strength",
)


def batch_rows(values: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """List rows from ``.values(*LIST_VALUES)``, shaped like ``BatchListOutputSerializer``.

    A list page of 50 batches spends most of its time building serializer fields and
    model instances; this builds the same JSON from plain values.
    """
    return [
        {
            "id": str(v["id"]),
            "batch_number": v["batch_number"],
            "product": {
                "id": str(v["product_id"]),
                "gtin": v["product__gtin"],
                "name": v["product__name"],
                "strength": v["product__strength"],
            },
            "site": str(v["site_id"]),
            "site_code": v["site__code"],
            "status": v["status"],
            "planned_quantity": v["planned_quantity"],
            "produced_quantity": v["produced_quantity"],
            "manufacturing_date": v["manufacturing_date"].isoformat(),
            "expiry_date": v["expiry_date"].isoformat(),
        }
        for v in values
    ]


class CountedValues:
    """A page source for the paginator: counts the plain queryset (no joins), slices
    the joined values. ``QuerySet.values()`` with related fields would count through
    the joins too."""

    ordered = True

    def __init__(self, queryset: QuerySet[Batch], fields: Iterable[str]) -> None:
        self.queryset = queryset
        self.values = queryset.values(*fields)

    def count(self) -> int:
        return self.queryset.order_by().count()

    def __getitem__(self, key: Any) -> Any:
        return self.values[key]

    def __len__(self) -> int:
        return self.count()
