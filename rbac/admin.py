from django.contrib import admin
from django.http import HttpRequest

from accounts.admin import UserAdmin as AccountsUserAdmin
from accounts.models import User
from rbac.models import Permission, Role, RoleAssignment


@admin.register(Permission)
class PermissionAdmin(admin.ModelAdmin):
    list_display = ("codename", "description")
    search_fields = ("codename", "description")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the catalogue is declared in code

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "is_system", "updated_at")
    search_fields = ("name", "description")
    list_filter = ("is_system",)
    filter_horizontal = ("permissions",)  # the two-pane picker
    readonly_fields = ("id", "is_system", "created_at", "updated_at")

    def has_delete_permission(self, request: HttpRequest, obj: Role | None = None) -> bool:
        if obj is not None and obj.is_system:
            return False
        return super().has_delete_permission(request, obj)


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    extra = 0
    autocomplete_fields = ("role",)
    fields = ("role", "site", "created_at")
    readonly_fields = ("created_at",)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "site", "created_at")
    list_filter = ("role", "site")
    search_fields = ("user__username", "role__name", "site__code")
    list_select_related = ("user", "role", "site")
    autocomplete_fields = ("user", "role")


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(AccountsUserAdmin):
    inlines = [RoleAssignmentInline]
