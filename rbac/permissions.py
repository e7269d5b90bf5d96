"""Permission codenames checked by the rbac app; roles are not tied to a site."""

from core.access import GLOBAL, Codename, declare

PERMISSIONS = declare(
    Codename(
        "role.view",
        "See roles, their permissions and who holds them",
        scope=GLOBAL,
        roles={"auditor"},
    ),
    Codename("role.manage", "Create, change and delete roles and role assignments", scope=GLOBAL),
)
