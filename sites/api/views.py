from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from core.cache import round_trip
from core.viewsets import ServiceUpdateMixin
from rbac.resolver import effective_permissions
from rbac.viewsets import ScopedModelViewSet
from sites import cache as site_cache
from sites import selectors, services
from sites.api.serializers import SiteInputSerializer, SiteOutputSerializer
from sites.filters import SiteFilter
from sites.models import Site


class SiteViewSet(ServiceUpdateMixin, ScopedModelViewSet):
    """Manufacturing sites. A user with a role at one site sees only that site."""

    update_input = SiteInputSerializer
    update_output = SiteOutputSerializer

    required_permissions = {
        "list": "site.view",
        "retrieve": "site.view",
        "create": "site.create",
        "update": "site.update",
        "partial_update": "site.update",
        "destroy": "site.delete",
    }
    global_actions = frozenset({"create"})  # a role at one site cannot make new sites
    serializer_class = SiteOutputSerializer
    filterset_class = SiteFilter
    search_fields = ("code", "name", "gln")
    ordering_fields = ("code", "name", "country", "created_at")
    ordering = ("code",)
    queryset = Site.objects.none()

    def base_queryset(self) -> QuerySet[Site]:
        return selectors.site_list()

    def prefetch_cache_keys(self, request: Request) -> list[str]:
        """The cached detail is read in the authentication's round trip."""
        site_id = site_cache.parse_id(self.kwargs.get("pk"))
        if self.action != "retrieve" or site_id is None:
            return []
        return list(site_cache.keys(site_id))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """From the cache when it holds the current version; permissions checked either way.

        The check is the one ``get_object`` makes (the caller may view this site); a
        site the caller may not see goes the database way and answers 404 there.
        """
        site_id = site_cache.parse_id(kwargs.get("pk"))
        trip = round_trip(request)
        values = trip.values if trip is not None else None
        if site_id is not None and effective_permissions(request.user).has(
            self.required_permissions["retrieve"], site_id
        ):
            cached = site_cache.lookup(site_id, values)
            if cached is not None:
                return Response(cached)
        site = self.get_object()
        data = self.get_serializer(site).data
        site_cache.remember(site, data, values)
        return Response(data)

    @extend_schema(request=SiteInputSerializer, responses={201: SiteOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = SiteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        site = services.site_create(**data.validated_data)
        return Response(SiteOutputSerializer(site).data, status=status.HTTP_201_CREATED)

    def apply_update(self, instance: Site, data: dict[str, Any]) -> Site:
        return services.site_update(site=instance, data=data)

    @extend_schema(responses={204: OpenApiResponse(description="Site deleted.")})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.site_delete(site=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
