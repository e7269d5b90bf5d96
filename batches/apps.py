from django.apps import AppConfig


class BatchesConfig(AppConfig):
    name = "batches"
    verbose_name = "Products and batches"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit.registry import register
        from batches.models import Batch, Product
        from rbac.backends import extra_admin_resources

        register(Product)
        register(Batch)
        extra_admin_resources({"batches.product": "product", "batches.batch": "batch"})
