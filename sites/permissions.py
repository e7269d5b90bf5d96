"""Permission codenames checked by the sites app (synced into the rbac catalogue)."""

from core.access import Codename, declare

PERMISSIONS = declare(
    Codename("site.view", "See manufacturing sites", roles={"qa", "operator", "auditor"}),
    Codename("site.create", "Create manufacturing sites"),
    Codename("site.update", "Change manufacturing sites"),
    Codename("site.delete", "Delete manufacturing sites that nothing refers to"),
)
