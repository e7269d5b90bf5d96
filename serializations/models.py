from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from audit.models import AppendOnly, AppendOnlyQuerySet
from batches.validators import validate_gtin
from core.models import AuditedModel, BaseModel, TrackedQuerySet
from serializations.choices import (
    ContainerKind,
    ContainerStatus,
    DecommissionReason,
    JobStatus,
    SerialStatus,
    Strategy,
)
from serializations.validators import validate_serial, validate_sscc


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
    container = models.ForeignKey(
        "serializations.Container",
        on_delete=models.PROTECT,
        related_name="packs",
        null=True,
        blank=True,
        db_index=False,
    )

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
        # (container, id), partial: a container's packs, for the few rows that have one.
        indexes = [
            models.Index(fields=["batch", "id"], name="serial_batch_id"),
            models.Index(
                fields=["container", "id"],
                name="serial_container_id",
                condition=Q(container__isnull=False),
            ),
        ]

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


class SSCCCounter(models.Model):
    """The last serial reference allocated under one extension digit and company prefix.

    Allocation locks this row, so concurrent containers never get the same SSCC; the
    counter only grows, so an SSCC is never reused, even after its container is gone.
    """

    audit_exempt = "A counter: every SSCC it allocates is audited with its container."

    key = models.CharField(max_length=13, primary_key=True)  # extension digit + prefix
    last_reference = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.last_reference}"


class Container(AuditedModel, BaseModel):
    """A case or a pallet at a site, identified by its SSCC (GS1 AI 00).

    Packs go into cases; cases and loose packs onto pallets; a pallet goes into nothing,
    so a tree is at most two levels deep. Each item is in at most one container.
    """

    site_path = "site"

    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="containers")
    kind = models.CharField(max_length=8, choices=ContainerKind.choices)
    batch = models.ForeignKey(
        "batches.Batch",
        on_delete=models.PROTECT,
        related_name="containers",
        null=True,
        blank=True,
        help_text="When set, the container holds packs of this batch only.",
    )
    sscc = ByteOrderCharField("SSCC", max_length=18, unique=True, validators=[validate_sscc])
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, related_name="children", null=True, blank=True
    )
    status = models.CharField(
        max_length=8, choices=ContainerStatus.choices, default=ContainerStatus.OPEN
    )
    shipped_at = models.DateTimeField(null=True, blank=True)
    destination_gln = models.CharField("destination GLN", max_length=13, blank=True)
    shipping_reference = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["site", "-created_at"], name="container_site_created"),
            models.Index(
                fields=["parent"], name="container_parent", condition=Q(parent__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"(00){self.sscc}"


class EPCISEvent(AppendOnly, models.Model):
    """One GS1 EPCIS 2.0 event: a fact about packs and containers that trading partners
    read (``/api/epcis/events/``) and send (``/api/epcis/capture/``).

    Written in the transaction of the change it states, never changed afterwards (the
    model refuses it, and so do the database's triggers). ``document`` is the event's
    JSON text exactly as it is served; the columns beside it are what queries filter on.
    A commissioning event names its packs by id range (``serial_first_id`` to
    ``serial_last_id`` of ``batch``) instead of one ``EPCISEventEPC`` row per pack, so
    generation stays at line speed; ``batch`` is set on those only.
    """

    audit_exempt = "Append-only itself; each event is written with the audited change it states."
    site_path = "site"

    id = models.BigAutoField(primary_key=True)
    event_id = models.CharField("eventID", max_length=128, unique=True)
    event_type = models.CharField(max_length=24)
    action = models.CharField(max_length=8)
    biz_step = models.CharField(max_length=64)
    disposition = models.CharField(max_length=64, blank=True)
    event_time = models.DateTimeField()
    record_time = models.DateTimeField()
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(
        "batches.Batch", on_delete=models.PROTECT, related_name="+", null=True, db_index=False
    )
    serial_first_id = models.BigIntegerField(null=True)
    serial_last_id = models.BigIntegerField(null=True)
    captured = models.BooleanField(default=False, help_text="Sent by a trading partner.")
    document = models.TextField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["site", "id"], name="epcis_site_id"),
            models.Index(
                fields=["batch", "serial_first_id", "serial_last_id"],
                name="epcis_commissioned_range",
                condition=Q(serial_first_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.biz_step} {self.event_id}"


class EPCISEventBatch(AppendOnly, models.Model):
    """A batch whose packs an event names, directly or inside a container: what a
    batch's EPCIS document (``/api/batches/{id}/epcis/``) is made of."""

    audit_exempt = "Append-only, part of its EPCIS event."

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(EPCISEvent, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey("batches.Batch", on_delete=models.PROTECT, related_name="+")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["batch", "event"], name="epcis_batch_event")]

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.event_id}"


class EPCRole(models.TextChoices):
    EPC = "e", "epcList"
    CHILD = "c", "childEPCs"
    PARENT = "p", "parentID"


class EPCISEventEPC(AppendOnly, models.Model):
    """An identifier an event names (in ``epcList``, ``childEPCs`` or as ``parentID``):
    what ``MATCH_epc``, ``MATCH_parentID`` and ``MATCH_anyEPC`` look up."""

    audit_exempt = "Append-only, part of its EPCIS event."

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(EPCISEvent, on_delete=models.PROTECT, related_name="epcs")
    epc = ByteOrderCharField("EPC", max_length=255)
    role = models.CharField(max_length=1, choices=EPCRole)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["epc", "event"], name="epcis_epc_event")]

    def __str__(self) -> str:
        return self.epc
