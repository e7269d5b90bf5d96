"""Users, sessions and signatures in the admin: the same services and rules as the API.

Who may change what is decided by ``accounts.services.editable_user_fields``, the rule
the user API follows too: nobody changes their own access flags, superuser status is a
superuser's to give, and a superuser's account is a superuser's to change. Deactivation
and password resets are services too (every session of the user ends).
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts import services
from accounts.models import SIGNATURE_FIELDS, ElectronicSignature, User, UserSession
from accounts.selectors import signed_in
from core.admin_base import REFUSALS, ReadOnlyServiceAdmin, ServiceAdmin, action_with_form

PERSON_FIELDS = ("first_name", "last_name", "email", "phone", "address")
RECORD_FIELDS = ("id", "last_login", "date_joined", "created_at", "updated_at")


class UserAddForm(UserCreationForm[User]):
    """Username, e-mail and a password that the password validators accept."""

    # The stubs do not declare UserCreationForm.Meta.
    class Meta(UserCreationForm.Meta):  # type: ignore[misc, name-defined]
        model = User
        fields = ("username", "email")


@admin.register(User)
class UserAdmin(ServiceAdmin, DjangoUserAdmin[User]):
    codenames = {"view": "user.view", "add": "user.create", "change": "user.update"}
    add_form = UserAddForm
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "is_active",
        "is_staff",
        "last_login",
        "created_at",
    )
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("username", "email", "first_name", "last_name")
    ordering = ("username",)
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("id", "username", "password")}),
        ("Person", {"fields": PERSON_FIELDS}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),
    )
    actions = ("deactivate_users",)

    def editable(self, request: HttpRequest, obj: User | None) -> tuple[str, ...]:
        return services.editable_user_fields(actor=signed_in(request), user=obj)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> Any:
        if obj is None:
            return ()
        editable = {*self.editable(request, obj), "password"}  # a link to its own page
        every = [f for _, options in self.fieldsets for f in options["fields"]]
        return tuple(f for f in every if f not in editable or f in RECORD_FIELDS)

    def can_change(self, request: HttpRequest, obj: User) -> bool:
        return services.may_manage(signed_in(request), obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # users are deactivated, never deleted: their records stay

    def has_deactivate_permission(self, request: HttpRequest) -> bool:
        return self._holds_codename(request, "user.deactivate")

    def create_through_service(self, request: HttpRequest, data: dict[str, Any]) -> User:
        return services.user_create(
            username=data["username"], email=data["email"], password=data["password1"]
        )

    def update_through_service(self, request: HttpRequest, obj: User, data: dict[str, Any]) -> User:
        return services.user_update(
            actor=signed_in(request), user=obj, data=data, allowed=self.editable(request, obj)
        )

    @admin.action(description="Deactivate the selected users", permissions=["deactivate"])
    def deactivate_users(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        return action_with_form(
            self,
            request,
            queryset,
            codename="user.deactivate",
            form_class=forms.Form,
            title="Deactivate users",
            explanation="Each user's sessions end; their records stay.",
            one=False,
            apply=lambda user, _: services.user_deactivate(actor=signed_in(request), user=user),
        )

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """Django's page, with the password set by the service (which ends every session
        of the user and checks who may reset whose password)."""
        if request.method != "POST":
            return super().user_change_password(request, id, form_url)
        user = self.get_object(request, unquote(id))
        if user is None:
            raise Http404("Not found.")
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        form = self.change_password_form(user, request.POST)
        if not form.is_valid():
            return super().user_change_password(request, id, form_url)  # shows the errors
        usable = form.cleaned_data.get("set_usable_password", True)
        try:
            services.user_password_set(
                actor=signed_in(request),
                user=user,
                new_password=form.cleaned_data["password1"] if usable else None,
            )
        except REFUSALS as exc:
            return self._refused(request, exc)
        self.message_user(request, "Password changed; the user's sessions ended.")
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:accounts_user_change", args=(user.pk,))
        )


@admin.register(UserSession)
class UserSessionAdmin(ReadOnlyServiceAdmin):
    codenames = {"view": "user.view"}
    list_display = (
        "user",
        "ip",
        "created_at",
        "last_seen_at",
        "expires_at",
        "ended_at",
        "end_reason",
    )
    list_filter = ("end_reason",)
    search_fields = ("user__username", "ip", "user_agent")
    list_select_related = ("user",)
    readonly_fields = (
        "id",
        "user",
        "refresh_jti",
        "ip",
        "user_agent",
        "created_at",
        "last_seen_at",
        "expires_at",
        "ended_at",
        "end_reason",
    )


@admin.register(ElectronicSignature)
class ElectronicSignatureAdmin(ReadOnlyServiceAdmin):
    """Signatures sign records of every site: for holders of ``audit.view`` globally."""

    codenames = {"view": "audit.view"}
    list_display = ("signed_at", "printed_name", "meaning", "record_type", "record_id")
    list_filter = ("meaning", "record_type")
    search_fields = ("printed_name", "record_id", "signer__username")
    readonly_fields = SIGNATURE_FIELDS
