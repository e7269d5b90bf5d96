from django.db import models


class SerialStatus(models.TextChoices):
    COMMISSIONED = "commissioned"
    PACKED = "packed"
    SHIPPED = "shipped"
    DISPENSED = "dispensed"
    DECOMMISSIONED = "decommissioned"


class DecommissionReason(models.TextChoices):
    DESTROYED = "destroyed"
    DAMAGED = "damaged"
    SAMPLE = "sample"
    STOLEN = "stolen"
    RECALLED = "recalled"
    EXPIRED = "expired"


class Strategy(models.TextChoices):
    RANDOM = "random"
    SEQUENTIAL = "sequential"


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# Forward moves along the supply chain; decommissioning is allowed from any state in
# ALLOWED_FROM_DECOMMISSION and needs a reason.
NEXT = {
    SerialStatus.PACKED: frozenset({SerialStatus.COMMISSIONED}),
    SerialStatus.SHIPPED: frozenset({SerialStatus.PACKED}),
    SerialStatus.DISPENSED: frozenset({SerialStatus.SHIPPED}),
    SerialStatus.DECOMMISSIONED: frozenset(
        {SerialStatus.COMMISSIONED, SerialStatus.PACKED, SerialStatus.SHIPPED}
    ),
}


class ContainerKind(models.TextChoices):
    CASE = "case"
    PALLET = "pallet"


class ContainerStatus(models.TextChoices):
    OPEN = "open"
    SHIPPED = "shipped"


# What a pack may be in when it is packed (a commissioned pack becomes packed).
PACKABLE = frozenset({SerialStatus.COMMISSIONED, SerialStatus.PACKED})
