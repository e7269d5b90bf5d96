from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "sites"
    verbose_name = "Manufacturing sites"
    default_auto_field = "django.db.models.BigAutoField"
