from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RbacConfig(AppConfig):
    name = "rbac"
    verbose_name = "Roles and permissions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rbac import signals
        from rbac.catalogue import sync_after_migrate

        post_migrate.connect(sync_after_migrate, dispatch_uid="rbac_sync_catalogue")
        signals.connect()
