import django_filters

from sites.models import Site


class SiteFilter(django_filters.FilterSet):
    class Meta:
        model = Site
        fields = ("is_active", "country", "code")
