"""Permission codenames checked by the rbac app."""

PERMISSIONS = {
    "role.view": "See roles, their permissions and who holds them",
    "role.manage": "Create, change and delete roles and role assignments",
}

# Resources that are not tied to a site: only a global assignment grants them.
GLOBAL_RESOURCES = frozenset({"user", "role", "product"})
