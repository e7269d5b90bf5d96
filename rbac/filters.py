import django_filters

from rbac.models import RoleAssignment


# Django-filter ships no type information.
class RoleAssignmentFilter(django_filters.FilterSet):  # type: ignore[misc]
    is_global = django_filters.BooleanFilter(field_name="site", lookup_expr="isnull")

    class Meta:
        model = RoleAssignment
        fields = ("user", "role", "site")
