from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from rbac.enforcement import restrict
from sites.models import Site


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "gln", "country", "timezone", "is_active")
    list_filter = ("is_active", "country")
    search_fields = ("code", "name", "gln")
    readonly_fields = ("id", "created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Site]:
        return restrict(super().get_queryset(request), request.user, "site.view", "self")
