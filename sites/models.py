from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.db import models, transaction

from core.access import SELF
from core.models import AuditedModel, BaseModel, TrackedQuerySet
from sites.validators import validate_country, validate_gln, validate_timezone

SITE_CODE_RE = r"^[A-Z0-9][A-Z0-9-]{1,15}$"


class SiteQuerySet(TrackedQuerySet):
    def update(self, **kwargs: Any) -> int:
        """A bulk update moves ``updated_at`` (``TrackedQuerySet``), the version the
        cached site detail is checked against: the new versions go to the cache."""
        from sites import cache as site_cache

        with transaction.atomic(using=self.db, savepoint=False):
            ids = list(self.values_list("pk", flat=True))
            count = super().update(**kwargs)
            changed = Site.objects.filter(pk__in=ids).values_list("pk", "updated_at")
            site_cache.changed({pk: updated_at.isoformat() for pk, updated_at in changed})
        return count


class Site(AuditedModel, BaseModel):
    """A manufacturing site (plant); the unit of access: roles are granted per site."""

    objects = SiteQuerySet.as_manager()  # type: ignore[misc]
    site_path = SELF

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
    gs1_company_prefix = models.CharField(
        "GS1 company prefix",
        max_length=12,
        blank=True,
        validators=[RegexValidator(r"^[0-9]{6,12}\Z", "6 to 12 digits, as GS1 allocated them.")],
        help_text="Numbers the site's SSCCs; blank: the GS1_COMPANY_PREFIX setting.",
    )
    allow_mixed_cases = models.BooleanField(
        default=False, help_text="A case may hold packs of more than one batch."
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def _normalise_code(self) -> None:
        # Codes are compared, shown and printed in capitals: "fra-01 " is FRA-01.
        self.code = (self.code or "").strip().upper()

    def clean_fields(self, exclude: Any = None) -> None:
        self._normalise_code()  # before the uniqueness check sees it
        super().clean_fields(exclude)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._normalise_code()
        super().save(*args, **kwargs)
