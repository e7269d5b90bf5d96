from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "sites"
    verbose_name = "Manufacturing sites"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit.registry import register
        from sites import signals  # noqa: F401  (keeps the cached site detail true)
        from sites.models import Site

        register(Site, site=lambda site: site.pk)
