from django.apps import AppConfig


class SerializationsConfig(AppConfig):
    name = "serializations"
    verbose_name = "Serial numbers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import kinds
        from core import topics
        from serializations import events
        from serializations import topics as published

        kinds.register(*events.KINDS)
        topics.register(*published.TOPICS)
