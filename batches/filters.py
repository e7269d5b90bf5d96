import django_filters

from batches.choices import BatchStatus
from batches.models import Batch, Product


class ProductFilter(django_filters.FilterSet):
    class Meta:
        model = Product
        fields = ("is_active", "gtin", "dosage_form")


class BatchFilter(django_filters.FilterSet):
    site = django_filters.UUIDFilter(field_name="site_id")
    product = django_filters.UUIDFilter(field_name="product_id")
    status = django_filters.MultipleChoiceFilter(choices=BatchStatus.choices)
    manufactured_after = django_filters.DateFilter(
        field_name="manufacturing_date", lookup_expr="gte"
    )
    manufactured_before = django_filters.DateFilter(
        field_name="manufacturing_date", lookup_expr="lte"
    )
    expires_after = django_filters.DateFilter(field_name="expiry_date", lookup_expr="gte")
    expires_before = django_filters.DateFilter(field_name="expiry_date", lookup_expr="lte")

    class Meta:
        model = Batch
        fields: list[str] = []
