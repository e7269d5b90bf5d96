"""Permission codenames checked by the sites app (synced into the rbac catalogue)."""

PERMISSIONS = {
    "site.view": "See manufacturing sites",
    "site.create": "Create manufacturing sites",
    "site.update": "Change manufacturing sites",
    "site.delete": "Delete manufacturing sites that nothing refers to",
}
