from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import signed_in
from notifications import services
from notifications.api import serializers as s
from notifications.models import Broadcast
from rbac.viewsets import ScopedGenericViewSet


class BroadcastViewSet(mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """E-mail broadcasts: POST queues one (202), GET its id reads the progress back.

    ``user.update`` (a global permission) for both: whoever may change every user may
    write to all of them.
    """

    http_method_names = ["get", "post", "head", "options"]
    required_permissions = {"create": "user.update", "retrieve": "user.update"}
    serializer_class = s.BroadcastOutputSerializer
    queryset = Broadcast.objects.none()
    filter_backends: list[Any] = []

    def base_queryset(self) -> QuerySet[Broadcast]:
        return Broadcast.objects.select_related("created_by")

    @extend_schema(
        request=s.BroadcastCreateInputSerializer,
        responses={202: s.BroadcastOutputSerializer},
        summary="E-mail every active user of a role and/or site (a background job)",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.BroadcastCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        broadcast = services.broadcast_create(
            actor=signed_in(request),
            subject=data.validated_data["subject"],
            body=data.validated_data["body"],
            role=data.validated_data.get("role"),
            site=data.validated_data.get("site"),
        )
        body = s.BroadcastOutputSerializer(broadcast).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})
