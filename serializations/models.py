from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from batches.validators import validate_gtin
from core.models import AuditedModel, BaseModel, TrackedQuerySet
from serializations.choices import DecommissionReason, JobStatus, SerialStatus, Strategy
from serializations.validators import validate_serial


class ByteOrderCharField(models.CharField):
    """A code compared byte by byte: collation "C" on PostgreSQL (SQLite's default is).

    Serials and GTINs are identifiers, not words: byte order makes range scans and
    ``max()`` over zero-padded sequential serials exact whatever the database's
    locale, and index inserts cheaper than locale-aware comparison.
    """

    def db_parameters(self, connection: Any) -> dict[str, Any]:
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params


class SerialNumber(AuditedModel, models.Model):
    """One pack's serial number (GS1 AI 21) under its product's GTIN (AI 01).

    Integer primary key and few indexes: a batch carries up to millions of these.
    (GTIN, serial) is unique for good: a serial is never reused for a GTIN, and rows
    are never deleted (their batch is protected while they exist).
    """

    site_path = "batch__site"

    id = models.BigAutoField(primary_key=True)
    batch = models.ForeignKey(
        "batches.Batch", on_delete=models.PROTECT, related_name="serials", db_index=False
    )
    gtin = ByteOrderCharField("GTIN", max_length=14, validators=[validate_gtin])
    serial = ByteOrderCharField(max_length=20, validators=[validate_serial])
    status = models.CharField(
        max_length=16, choices=SerialStatus.choices, default=SerialStatus.COMMISSIONED
    )
    status_changed_at = models.DateTimeField()
    decommission_reason = models.CharField(
        max_length=16, choices=DecommissionReason.choices, blank=True, default=""
    )
    created_at = models.DateTimeField()

    objects = TrackedQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["gtin", "serial"],
                name="serial_unique_per_gtin",
                violation_error_message="This serial number is already used for this GTIN.",
            ),
            models.CheckConstraint(
                condition=Q(status=SerialStatus.DECOMMISSIONED, decommission_reason__gt="")
                | (~Q(status=SerialStatus.DECOMMISSIONED) & Q(decommission_reason="")),
                name="serial_decommission_reason_iff_decommissioned",
            ),
        ]
        # (batch, id): a batch's serials in id order (lists, cursor pages, export).
        # The unique (gtin, serial) index serves verification and GTIN filters.
        indexes = [models.Index(fields=["batch", "id"], name="serial_batch_id")]

    def __str__(self) -> str:
        return f"(01){self.gtin}(21){self.serial}"


class SerialJob(AuditedModel, BaseModel):
    """A large generation run by a Celery worker; readable at ``serial-jobs/{id}/``.

    The serials, the audit record and the job's ``succeeded`` status commit in one
    transaction: a worker that dies mid-job leaves nothing behind, and the redelivered
    task starts again from zero, so the batch gets exactly ``count`` serials once.
    """

    site_path = "batch__site"

    batch = models.ForeignKey("batches.Batch", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    count = models.PositiveIntegerField()
    strategy = models.CharField(max_length=16, choices=Strategy.choices)
    length = models.PositiveSmallIntegerField()
    prefix = models.CharField(max_length=19, blank=True, default="")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    generated = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    first_id = models.BigIntegerField(null=True, blank=True)
    last_id = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    reason = models.CharField(max_length=2000, blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.count} {self.strategy} serials for {self.batch_id} ({self.status})"
