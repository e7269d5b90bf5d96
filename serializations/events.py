"""The named audit events of serial numbers: a generation and a status move, each one
record for however many serials it wrote, in the service's transaction."""

from __future__ import annotations

from collections import Counter
from typing import Any

from audit.capture import record_bulk
from audit.kinds import Kind
from batches.models import Batch
from serializations.choices import SerialStatus
from serializations.generation import Written
from serializations.models import SerialJob, SerialNumber

SERIAL_GENERATE = "serial_generate"
SERIAL_STATUS = "serial_status"

KINDS = (
    Kind(SERIAL_GENERATE, "Serial numbers generated"),
    Kind(SERIAL_STATUS, "Serial numbers moved", edit=True),
)


def serials_generated(
    *,
    batch: Batch,
    written: Written,
    strategy: str,
    length: int,
    prefix: str,
    job: SerialJob | None = None,
) -> None:
    record_bulk(
        action=SERIAL_GENERATE,
        model=SerialNumber,
        id_range=(written.first_id, written.last_id),
        count=written.count,
        site_id=batch.site_id,
        resource_id=batch.pk,
        values={
            "batch": str(batch.pk),
            "gtin": batch.product.gtin,
            "strategy": strategy,
            "length": length,
            "prefix": prefix,
            "status": SerialStatus.COMMISSIONED,
        },
        summary={
            "first_serial": written.first_serial,
            "last_serial": written.last_serial,
            **({"job": str(job.pk)} if job else {}),
        },
        changed_fields=["serial", "status"],
    )


def serials_status_changed(
    *, ids: list[Any], previous: list[str], sites: list[str], status: str, reason: str
) -> None:
    """``previous``: each moved serial's status before the move."""
    record_bulk(
        action=SERIAL_STATUS,
        model=SerialNumber,
        ids=ids,
        count=len(ids),
        site_id=sites[0] if len(sites) == 1 else None,
        values={"status": status, "decommission_reason": reason},
        summary={"from": dict(Counter(previous)), "sites": sites},
        changed_fields=["status", "status_changed_at", "decommission_reason"],
    )
