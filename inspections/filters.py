import django_filters

from inspections.choices import InspectionKind, InspectionStatus
from inspections.models import Inspection


class InspectionFilter(django_filters.FilterSet):
    batch = django_filters.UUIDFilter(field_name="batch_id")
    status = django_filters.MultipleChoiceFilter(choices=InspectionStatus.choices)
    kind = django_filters.MultipleChoiceFilter(choices=InspectionKind.choices)
    current = django_filters.BooleanFilter(
        field_name="superseded_by", lookup_expr="isnull", label="Not superseded by a correction"
    )

    class Meta:
        model = Inspection
        fields: list[str] = []
