from django.apps import AppConfig


class SerializationsConfig(AppConfig):
    name = "serializations"
    verbose_name = "Serial numbers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit.registry import register
        from serializations.models import SerialJob, SerialNumber

        register(SerialNumber, site=lambda serial: serial.batch.site_id)
        register(SerialJob, site=lambda job: job.batch.site_id)
