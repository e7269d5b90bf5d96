from django.apps import AppConfig


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
        from django.db.models.signals import post_migrate

        post_migrate.connect(_partitions_ahead, dispatch_uid="audit_partitions_ahead")


def _partitions_ahead(
    sender: AppConfig, app_config: AppConfig, using: str, **kwargs: object
) -> None:
    """migrate runs as the owner: make the next months' partitions there too, so a
    deployment without a beat scheduler still has them (audit/partitions.py)."""
    from audit.partitions import ensure_partitions

    if app_config.label == "audit" and using == "default":
        ensure_partitions()
