from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RbacConfig(AppConfig):
    name = "rbac"
    verbose_name = "Roles and permissions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.access import register_resolver
        from rbac import signals
        from rbac.catalogue import sync_after_migrate
        from rbac.enforcement import RESOLVER

        register_resolver(RESOLVER)
        post_migrate.connect(sync_after_migrate, dispatch_uid="rbac_sync_catalogue")
        signals.connect()
