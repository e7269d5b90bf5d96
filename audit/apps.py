from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import kinds, receivers, registry, security
        from audit.choices import KINDS

        kinds.register(*KINDS)
        # The admin's second-factor devices: enrolment and removal, never the secret and
        # not the per-code bookkeeping (every verification saves the device).
        registry.register(
            "otp_totp.TOTPDevice", fields={"user_id", "name", "confirmed"}, updates=False
        )
        receivers.connect()
        security.connect()
        from audit import metrics
        from core.metrics import register_collector

        register_collector(metrics.collect)
