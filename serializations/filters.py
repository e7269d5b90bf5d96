import django_filters
from django import forms

from serializations.choices import ContainerKind, ContainerStatus, SerialStatus
from serializations.models import Container, SerialNumber

BIGINT_MAX = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class SerialFilter(django_filters.FilterSet):
    batch = django_filters.UUIDFilter(field_name="batch_id")
    status = django_filters.MultipleChoiceFilter(choices=SerialStatus.choices)
    gtin = django_filters.CharFilter(field_name="gtin", max_length=14)
    id_min = IdFilter(field_name="id", lookup_expr="gte", min_value=0, max_value=BIGINT_MAX)
    id_max = IdFilter(field_name="id", lookup_expr="lte", min_value=0, max_value=BIGINT_MAX)

    class Meta:
        model = SerialNumber
        fields: list[str] = []


class ContainerFilter(django_filters.FilterSet):
    site = django_filters.UUIDFilter(field_name="site_id")
    kind = django_filters.ChoiceFilter(choices=ContainerKind.choices)
    status = django_filters.ChoiceFilter(choices=ContainerStatus.choices)
    batch = django_filters.UUIDFilter(field_name="batch_id")
    parent = django_filters.CharFilter(field_name="parent__sscc", max_length=18)
    top_level = django_filters.BooleanFilter(
        field_name="parent", lookup_expr="isnull", label="In no other container"
    )

    class Meta:
        model = Container
        fields: list[str] = []
