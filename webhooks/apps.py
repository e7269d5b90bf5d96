from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Signed outbound events (Standard Webhooks) to ERPs and trading partners.

    Depends on accounts (creators), rbac (what a creator may read), sites, audit and
    core (the event catalogue, ``core.topics``, whose sink it installs); nothing
    depends on it.
    """

    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import kinds
        from core import topics
        from webhooks import events, interest, outbox
        from webhooks import topics as webhook_topics

        kinds.register(*events.KINDS)
        topics.register(*webhook_topics.TOPICS)
        topics.install_sink(topics.Sink(write=outbox.write, wants=interest.wanted))
