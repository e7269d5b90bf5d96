from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.admin_base import ServiceAdmin
from sites import services
from sites.models import Site


@admin.register(Site)
class SiteAdmin(ServiceAdmin):
    """Sites, through the same services (and refusals) as ``/api/sites/``."""

    codenames = {
        "view": "site.view",
        "add": "site.create",
        "change": "site.update",
        "delete": "site.delete",
    }
    global_actions = frozenset({"add"})  # a role at one site cannot make new sites
    list_display = ("code", "name", "gln", "country", "timezone", "is_active")
    list_filter = ("is_active", "country")
    search_fields = ("code", "name", "gln")
    readonly_fields = ("id", "created_at", "updated_at")
    fields = ("id", *services.SITE_FIELDS, "created_at", "updated_at")

    def create_through_service(self, request: HttpRequest, data: dict[str, Any]) -> Site:
        return services.site_create(**data)

    def update_through_service(self, request: HttpRequest, obj: Site, data: dict[str, Any]) -> Site:
        return services.site_update(site=obj, data=data)

    def delete_through_service(self, request: HttpRequest, obj: Site) -> None:
        services.site_delete(site=obj)
