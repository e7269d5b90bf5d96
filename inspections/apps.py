from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "inspections"
    verbose_name = "QA inspections"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import kinds
        from core import topics
        from inspections import events
        from inspections import topics as published

        kinds.register(*events.KINDS)
        topics.register(*published.TOPICS)
