"""The named audit events of serial numbers: a generation and a status move, each one
record for however many serials it wrote, in the service's transaction."""

from __future__ import annotations

from collections import Counter
from typing import Any

from audit.capture import record_bulk, record_change
from audit.kinds import Kind
from batches.models import Batch
from core.topics import publish
from serializations.choices import SerialStatus
from serializations.generation import Written
from serializations.models import Container, SerialJob, SerialNumber

SERIAL_GENERATE = "serial_generate"
SERIAL_STATUS = "serial_status"
CONTAINER_PACK = "container_pack"
CONTAINER_UNPACK = "container_unpack"
CONTAINER_SHIP = "container_ship"

# Published to subscribers (serializations.topics), in the same transaction as the record.
SERIALS_GENERATED_TOPIC = "serials.generated"
SERIALS_STATUS_CHANGED_TOPIC = "serials.status_changed"
CONTAINER_SHIPPED_TOPIC = "container.shipped"

KINDS = (
    Kind(SERIAL_GENERATE, "Serial numbers generated"),
    Kind(SERIAL_STATUS, "Serial numbers moved", edit=True),
    Kind(CONTAINER_PACK, "Packed into a container"),
    Kind(CONTAINER_UNPACK, "Unpacked from a container"),
    Kind(CONTAINER_SHIP, "Container shipped"),
)
MAX_IDS_NAMED = 1000


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
    publish(
        SERIALS_GENERATED_TOPIC,
        site_id=batch.site_id,
        data={
            "batch": str(batch.pk),
            "batch_number": batch.batch_number,
            "gtin": batch.product.gtin,
            "count": written.count,
            "first_serial": written.first_serial,
            "last_serial": written.last_serial,
            "strategy": strategy,
            "job": str(job.pk) if job else None,
        },
    )


def serials_status_changed(
    *,
    rows: list[dict[str, Any]],
    status: str,
    reason: str,
    unpacked: list[str] | None = None,
) -> None:
    """``rows``: the moved serials (``id``, ``gtin``, ``serial``, ``batch_id``,
    ``batch__site_id``, and ``status`` before the move); ``unpacked``: the SSCCs of the
    containers decommissioned packs were taken out of."""
    ids = [row["id"] for row in rows]
    sites = sorted({str(row["batch__site_id"]) for row in rows})
    record_bulk(
        action=SERIAL_STATUS,
        model=SerialNumber,
        ids=ids,
        count=len(ids),
        site_id=sites[0] if len(sites) == 1 else None,
        values={"status": status, "decommission_reason": reason},
        summary={
            "from": dict(Counter(row["status"] for row in rows)),
            "sites": sites,
            **({"unpacked_from": unpacked} if unpacked else {}),
        },
        changed_fields=[
            "status",
            "status_changed_at",
            "decommission_reason",
            *(["container"] if unpacked else []),
        ],
    )
    for site in sites:
        here = [row for row in rows if str(row["batch__site_id"]) == site]
        publish(
            SERIALS_STATUS_CHANGED_TOPIC,
            site_id=site,
            data={
                "status": status,
                "decommission_reason": reason,
                "count": len(here),
                "serials": [
                    {
                        "gtin": row["gtin"],
                        "serial": row["serial"],
                        "batch": str(row["batch_id"]),
                        "previous_status": row["status"],
                    }
                    for row in here[:MAX_IDS_NAMED]
                ],
                "truncated": len(here) > MAX_IDS_NAMED,
            },
        )


def _packs(ids: list[Any]) -> dict[str, Any]:
    named = [str(i) for i in ids]
    if len(named) <= MAX_IDS_NAMED:
        return {"count": len(named), "ids": named}
    return {"count": len(named), "first_id": named[0], "last_id": named[-1]}


def container_packed(
    *, container: Container, pack_ids: list[Any], ssccs: list[str], newly_packed: int
) -> None:
    """Packs (by serial id) and cases put into ``container``; ``newly_packed`` of the
    packs moved from commissioned to packed."""
    record_change(
        action=CONTAINER_PACK,
        instance=container,
        site_id=container.site_id,
        new_values={
            "sscc": container.sscc,
            "packs": _packs(pack_ids),
            "containers": ssccs,
            "moved_to_packed": newly_packed,
        },
        changed_fields=["children"],
    )


def container_unpacked(*, container: Container, pack_ids: list[Any], ssccs: list[str]) -> None:
    record_change(
        action=CONTAINER_UNPACK,
        instance=container,
        site_id=container.site_id,
        old_values={"sscc": container.sscc, "packs": _packs(pack_ids), "containers": ssccs},
        changed_fields=["children"],
    )


def container_shipped(
    *,
    container: Container,
    pack_ids: list[Any],
    ssccs: list[str],
    destination_gln: str,
    reference: str,
) -> None:
    """The whole tree shipped: ``container``, the cases in it, every pack (to shipped)."""
    record_change(
        action=CONTAINER_SHIP,
        instance=container,
        site_id=container.site_id,
        old_values={"status": "open"},
        new_values={
            "status": "shipped",
            "sscc": container.sscc,
            "destination_gln": destination_gln,
            "reference": reference,
            "packs": _packs(pack_ids),
            "containers": ssccs,
        },
        changed_fields=["status", "destination_gln", "shipping_reference"],
    )
    container.refresh_from_db()
    publish(
        CONTAINER_SHIPPED_TOPIC,
        instance={"container": container, "packs": len(pack_ids), "cases": ssccs},
        site_id=container.site_id,
    )


def serials_captured(*, batch: Batch, ids: list[Any], event_id: str) -> None:
    """Serials a trading partner commissioned for ``batch`` (an EPCIS capture): one
    ``serial_generate`` record, as a generation writes, naming the partner's event."""
    record_bulk(
        action=SERIAL_GENERATE,
        model=SerialNumber,
        id_range=(ids[0], ids[-1]),
        count=len(ids),
        site_id=batch.site_id,
        resource_id=batch.pk,
        values={
            "batch": str(batch.pk),
            "gtin": batch.product.gtin,
            "strategy": "captured",
            "status": SerialStatus.COMMISSIONED,
        },
        summary={"event": event_id},
        changed_fields=["serial", "status"],
    )
