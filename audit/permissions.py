"""Permission codenames checked by the audit app."""

PERMISSIONS = {
    "audit.view": "Read the audit trail of one's sites",
    "audit.verify": "Verify the audit trail's seal chain",
}
