from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "sites"
    verbose_name = "Manufacturing sites"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import topics
        from sites import signals  # noqa: F401  (keeps the cached site detail true)
        from sites import topics as published

        topics.register(*published.TOPICS)
