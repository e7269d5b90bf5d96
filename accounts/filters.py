import django_filters

from accounts.models import User


class UserFilter(django_filters.FilterSet):
    class Meta:
        model = User
        fields = ("is_active", "is_staff")


class SessionFilter(django_filters.FilterSet):
    active = django_filters.BooleanFilter(field_name="ended_at", lookup_expr="isnull")
