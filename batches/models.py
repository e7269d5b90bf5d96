from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from batches.choices import BatchStatus
from batches.validators import validate_batch_number, validate_gtin, validate_new_batch_number
from core.models import AuditedModel, BaseModel


class Product(AuditedModel, BaseModel):
    """A medicinal product as packed and sold: one GTIN-14."""

    gtin = models.CharField("GTIN", max_length=14, unique=True, validators=[validate_gtin])
    name = models.CharField(max_length=200)
    strength = models.CharField(max_length=100, blank=True)
    dosage_form = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} {self.strength} ({self.gtin})".strip()


class Batch(AuditedModel, BaseModel):
    """A production batch (lot) of one product at one site.

    Its status changes only through the lifecycle services (start, complete,
    release, reject), each recording who and when; released and rejected batches are
    read-only.
    """

    site_path = "site"

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="batches")
    site = models.ForeignKey("sites.Site", on_delete=models.PROTECT, related_name="batches")
    batch_number = models.CharField(max_length=20, validators=[validate_batch_number])
    planned_quantity = models.PositiveIntegerField()
    produced_quantity = models.PositiveIntegerField(null=True, blank=True)
    manufacturing_date = models.DateField()
    expiry_date = models.DateField()
    status = models.CharField(
        max_length=16, choices=BatchStatus.choices, default=BatchStatus.PLANNED, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    started_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    release_signature = models.OneToOneField(
        "accounts.ElectronicSignature",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    rejection_signature = models.OneToOneField(
        "accounts.ElectronicSignature",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    def clean(self) -> None:
        # On creation only: a lot stored before the rule stays editable (its quantities
        # and dates), and the number cannot change afterwards anyway.
        if self._state.adding and self.batch_number:
            try:
                validate_new_batch_number(self.batch_number)
            except ValidationError as exc:
                raise ValidationError({"batch_number": exc.error_list}) from None

    class Meta:
        verbose_name_plural = "batches"
        ordering = ["-manufacturing_date", "batch_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "batch_number"],
                name="batch_number_unique_per_product",
                violation_error_message="This product already has a batch with this number.",
            ),
            models.CheckConstraint(
                condition=Q(expiry_date__gt=F("manufacturing_date")),
                name="batch_expiry_after_manufacturing",
                violation_error_message="The expiry date must be after the manufacturing date.",
            ),
        ]
        indexes = [
            models.Index(fields=["site", "status", "-manufacturing_date"]),
            models.Index(fields=["site", "-manufacturing_date", "batch_number"]),
            models.Index(fields=["product", "-manufacturing_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.batch_number} ({self.status})"
