"""Permission codenames checked by the audit app."""

from core.access import Codename, declare

PERMISSIONS = declare(
    Codename("audit.view", "Read the audit trail of one's sites", roles={"qa", "auditor"}),
    Codename("audit.verify", "Verify the audit trail's seal chain", roles={"auditor"}),
)
