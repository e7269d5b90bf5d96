"""Permission codenames checked by the accounts app (synced into the rbac catalogue)."""

PERMISSIONS = {
    "user.view": "See user accounts",
    "user.create": "Create user accounts",
    "user.update": "Change user accounts",
    "user.deactivate": "Deactivate user accounts (records stay)",
}
