import django_filters

from accounts.models import User


# Django-filter ships no type information.
class UserFilter(django_filters.FilterSet):  # type: ignore[misc]
    class Meta:
        model = User
        fields = ("is_active", "is_staff")


# Django-filter ships no type information.
class SessionFilter(django_filters.FilterSet):  # type: ignore[misc]
    active = django_filters.BooleanFilter(field_name="ended_at", lookup_expr="isnull")
