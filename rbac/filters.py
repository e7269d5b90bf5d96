import django_filters

from rbac.models import RoleAssignment


class RoleAssignmentFilter(django_filters.FilterSet):
    is_global = django_filters.BooleanFilter(field_name="site", lookup_expr="isnull")

    class Meta:
        model = RoleAssignment
        fields = ("user", "role", "site")
