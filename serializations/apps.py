from django.apps import AppConfig


class SerializationsConfig(AppConfig):
    name = "serializations"
    verbose_name = "Serial numbers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import kinds
        from serializations import events

        kinds.register(*events.KINDS)
