import django_filters

from audit import kinds
from audit.models import AuditLog


class AuditLogFilter(django_filters.FilterSet):
    actor = django_filters.UUIDFilter(field_name="actor_id")
    actor_username = django_filters.CharFilter(field_name="actor_username")
    action = django_filters.MultipleChoiceFilter(choices=kinds.choices)
    resource_type = django_filters.CharFilter(field_name="resource_type")
    resource_id = django_filters.CharFilter(field_name="resource_id")
    site = django_filters.UUIDFilter(field_name="site_id")
    request_id = django_filters.CharFilter(field_name="request_id")
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")

    class Meta:
        model = AuditLog
        fields: list[str] = []
