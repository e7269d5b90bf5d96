from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet

from core.spreadsheets import RowWriter
from serializations import gs1
from serializations.models import SerialJob, SerialNumber

# Exactly what a list row needs, read as plain values (no model instances).
ROW_VALUES = (
    "id",
    "batch_id",
    "gtin",
    "serial",
    "status",
    "status_changed_at",
    "decommission_reason",
    "batch__batch_number",
    "batch__expiry_date",
)
EXPORT_COLUMNS = ("gtin", "serial", "lot", "expiry", "status", "gs1")
EXPORT_CHUNK = 5_000


def serial_list() -> QuerySet[SerialNumber]:
    return SerialNumber.objects.order_by("id")


def serial_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """List rows as the API shows them, with the GS1 element string and Digital Link."""
    result = []
    for row in rows:
        lot, expiry = row["batch__batch_number"], row["batch__expiry_date"]
        result.append(
            {
                "id": row["id"],
                "batch": row["batch_id"],
                "gtin": row["gtin"],
                "serial": row["serial"],
                "lot": lot,
                "expiry": expiry,
                "status": row["status"],
                "status_changed_at": row["status_changed_at"],
                "decommission_reason": row["decommission_reason"],
                "gs1": gs1.element_string(row["gtin"], row["serial"], lot, expiry),
                "digital_link": gs1.digital_link(row["gtin"], row["serial"], lot, expiry),
            }
        )
    return result


def job_detail() -> QuerySet[SerialJob]:
    """A job as the API shows it: its own columns only (batch and requester by id)."""
    return SerialJob.objects.all()


def export_csv(batch: Any) -> Iterator[str]:
    """The batch's serials as CSV, in id order, read in keyset chunks: constant memory
    and no long-held cursor, whatever the batch size. Cells a spreadsheet would run as
    a formula get a leading ``'``."""
    writer = RowWriter()
    lot, expiry = batch.batch_number, batch.expiry_date
    expiry_text, expiry_iso = gs1.yymmdd(expiry), expiry.isoformat()
    yield writer.row(EXPORT_COLUMNS)
    last_id = 0
    while True:
        chunk = list(
            SerialNumber.objects.filter(batch_id=batch.pk, id__gt=last_id)
            # (batch, id) is the index's order: a range scan, never a sort.
            .order_by("batch_id", "id")
            .values_list("id", "gtin", "serial", "status")[:EXPORT_CHUNK]
        )
        if not chunk:
            return
        last_id = chunk[-1][0]
        yield "".join(
            writer.row(
                (
                    gtin,
                    serial,
                    lot,
                    expiry_iso,
                    status,
                    f"(01){gtin}(21){serial}(10){lot}(17){expiry_text}",
                )
            )
            for _, gtin, serial, status in chunk
        )
