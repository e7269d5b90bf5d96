from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core.logging import configure_structlog

        configure_structlog()
        from core import jobs

        jobs.connect()
        from django.db.models.signals import post_migrate

        # post_migrate is sent per app once every migration ran: grant once, for audit.
        post_migrate.connect(_grant_once, dispatch_uid="core_grant_app_role")


def _grant_once(sender: AppConfig, app_config: AppConfig, using: str, **kwargs: object) -> None:
    from core.dbroles import grant_after_migrate

    if app_config.label == "audit":
        grant_after_migrate(using=using)
