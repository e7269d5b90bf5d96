from typing import Any

from django.apps import AppConfig
from django.core import checks


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
        from django.db.models.signals import post_migrate

        post_migrate.connect(_partitions_ahead, dispatch_uid="audit_partitions_ahead")
        # post_migrate is sent per app once every migration ran: grant once, for audit.
        post_migrate.connect(_grant_once, dispatch_uid="audit_grant_app_role")
        checks.register(check_witness, checks.Tags.security)


def _partitions_ahead(
    sender: AppConfig, app_config: AppConfig, using: str, **kwargs: object
) -> None:
    """migrate runs as the owner: make the next months' partitions there too, so a
    deployment without a beat scheduler still has them (audit/partitions.py)."""
    from audit.partitions import ensure_partitions

    if app_config.label == "audit" and using == "default":
        ensure_partitions()


def _grant_once(sender: AppConfig, app_config: AppConfig, using: str, **kwargs: object) -> None:
    from audit.dbroles import grant_after_migrate

    if app_config.label == "audit":
        grant_after_migrate(using=using)


def check_witness(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Without a witness the newest seals and their records can be deleted together and
    verify cannot tell; production requires one (AUDIT_WITNESS_REQUIRED)."""
    from django.conf import settings

    if not settings.AUDIT_WITNESS_REQUIRED or (
        settings.AUDIT_WITNESS_PATH or settings.AUDIT_WITNESS_URL
    ):
        return []
    return [
        checks.Warning(
            "No witness of the audit seal chain: deleting the newest seals with their "
            "records would go unnoticed.",
            hint="Set AUDIT_WITNESS_PATH (a file on another volume than the database's) "
            "and/or AUDIT_WITNESS_URL (s3://bucket/prefix).",
            id="audit.W001",
        )
    ]
