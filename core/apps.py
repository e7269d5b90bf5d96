from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core.logging import configure_structlog

        configure_structlog()
        from core import jobs

        jobs.connect()
