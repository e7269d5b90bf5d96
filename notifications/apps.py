from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """E-mail broadcasts to users of a role and/or a site.

    Depends on accounts (users), rbac (roles, assignments), sites and audit; nothing
    depends on it.
    """

    name = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import kinds
        from notifications import events

        kinds.register(*events.KINDS)
