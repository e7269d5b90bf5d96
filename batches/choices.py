from django.db import models


class BatchStatus(models.TextChoices):
    PLANNED = "planned"
    IN_PRODUCTION = "in_production"
    QUARANTINE = "quarantine"
    RELEASED = "released"
    REJECTED = "rejected"


EDITABLE = frozenset({BatchStatus.PLANNED, BatchStatus.IN_PRODUCTION})
FINAL = frozenset({BatchStatus.RELEASED, BatchStatus.REJECTED})
