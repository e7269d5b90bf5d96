from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from core.spreadsheets import RowWriter
from serializations import epcis, gs1, sscc
from serializations.models import (
    Container,
    EPCISEvent,
    EPCISEventBatch,
    EPCISEventEPC,
    EPCRole,
    SerialJob,
    SerialNumber,
)

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


# --- containers -------------------------------------------------------------------

CHILDREN_PAGE = 100
CHILDREN_PAGE_MAX = 1000
_CURSOR_SALT = "serializations.container-children"
BAD_CURSOR = "This is not a cursor of this container's children."


def container_list() -> QuerySet[Container]:
    return Container.objects.select_related("parent")


def _page_size_of(value: str | None, name: str, default: int, most: int) -> int:
    if value is None:
        return default
    if not (value.isascii() and value.isdigit() and len(value) < 8) or not 1 <= int(value) <= most:
        raise ValidationError({name: [f"A whole number from 1 to {most}."]})
    return int(value)


def container_children(
    container: Container, *, cursor: str | None, page_size: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of ``container``'s direct children, cases (by id) then packs (by id), and
    the cursor of the next page (None on the last). A cursor is signed for this
    container: anything else is a 400."""
    size = _page_size_of(page_size, "page_size", CHILDREN_PAGE, CHILDREN_PAGE_MAX)
    phase, after = "c", None
    if cursor is not None:
        try:
            token = signing.loads(cursor, salt=f"{_CURSOR_SALT}:{container.pk}")
            phase, after = token["k"], token["a"]
            assert phase in ("c", "p")
        except (signing.BadSignature, KeyError, TypeError, AssertionError):
            raise ValidationError({"cursor": [BAD_CURSOR]}) from None
    results: list[dict[str, Any]] = []
    if phase == "c":
        boxes = Container.objects.filter(parent=container).order_by("id")
        if after is not None:
            boxes = boxes.filter(id__gt=after)
        for box in boxes.values("id", "sscc", "kind", "batch_id", "status")[: size + 1]:
            results.append(
                {
                    "type": box["kind"],
                    "gs1": sscc.element_string(box["sscc"]),
                    "sscc": box["sscc"],
                    "status": box["status"],
                    "_key": ("c", str(box["id"])),
                }
            )
        if len(results) <= size:
            phase, after = "p", None
    if phase == "p" and len(results) <= size:
        packs = SerialNumber.objects.filter(container=container).order_by("id")
        if after is not None:
            packs = packs.filter(id__gt=after)
        left = size + 1 - len(results)
        for pack in packs.values("id", "gtin", "serial", "batch_id", "status")[:left]:
            results.append(
                {
                    "type": "pack",
                    "gs1": f"(01){pack['gtin']}(21){pack['serial']}",
                    "gtin": pack["gtin"],
                    "serial": pack["serial"],
                    "batch": pack["batch_id"],
                    "status": pack["status"],
                    "_key": ("p", pack["id"]),
                }
            )
    next_cursor = None
    if len(results) > size:
        results = results[:size]
        kind, key = results[-1]["_key"]
        next_cursor = signing.dumps({"k": kind, "a": key}, salt=f"{_CURSOR_SALT}:{container.pk}")
    for row in results:
        del row["_key"]
    return results, next_cursor


# --- EPCIS queries ------------------------------------------------------------------

EPCIS_PAGE = 100
EPCIS_PAGE_MAX = 1000
_PAGE_SALT = "serializations.epcis-events"
_ACTIONS = ("ADD", "OBSERVE", "DELETE")
NOT_A_PARAMETER = "Not a query parameter of this endpoint."
MAX_VALUE = 255  # the longest stored EPC
MAX_MATCHED = 100_000
QUERY_PARAMETERS = (
    "EQ_bizStep",
    "EQ_action",
    "EQ_disposition",
    "GE_eventTime",
    "LT_eventTime",
    "MATCH_epc",
    "MATCH_parentID",
    "MATCH_anyEPC",
    "EQ_bizLocation",
    "EQ_eventType",
    "perPage",
    "nextPageToken",
)


def _values(params: Any, name: str) -> list[str]:
    """A parameter's values: repeated, or separated by ``|`` (the EPCIS 2.0 REST
    binding's list separator), or by commas."""
    values: list[str] = []
    for raw in params.getlist(name):
        for part in raw.replace("|", ",").split(","):
            if part.strip():
                values.append(part.strip())
    if len(values) > 1000:
        raise ValidationError({name: ["At most 1,000 values."]})
    if any(len(v) > MAX_VALUE or not v.isprintable() for v in values):
        raise ValidationError({name: [f"Values of at most {MAX_VALUE} printable characters."]})
    return values


def _time(params: Any, name: str) -> dt.datetime | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        parsed = parse_datetime(value.strip().replace(" ", "+")) if len(value) < 64 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError({name: ["An ISO 8601 date and time, e.g. 2026-12-01T00:00:00Z."]})
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def serials_named(pairs: Iterable[tuple[str, str]]) -> Q:
    """Serial rows by (GTIN, serial): one ``serial IN (...)`` per GTIN, which the unique
    (gtin, serial) index answers; no pairs match nothing."""
    by_gtin: dict[str, list[str]] = {}
    for gtin, serial in pairs:
        by_gtin.setdefault(gtin, []).append(serial)
    match = Q(pk__in=[])
    for gtin, serials in by_gtin.items():
        match |= Q(gtin=gtin, serial__in=serials)
    return match


def _epc_match(name: str, epcs: list[str], roles: tuple[str, ...], *, ranges: bool) -> Q:
    """Events naming any of ``epcs`` in ``roles``; ``ranges``: also commissioning events
    whose id range holds the pack."""
    named = [(uri, epcis.read_epc(uri)) for uri in epcs]
    canonical = [uri if found is None else epcis.epc_of(found) for uri, found in named]
    ids = set(
        EPCISEventEPC.objects.filter(epc__in=canonical, role__in=roles).values_list(
            "event_id", flat=True
        )[:MAX_MATCHED]
    )
    packs = [(found.gtin, found.serial) for _, found in named if found is not None and found.gtin]
    if ranges and packs:
        held = Q(pk__in=[])
        for pack_id, batch_id in SerialNumber.objects.filter(serials_named(packs)).values_list(
            "id", "batch_id"
        ):
            held |= Q(batch_id=batch_id, serial_first_id__lte=pack_id, serial_last_id__gte=pack_id)
        ids.update(EPCISEvent.objects.filter(held).values_list("id", flat=True)[:MAX_MATCHED])
    if len(ids) >= MAX_MATCHED:
        raise ValidationError({name: [f"More than {MAX_MATCHED} events match: narrow it."]})
    # The matching ids first, each lookup on its own index; one OR across them would
    # make the planner walk every event in id order.
    return Q(id__in=sorted(ids))


def epcis_events(queryset: QuerySet[EPCISEvent], params: Any) -> tuple[list[str], str | None]:
    """A page of stored events (their JSON texts) matching the EPCIS 2.0 query
    parameters in ``params``, in the order they were recorded, and the token of the next
    page (None on the last). Unknown parameters and malformed values are a 400."""
    unknown = sorted(set(params) - set(QUERY_PARAMETERS))
    if unknown:
        raise ValidationError({name: [NOT_A_PARAMETER] for name in unknown})
    size = _page_size_of(params.get("perPage"), "perPage", EPCIS_PAGE, EPCIS_PAGE_MAX)
    if steps := _values(params, "EQ_bizStep"):
        queryset = queryset.filter(biz_step__in=[epcis.bare_term(v) for v in steps])
    if dispositions := _values(params, "EQ_disposition"):
        queryset = queryset.filter(disposition__in=[epcis.bare_term(v) for v in dispositions])
    if actions := _values(params, "EQ_action"):
        if set(actions) - set(_ACTIONS):
            raise ValidationError({"EQ_action": ["ADD, OBSERVE or DELETE."]})
        queryset = queryset.filter(action__in=actions)
    if kinds := _values(params, "EQ_eventType"):
        queryset = queryset.filter(event_type__in=kinds)
    if (since := _time(params, "GE_eventTime")) is not None:
        queryset = queryset.filter(event_time__gte=since)
    if (until := _time(params, "LT_eventTime")) is not None:
        queryset = queryset.filter(event_time__lt=until)
    if epcs := _values(params, "MATCH_epc"):
        queryset = queryset.filter(
            _epc_match("MATCH_epc", epcs, (EPCRole.EPC, EPCRole.CHILD), ranges=True)
        )
    if parents := _values(params, "MATCH_parentID"):
        queryset = queryset.filter(
            _epc_match("MATCH_parentID", parents, (EPCRole.PARENT,), ranges=False)
        )
    if anys := _values(params, "MATCH_anyEPC"):
        queryset = queryset.filter(
            _epc_match("MATCH_anyEPC", anys, tuple(EPCRole.values), ranges=True)
        )
    if locations := _values(params, "EQ_bizLocation"):
        glns = [gln for gln in map(epcis.gln_of, locations) if gln is not None]
        queryset = queryset.filter(site__gln__in=glns)
    token = params.get("nextPageToken")
    if token is not None:
        try:
            after = int(signing.loads(token, salt=_PAGE_SALT))
        except (signing.BadSignature, TypeError, ValueError):
            raise ValidationError({"nextPageToken": ["Not a page token of this query."]}) from None
        queryset = queryset.filter(id__gt=after)
    rows = list(queryset.order_by("id").values_list(*epcis.SERVED_COLUMNS)[: size + 1])
    next_token = None
    if len(rows) > size:
        rows = rows[:size]
        next_token = signing.dumps(rows[-1][0], salt=_PAGE_SALT)
    return epcis.served(rows), next_token


def batch_event_texts(batch: Any, *, chunk: int = 500) -> Iterator[str]:
    """Every event naming a pack of ``batch`` (or a container holding one), in the order
    they were recorded, read a bounded number at a time."""
    ids = EPCISEventBatch.objects.filter(batch=batch).values("event_id")
    after = 0
    while True:
        rows = list(
            EPCISEvent.objects.filter(id__in=ids, id__gt=after)
            .order_by("id")
            .values_list(*epcis.SERVED_COLUMNS)[:chunk]
        )
        if not rows:
            return
        yield from epcis.served(rows)
        after = rows[-1][0]
