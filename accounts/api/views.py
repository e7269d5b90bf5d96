from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api import serializers as s
from accounts.filters import SessionFilter, UserFilter
from accounts.models import User, UserSession
from accounts.selectors import signed_in
from accounts.tokens import SESSION_CLAIM
from core.access import holds_globally, log_denied, resolver
from core.schema import ErrorSerializer
from core.viewsets import ListFiltersOnlyMixin, ServiceUpdateMixin

INACTIVE_NEEDS_UPDATE = (
    "Creating an inactive account needs user.update as well as user.create "
    "(without it, is_active may only be true)."
)


def current_session_id(request: Request) -> str | None:
    token = request.auth
    try:
        # An AccessToken is read by claim name.
        return str(token[SESSION_CLAIM]) if token is not None else None  # type: ignore[index]
    except (KeyError, TypeError):
        return None


class PublicAuthView(APIView):
    """Unauthenticated endpoints whose credential errors are still 401, not 403."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class LoginView(PublicAuthView):
    """Sign in with username and password; failures count toward a temporary lockout."""

    @extend_schema(
        request=s.LoginInputSerializer,
        responses={
            200: s.LoginOutputSerializer,
            401: OpenApiResponse(ErrorSerializer, description="Wrong username or password."),
        },
        summary="Obtain an access and a refresh token",
    )
    def post(self, request: Request) -> Response:
        data = s.LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, tokens = services.auth_login(
            request=request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        body = {
            "access": tokens.access,
            "refresh": tokens.refresh,
            "user": s.ProfileOutputSerializer(user).data,
        }
        return Response(body)


class RefreshView(PublicAuthView):
    """Rotate a refresh token: the old one is blacklisted; a reused token is refused."""

    @extend_schema(
        request=s.RefreshInputSerializer,
        responses={
            200: s.TokenPairOutputSerializer,
            401: OpenApiResponse(
                ErrorSerializer, description="Invalid, expired, revoked or already used token."
            ),
        },
        summary="Exchange a refresh token for a new pair",
    )
    def post(self, request: Request) -> Response:
        data = s.RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = services.auth_refresh(raw_refresh=data.validated_data["refresh"])
        return Response({"access": tokens.access, "refresh": tokens.refresh})


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=s.LogoutInputSerializer,
        responses={204: OpenApiResponse(description="Signed out.")},
        summary="Blacklist the refresh token and end its session (else the current one)",
    )
    def post(self, request: Request) -> Response:
        data = s.LogoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.auth_logout(
            request=request._request,
            user=signed_in(request),
            current_session_id=current_session_id(request),
            raw_refresh=data.validated_data.get("refresh_token"),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def render_profile(user: User) -> dict[str, Any]:
    """What ``auth/profile/`` shows: the user, their roles and effective permissions (as
    the access resolver describes them; accounts imports nothing of rbac)."""
    context = {"access": resolver().access_of(user)}
    return dict(s.ProfileWithAccessOutputSerializer(user, context=context).data)


class ProfileView(APIView):
    """The current user, with role assignments and effective permissions."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.ProfileWithAccessOutputSerializer}, summary="The current user")
    def get(self, request: Request) -> Response:
        return Response(render_profile(signed_in(request)))


class ProfileUpdateView(APIView):
    """Own names, phone, address and e-mail; roles and flags are read-only."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=s.ProfileUpdateInputSerializer,
        responses={200: s.ProfileWithAccessOutputSerializer},
        summary="Replace own profile fields",
    )
    def put(self, request: Request) -> Response:
        return self._update(request, partial=False)

    @extend_schema(
        request=s.ProfileUpdateInputSerializer,
        responses={200: s.ProfileWithAccessOutputSerializer},
        summary="Change own profile fields",
    )
    def patch(self, request: Request) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        data = s.ProfileUpdateInputSerializer(
            data=request.data, partial=partial, echo_data=render_profile(signed_in(request))
        )
        data.is_valid(raise_exception=True)
        user = services.profile_update(user=signed_in(request), data=dict(data.validated_data))
        return Response(render_profile(user))


class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=s.PasswordChangeInputSerializer,
        responses={200: s.PasswordChangeOutputSerializer},
        summary="Change own password; every other session ends",
        description=(
            "Every token issued before the change is revoked, the caller's included; the "
            "response carries a fresh pair for the caller's session."
        ),
    )
    def post(self, request: Request) -> Response:
        data = s.PasswordChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = services.password_change(
            request=request._request,
            user=signed_in(request),
            current_password=data.validated_data["current_password"],
            new_password=data.validated_data["new_password"],
            current_session_id=current_session_id(request),
        )
        return Response(
            {"detail": "Password changed.", "access": tokens.access, "refresh": tokens.refresh}
        )


class SessionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    ListFiltersOnlyMixin,
    viewsets.GenericViewSet[Any],
):
    """The caller's own sessions; DELETE ends one."""

    permission_classes = [IsAuthenticated]
    serializer_class = s.SessionOutputSerializer
    filterset_class = SessionFilter
    ordering_fields = ("created_at", "last_seen_at")
    ordering = ("-created_at",)
    search_fields = ("user_agent",)
    queryset = UserSession.objects.none()

    def get_queryset(self) -> QuerySet[UserSession]:
        if getattr(self, "swagger_fake_view", False):
            return UserSession.objects.none()
        return selectors.session_list(user=signed_in(self.request))

    def get_serializer_context(self) -> dict[str, Any]:
        return {
            **super().get_serializer_context(),
            "current_session_id": current_session_id(self.request),
        }

    @extend_schema(responses={204: OpenApiResponse(description="Session ended.")})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.session_end(session=self.get_object(), reason="ended_by_user")
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserViewSet(ServiceUpdateMixin, ListFiltersOnlyMixin, viewsets.ModelViewSet[Any]):
    """User management. DELETE deactivates: the user's records stay.

    Guarded by the project's default permission class (rbac), which reads
    ``required_permissions``; users are not tied to a site.
    """

    update_input = s.UserUpdateInputSerializer
    update_output = s.UserOutputSerializer

    required_permissions = {
        "list": "user.view",
        "retrieve": "user.view",
        "active_count": "user.view",
        "create": "user.create",
        "update": "user.update",
        "partial_update": "user.update",
        "destroy": "user.deactivate",
    }
    serializer_class = s.UserOutputSerializer
    filterset_class = UserFilter
    search_fields = ("username", "email", "first_name", "last_name")
    ordering_fields = ("username", "email", "last_name", "created_at", "last_login")
    ordering = ("username",)
    queryset = User.objects.none()

    def get_queryset(self) -> QuerySet[User]:
        return selectors.user_list()

    @extend_schema(request=s.UserCreateInputSerializer, responses={201: s.UserOutputSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Create a user; a new account is active unless ``is_active`` is false.

        ``is_active`` is the account state that ``user.update`` governs: a caller with
        ``user.create`` alone may send it only as true (what a new account is anyway).
        An account created inactive gets no welcome e-mail (it cannot sign in yet).
        """
        data = s.UserCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not data.validated_data["is_active"] and not holds_globally(request.user, "user.update"):
            log_denied(request.user, "user.update", method=request.method or "")
            raise exceptions.PermissionDenied(INACTIVE_NEEDS_UPDATE)
        user = services.user_create(**data.validated_data)
        return Response(s.UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)

    def apply_update(self, instance: User, data: dict[str, Any]) -> User:
        return services.user_update(
            actor=signed_in(self.request),
            user=instance,
            data=data,
            allowed=services.ADMIN_EDITABLE_FIELDS,
        )

    @extend_schema(responses={204: OpenApiResponse(description="User deactivated.")})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.user_deactivate(actor=signed_in(request), user=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: s.ActiveCountOutputSerializer}, filters=False)
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def active_count(self, request: Request) -> Response:
        return Response({"active_count": selectors.active_user_count()})
