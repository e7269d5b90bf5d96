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
