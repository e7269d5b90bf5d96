from django.db import models


class InspectionKind(models.TextChoices):
    VISUAL = "visual"
    ASSAY = "assay"
    DISSOLUTION = "dissolution"
    MICROBIAL = "microbial"
    PACKAGING = "packaging"
    OTHER = "other"


class InspectionStatus(models.TextChoices):
    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"


class Outcome(models.TextChoices):
    PASSED = "passed"
    FAILED = "failed"
