from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import signed_in
from core.viewsets import ServiceUpdateMixin
from rbac import selectors, services
from rbac.api import serializers as s
from rbac.filters import RoleAssignmentFilter
from rbac.models import Permission, Role, RoleAssignment
from rbac.viewsets import ScopedGenericViewSet, ScopedModelViewSet, ScopedReadOnlyViewSet


class PermissionViewSet(ScopedReadOnlyViewSet):
    """The permission catalogue (declared in code, synced on migrate)."""

    required_permissions = {"list": "role.view", "retrieve": "role.view"}
    serializer_class = s.PermissionOutputSerializer
    search_fields = ("codename", "description")
    ordering_fields = ("codename",)
    filterset_fields = ("codename",)
    lookup_field = "codename"
    lookup_value_regex = r"[a-z_]+\.[a-z_]+"
    queryset = Permission.objects.none()

    def base_queryset(self) -> QuerySet[Permission]:
        return selectors.permission_list()


class RoleViewSet(ServiceUpdateMixin, ScopedModelViewSet):
    """Roles are data: any set of permissions, composed without a code change."""

    update_input = s.RoleInputSerializer
    update_output = s.RoleOutputSerializer

    required_permissions = {
        "list": "role.view",
        "retrieve": "role.view",
        "create": "role.manage",
        "update": "role.manage",
        "partial_update": "role.manage",
        "destroy": "role.manage",
    }
    serializer_class = s.RoleOutputSerializer
    search_fields = ("name", "description")
    ordering_fields = ("name", "created_at")
    filterset_fields = ("is_system",)
    queryset = Role.objects.none()

    def base_queryset(self) -> QuerySet[Role]:
        return selectors.role_list()

    @extend_schema(request=s.RoleInputSerializer, responses={201: s.RoleOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.RoleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        role = services.role_create(actor=signed_in(request), **data.validated_data)
        return Response(s.RoleOutputSerializer(role).data, status=status.HTTP_201_CREATED)

    def apply_update(self, instance: Role, data: dict[str, Any]) -> Role:
        role = services.role_update(actor=signed_in(self.request), role=instance, data=data)
        return selectors.role_list().get(pk=role.pk)

    @extend_schema(responses={204: OpenApiResponse(description="Role deleted.")})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.role_delete(actor=signed_in(request), role=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleAssignmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    ScopedGenericViewSet,
):
    """Who holds which role, globally (``site`` null) or at one site."""

    required_permissions = {
        "list": "role.view",
        "retrieve": "role.view",
        "create": "role.manage",
        "destroy": "role.manage",
    }
    serializer_class = s.AssignmentOutputSerializer
    filterset_class = RoleAssignmentFilter
    search_fields = ("user__username", "role__name", "site__code")
    ordering_fields = ("created_at",)
    queryset = RoleAssignment.objects.none()

    def base_queryset(self) -> QuerySet[RoleAssignment]:
        return selectors.assignment_list()

    @extend_schema(
        request=s.AssignmentInputSerializer, responses={201: s.AssignmentOutputSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        site_model = apps.get_model("sites", "Site")
        visible_sites = site_model.objects.restrict(request.user, "site.view")
        data = s.AssignmentInputSerializer(data=request.data, site_queryset=visible_sites)
        data.is_valid(raise_exception=True)
        assignment = services.assignment_create(
            actor=signed_in(request),
            user=data.validated_data["user"],
            role=data.validated_data["role"],
            site=data.validated_data.get("site"),
        )
        assignment = selectors.assignment_list().get(pk=assignment.pk)
        return Response(
            s.AssignmentOutputSerializer(assignment).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(responses={204: OpenApiResponse(description="Assignment removed.")})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.assignment_delete(actor=signed_in(request), assignment=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
