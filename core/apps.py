from django.apps import AppConfig
from django.core import checks


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core.logging import configure_structlog

        configure_structlog()
        from core import jobs

        jobs.connect()
        from core.checks import check_admin_middleware, check_csrf_cookie_secure

        checks.register(check_admin_middleware)
        checks.register(check_csrf_cookie_secure, checks.Tags.security, deploy=True)
