"""Permission codenames checked by the accounts app (synced into the rbac catalogue).

Users are not tied to a site: only a global assignment grants these."""

from core.access import GLOBAL, Codename, declare

PERMISSIONS = declare(
    Codename("user.view", "See user accounts", scope=GLOBAL, roles={"auditor"}),
    Codename("user.create", "Create user accounts", scope=GLOBAL),
    Codename("user.update", "Change user accounts", scope=GLOBAL),
    Codename("user.deactivate", "Deactivate user accounts (records stay)", scope=GLOBAL),
)
