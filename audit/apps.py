from typing import Any

from django.apps import AppConfig
from django.core import checks


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import receivers, registry, security

        registry.register_label("accounts.User", exclude={"auth_version", "last_login"})
        registry.register_label("accounts.UserSession", exclude={"refresh_jti"})
        registry.register_label("rbac.Permission")
        registry.register_label("rbac.Role", exclude={"synced_permissions"})
        registry.register_label("rbac.RoleAssignment")
        registry.register_label("accounts.ElectronicSignature", create_action="esignature")
        receivers.connect()
        security.connect()
        from audit import metrics
        from core.metrics import register_collector

        register_collector(metrics.collect)
        checks.register(check_witness, checks.Tags.security)


def check_witness(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Without a witness the newest seals and their records can be deleted together and
    verify cannot tell; production requires one (AUDIT_WITNESS_REQUIRED)."""
    from django.conf import settings

    if not settings.AUDIT_WITNESS_REQUIRED or (
        settings.AUDIT_WITNESS_PATH or settings.AUDIT_WITNESS_URL
    ):
        return []
    return [
        checks.Warning(
            "No witness of the audit seal chain: deleting the newest seals with their "
            "records would go unnoticed.",
            hint="Set AUDIT_WITNESS_PATH (a file on another volume than the database's) "
            "and/or AUDIT_WITNESS_URL (s3://bucket/prefix).",
            id="audit.W001",
        )
    ]
