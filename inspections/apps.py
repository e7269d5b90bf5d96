from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "inspections"
    verbose_name = "QA inspections"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit.registry import register
        from inspections.models import Inspection

        register(Inspection, site=lambda inspection: inspection.batch.site_id)
