from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from core.models import BaseModel
from sites.validators import validate_country, validate_gln, validate_timezone

SITE_CODE_RE = r"^[A-Z0-9][A-Z0-9-]{1,15}$"


class Site(BaseModel):
    """A manufacturing site (plant); the unit of access: roles are granted per site."""

    code = models.CharField(
        max_length=16,
        unique=True,
        validators=[
            RegexValidator(SITE_CODE_RE, "2-16 upper-case letters, digits or hyphens, e.g. FRA-01.")
        ],
    )
    name = models.CharField(max_length=200)
    gln = models.CharField("GLN", max_length=13, unique=True, validators=[validate_gln])
    address = models.TextField(max_length=1000, blank=True)
    country = models.CharField(max_length=2, validators=[validate_country])
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.code = (self.code or "").strip().upper()
        super().save(*args, **kwargs)  # type: ignore[arg-type]
