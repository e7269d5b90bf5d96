from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import models
from django.utils import timezone

from core.access import RestrictedQuerySetMixin

READ_ONLY = "Audit records are append-only."


class AppendOnlyQuerySet(RestrictedQuerySetMixin, models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError(READ_ONLY)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError(READ_ONLY)


class AppendOnly:
    """Rows written once: saving an existing row or deleting one is refused (the
    database's triggers refuse it too, for whatever gets past the model)."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:  # type: ignore[attr-defined]
            raise PermissionError(READ_ONLY)
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)  # type: ignore[misc]

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(READ_ONLY)


class AuditLog(AppendOnly, models.Model):
    """One event: who did what to which record, when, from where, and why.

    Append-only: the model refuses updates and deletes and database triggers reject
    UPDATE, DELETE and TRUNCATE. ``mac`` is an HMAC of the record's canonical text made
    with a key the database does not hold, so a row altered or inserted behind the
    application's back is detected; seals chain the rows (``AuditSeal``).
    """

    audit_exempt = "The trail itself."

    site_path = "site"  # the ``site_id`` column; records without a site need a global grant

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)
    # Filter columns are indexed through the composite indexes below (leading column);
    # every index costs each insert, so there are no single-column duplicates.
    # A kind registered by the app that owns it (audit.kinds); no choices in the schema.
    action = models.CharField(max_length=32)
    actor_id = models.UUIDField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    resource_type = models.CharField(max_length=64, blank=True)
    resource_id = models.CharField(max_length=64, blank=True)
    site_id = models.UUIDField(null=True, blank=True)
    old_values = models.JSONField(null=True, blank=True)
    new_values = models.JSONField(null=True, blank=True)
    changed_fields = models.JSONField(default=list, blank=True)
    request_id = models.CharField(max_length=64, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=1024, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    reason = models.TextField(blank=True, max_length=2000)
    mac = models.CharField(max_length=64, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["resource_type", "resource_id", "timestamp"]),
            models.Index(fields=["actor_id", "timestamp"]),
            models.Index(fields=["site_id", "timestamp"]),
            models.Index(fields=["action", "timestamp"]),
        ]

    def __str__(self) -> str:
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.action} {self.resource_type}"


class AuditSeal(AppendOnly, models.Model):
    """A link of the hash chain: ``hash = sha256(previous hash + text)``.

    ``text`` is the sealed record's canonical text exactly as it was hashed, so a
    verifier needs nothing but this table and the records.
    """

    audit_exempt = "The trail itself."

    seq = models.BigAutoField(primary_key=True)
    log_id = models.UUIDField(unique=True)
    text = models.TextField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"


class SealState(models.Model):
    """Single row: serialises sealers and remembers the last successful verification."""

    audit_exempt = "The trail itself."

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_sealed_at = models.DateTimeField(null=True, blank=True)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    last_verification_ok = models.BooleanField(null=True)

    def __str__(self) -> str:
        return f"sealed {self.last_sealed_at}, verified {self.last_verified_at}"


class AuditArchive(AppendOnly, models.Model):
    """A month of records exported with their seals, verified by reading it back; written
    once, when the archive verified (and, if so, in the transaction that detached the
    month's partition). The sha256 here is the witness a later reader checks the file
    against; ``verify`` knows from these rows which sealed records left the table."""

    audit_exempt = "Part of the trail: its rows are written once, and logged as archived."

    month = models.DateField(help_text="First day of the archived UTC month.")
    location = models.CharField(max_length=1024)
    sha256 = models.CharField(max_length=64)
    records = models.PositiveBigIntegerField()
    first_seq = models.BigIntegerField(null=True)
    last_seq = models.BigIntegerField(null=True)
    first_prev_hash = models.CharField(max_length=64, blank=True)
    last_hash = models.CharField(max_length=64, blank=True)
    detached = models.BooleanField(default=False)
    dropped = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["month", "created_at"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} -> {self.location}"


class AuditCheckpoint(AppendOnly, models.Model):
    """A verified point of the chain: the seal ``seq`` with ``hash`` and every record
    sealed up to it checked and found intact at ``verified_at``.

    An incremental verification starts after the latest checkpoint instead of the first
    seal. ``signature`` is an HMAC with the audit key over ``text()``, so a checkpoint
    written or changed without the key (to skip a damaged stretch) is refused.
    ``window_start`` bounds the unsealed records the next incremental run reads: those
    with a later timestamp (see ``audit.sealing.verify``). Append-only, like the trail.
    """

    audit_exempt = "Part of the trail: written by verification, signed with the audit key."

    id = models.BigAutoField(primary_key=True)
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    records = models.BigIntegerField(help_text="Sealed records checked, in all, up to seq.")
    window_start = models.DateTimeField()
    verified_at = models.DateTimeField(default=timezone.now)
    signature = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} {self.verified_at:%Y-%m-%d %H:%M:%S}"

    def text(self) -> str:
        return "\n".join(
            [
                str(self.seq),
                self.hash,
                str(self.records),
                self.window_start.astimezone(dt.UTC).isoformat(timespec="microseconds"),
                self.verified_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            ]
        )
