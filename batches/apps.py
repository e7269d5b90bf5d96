from django.apps import AppConfig


class BatchesConfig(AppConfig):
    name = "batches"
    verbose_name = "Products and batches"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import kinds
        from batches import events
        from batches import topics as published
        from core import topics

        kinds.register(*events.KINDS)
        topics.register(*published.TOPICS)
