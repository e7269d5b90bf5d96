"""Roles, assignments and the permission catalogue in the admin, through rbac's services:
only a holder of every permission of a role may grant, assign or remove it."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accounts.admin import UserAdmin as AccountsUserAdmin
from accounts.models import User
from accounts.selectors import signed_in
from core.access import holds_globally
from core.admin_base import ReadOnlyServiceAdmin, ServiceAdmin, saved_nothing
from rbac import services
from rbac.models import Permission, Role, RoleAssignment


@admin.register(Permission)
class PermissionAdmin(ReadOnlyServiceAdmin):
    """The catalogue is declared in code by each app."""

    codenames = {"view": "role.view"}
    list_display = ("codename", "description")
    search_fields = ("codename", "description")


def _codenames(permissions: Any) -> list[str]:
    return sorted(p.codename for p in permissions)


@admin.register(Role)
class RoleAdmin(ServiceAdmin):
    codenames = {
        "view": "role.view",
        "add": "role.manage",
        "change": "role.manage",
        "delete": "role.manage",
    }
    list_display = ("name", "description", "is_system", "updated_at")
    search_fields = ("name", "description")
    list_filter = ("is_system",)
    filter_horizontal = ("permissions",)  # the two-pane picker
    fields = ("id", "name", "description", "permissions", "is_system", "created_at", "updated_at")
    readonly_fields = ("id", "is_system", "created_at", "updated_at")

    def can_delete(self, request: HttpRequest, obj: Role) -> bool:
        return not obj.is_system

    def create_through_service(self, request: HttpRequest, data: dict[str, Any]) -> Role:
        return services.role_create(
            actor=signed_in(request),
            name=data["name"],
            description=data.get("description", ""),
            permissions=_codenames(data.get("permissions", [])),
        )

    def update_through_service(self, request: HttpRequest, obj: Role, data: dict[str, Any]) -> Role:
        if "permissions" in data:
            data["permissions"] = _codenames(data["permissions"])
        return services.role_update(actor=signed_in(request), role=obj, data=data)

    def delete_through_service(self, request: HttpRequest, obj: Role) -> None:
        services.role_delete(actor=signed_in(request), role=obj)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ServiceAdmin):
    """Assignments are made and removed, never changed."""

    codenames = {"view": "role.view", "add": "role.manage", "delete": "role.manage"}
    fk_codenames = {"site": "site.view"}  # as in the API: the sites the user can see
    list_display = ("user", "role", "site", "created_at")
    list_filter = ("role", "site")
    search_fields = ("user__username", "role__name", "site__code")
    list_select_related = ("user", "role", "site")
    autocomplete_fields = ("user", "role")
    fields = ("user", "role", "site")

    def create_through_service(self, request: HttpRequest, data: dict[str, Any]) -> Any:
        return services.assignment_create(
            actor=signed_in(request), user=data["user"], role=data["role"], site=data.get("site")
        )

    def delete_through_service(self, request: HttpRequest, obj: RoleAssignment) -> None:
        services.assignment_delete(actor=signed_in(request), assignment=obj)


class RoleAssignmentInline(admin.TabularInline[Any, Any]):
    """A user's roles on their page: added and removed through rbac's services (the
    ``UserAdmin`` below saves them), never edited in place."""

    model = RoleAssignment
    fk_name = "user"
    extra = 0
    autocomplete_fields = ("role",)
    fields = ("role", "site", "created_at")
    readonly_fields = ("created_at",)

    def _manages(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and holds_globally(user, "role.manage"))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_staff and holds_globally(request.user, "role.view"))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._manages(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._manages(request)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "site":
            kwargs["queryset"] = db_field.related_model.objects.restrict(request.user, "site.view")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(AccountsUserAdmin):
    inlines = [RoleAssignmentInline]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not RoleAssignment:
            return super().save_formset(request, form, formset, change)
        deleted, new = [], []
        for removed in formset.deleted_forms:
            if removed.instance.pk is not None:
                services.assignment_delete(actor=signed_in(request), assignment=removed.instance)
                deleted.append(removed.instance)
        for added in formset.extra_forms:
            if added.has_changed() and added not in formset.deleted_forms:
                new.append(
                    services.assignment_create(
                        actor=signed_in(request),
                        user=form.instance,
                        role=added.cleaned_data["role"],
                        site=added.cleaned_data.get("site"),
                    )
                )
        saved_nothing(formset, new=new, deleted=deleted)
        return None
