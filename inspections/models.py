from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.models import AuditedModel, BaseModel
from inspections.choices import InspectionKind, InspectionStatus


class Inspection(AuditedModel, BaseModel):
    """A QA inspection of a batch: measured results against specification limits.

    ``results`` is a list of ``{parameter, value, unit, min, max, in_spec}`` with
    ``in_spec`` computed by the service. A completed inspection is read-only; a
    correction is a new inspection that ``supersedes`` it, with a reason, and the
    superseded one no longer counts for release.
    """

    site_path = "batch__site"

    batch = models.ForeignKey("batches.Batch", on_delete=models.PROTECT, related_name="inspections")
    kind = models.CharField(max_length=16, choices=InspectionKind.choices)
    results = models.JSONField(default=list)
    notes = models.TextField(blank=True, max_length=5000)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    performed_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=8,
        choices=InspectionStatus.choices,
        default=InspectionStatus.PENDING,
        db_index=True,
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    signature = models.OneToOneField(
        "accounts.ElectronicSignature",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    correction_reason = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-performed_at"]
        indexes = [models.Index(fields=["batch", "status"])]

    def __str__(self) -> str:
        return f"{self.kind} of {self.batch_id} ({self.status})"

    @property
    def all_in_spec(self) -> bool:
        return all(result.get("in_spec", False) for result in self.results)
