from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "inspections"
    verbose_name = "QA inspections"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit.registry import register
        from inspections.models import Inspection
        from rbac.backends import extra_admin_resources

        register(Inspection, site=lambda inspection: inspection.batch.site_id)
        extra_admin_resources({"inspections.inspection": "inspection"})
