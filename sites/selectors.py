from django.db.models import QuerySet

from sites.models import Site


def site_list() -> QuerySet[Site]:
    return Site.objects.order_by("code")
