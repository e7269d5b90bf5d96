"""GS1 EPCIS 2.0: the events this service states about packs and containers, their
eventIDs, how they are stored, and the documents they are served in.

Choices (see docs/epcis.md):

- Identifiers are canonical GS1 Digital Link URIs on ``https://id.gs1.org``, whatever
  ``GS1_DIGITAL_LINK_BASE`` says: a pack ``/01/{gtin}/21/{serial}``, a container
  ``/00/{sscc}``, a site (its SGLN) ``/414/{gln}``. They need no company-prefix length,
  which EPC URNs do and a GTIN does not carry.
- Vocabulary is CBV 2.0's, by its bare names (``commissioning``, ``in_transit``), as
  the EPCIS 2.0 JSON-LD context expands them.
- ``eventID`` is the CBV 2.0 event hash (``ni:///sha-256;…?ver=CBV2.0``) of the event's
  canonical pre-hash string, built here for the fields this service writes; the tests
  hold it to GS1's reference implementation (``epcis-event-hash-generator``).
"""

from __future__ import annotations

import bisect
import contextlib
import contextvars
import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

import jsonschema
from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from rfc3986_validator import validate_rfc3986

from serializations.choices import DecommissionReason, SerialStatus
from serializations.models import (
    EPCISEvent,
    EPCISEventBatch,
    EPCISEventEPC,
    EPCRole,
    SerialNumber,
)
from serializations.validators import check_digit, is_valid_sscc

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
ID_BASE = "https://id.gs1.org"
CBV = "https://ref.gs1.org/cbv/"
SCHEMA_PATH = Path(__file__).parent / "epcis_schema" / "EPCIS-JSON-Schema.json"

# Serial statuses as EPCIS states them: (bizStep, disposition).
STATUS_STEP = {
    SerialStatus.PACKED: ("packing", "in_progress"),
    SerialStatus.SHIPPED: ("shipping", "in_transit"),
    SerialStatus.DISPENSED: ("dispensing", "dispensed"),
}
# A decommissioning's reason as its CBV 2.0 disposition.
DISPOSITION_OF_REASON = {
    DecommissionReason.DESTROYED: "destroyed",
    DecommissionReason.DAMAGED: "damaged",
    DecommissionReason.SAMPLE: "non_sellable_other",
    DecommissionReason.STOLEN: "stolen",
    DecommissionReason.RECALLED: "recalled",
    DecommissionReason.EXPIRED: "expired",
}
REASON_OF_DISPOSITION = {v: k for k, v in DISPOSITION_OF_REASON.items()}


# --- identifiers ------------------------------------------------------------------


def pack_epc(gtin: str, serial: str) -> str:
    # Letters and digits need no percent-encoding: the common case, without quote()'s cost.
    value = serial if serial.isascii() and serial.isalnum() else quote(serial, safe="")
    return f"{ID_BASE}/01/{gtin}/21/{value}"


def sscc_epc(sscc: str) -> str:
    return f"{ID_BASE}/00/{sscc}"


def location(gln: str) -> str:
    return f"{ID_BASE}/414/{gln}"


@dataclass(frozen=True)
class Identifier:
    """What an EPC URI names: a pack (``gtin``, ``serial``) or a container (``sscc``)."""

    gtin: str = ""
    serial: str = ""
    sscc: str = ""


def read_epc(uri: str) -> Identifier | None:
    """A pack or container named by a GS1 Digital Link URI (any host) or an SGTIN/SSCC
    EPC URN; None for anything else."""
    if uri.startswith("urn:epc:id:"):
        return _read_urn(uri)
    if not uri.startswith(("https://", "http://")):
        return None
    path = uri.split("://", 1)[1].split("?", 1)[0].split("#", 1)[0]
    parts = path.split("/")[1:]
    for i in range(len(parts) - 1):
        if parts[i] == "00" and i + 2 == len(parts):
            return Identifier(sscc=parts[i + 1]) if is_valid_sscc(parts[i + 1]) else None
        if parts[i] == "01" and i + 4 == len(parts) and parts[i + 2] == "21":
            gtin, serial = parts[i + 1], unquote(parts[i + 3])
            return Identifier(gtin=gtin, serial=serial) if _is_gtin(gtin) and serial else None
    return None


def _is_gtin(value: str) -> bool:
    return (
        len(value) == 14
        and value.isascii()
        and value.isdigit()
        and check_digit(value[:-1]) == value[-1]
    )


def epc_of(found: Identifier) -> str:
    """The EPC of a pack or container in this service's form."""
    return sscc_epc(found.sscc) if found.sscc else pack_epc(found.gtin, found.serial)


def canonical(uri: str) -> str:
    """A pack's or container's EPC in this service's form (any other URI as it is)."""
    found = read_epc(uri)
    return uri if found is None else epc_of(found)


def _read_urn(uri: str) -> Identifier | None:
    scheme, _, value = uri[len("urn:epc:id:") :].partition(":")
    pieces = value.split(".")
    if scheme == "sgtin" and len(pieces) == 3:
        prefix, item, serial = pieces
        if not (item and prefix.isdigit() and item.isdigit()):
            return None
        body = item[0] + prefix + item[1:]
        if len(body) != 13 or not serial:
            return None
        return Identifier(gtin=body + check_digit(body), serial=unquote(serial))
    if scheme == "sscc" and len(pieces) == 2:
        prefix, reference = pieces
        if not (reference and prefix.isdigit() and reference.isdigit()):
            return None
        body = reference[0] + prefix + reference[1:]
        if len(body) != 17:
            return None
        return Identifier(sscc=body + check_digit(body))
    return None


def gln_of(uri: str) -> str | None:
    """The GLN of a location: GS1 Digital Link ``.../414/{gln}`` (an extension
    ``/254/0`` allowed) or an SGLN EPC URN with extension 0; None for anything else."""
    if uri.startswith("urn:epc:id:sgln:"):
        pieces = uri[len("urn:epc:id:sgln:") :].split(".")
        if len(pieces) != 3 or pieces[2] not in ("", "0"):
            return None
        body = pieces[0] + pieces[1]
        if len(body) != 12 or not (body.isascii() and body.isdigit()):
            return None
        return body + check_digit(body)
    if "/414/" in uri:
        tail = uri.split("?", 1)[0].split("/414/", 1)[1].split("/")
        gln = tail[0]
        if len(gln) == 13 and gln.isascii() and gln.isdigit() and tail[1:] in ([], ["254", "0"]):
            return gln if check_digit(gln[:-1]) == gln[-1] else None
    return None


_TERM_PREFIXES = (
    "https://ref.gs1.org/cbv/BizStep-",
    "https://ref.gs1.org/cbv/Disp-",
    "urn:epcglobal:cbv:bizstep:",
    "urn:epcglobal:cbv:disp:",
)


def bare_term(value: str) -> str:
    """A CBV bizStep or disposition by its bare name, from any of its spellings."""
    for prefix in _TERM_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


# --- events -----------------------------------------------------------------------


@dataclass
class Event:
    """An event to store: its JSON body and the columns it is found by."""

    body: dict[str, Any]
    site_id: Any
    batches: set[Any] = field(default_factory=set)  # of the packs named, or contained
    batch_id: Any = None  # a commissioning's, with the id range of its packs
    serial_range: tuple[int, int] | None = None
    epcs: list[tuple[str, str]] = field(default_factory=list)  # (epc, EPCRole)
    captured: bool = False


def parse_time(text: Any) -> dt.datetime:
    """An EPCIS time (RFC 3339, as the schema checks it); ValueError otherwise."""
    return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def _time(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _offset(at: dt.datetime, zone: str) -> str:
    try:
        offset = at.astimezone(ZoneInfo(zone)).utcoffset() or dt.timedelta(0)
    except (KeyError, ValueError):
        offset = dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _base(kind: str, *, at: dt.datetime, site: Any, action: str, step: str) -> dict[str, Any]:
    return {
        "type": kind,
        "eventTime": _time(at),
        "eventTimeZoneOffset": _offset(at, site.timezone),
        "action": action,
        "bizStep": step,
    }


def _finish(body: dict[str, Any], site: Any) -> dict[str, Any]:
    body["readPoint"] = {"id": location(site.gln)}
    body["bizLocation"] = {"id": location(site.gln)}
    return {"eventID": event_hash(body), **body}


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    size = max(int(settings.EPCIS_EPCS_PER_EVENT), 1)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def commissioned(
    *, site: Any, batch: Any, gtin: str, rows: Sequence[tuple[int, str]], at: dt.datetime
) -> list[Event]:
    """ObjectEvents ADD (bizStep commissioning, disposition active, the lot and expiry
    as instance master data) of a generation's serials, ``rows`` of (id, serial) in id
    order, ``EPCIS_EPCS_PER_EVENT`` to an event. Their packs are found by id range, not
    by one index row each."""
    events = []
    for chunk in _chunks(rows):
        body = _base("ObjectEvent", at=at, site=site, action="ADD", step="commissioning")
        body["epcList"] = [pack_epc(gtin, serial) for _, serial in chunk]
        body["disposition"] = "active"
        body["ilmd"] = {
            "cbvmda:lotNumber": batch.batch_number,
            "cbvmda:itemExpirationDate": batch.expiry_date.isoformat(),
        }
        events.append(
            Event(
                body=_finish(body, site),
                site_id=site.pk,
                batches={batch.pk},
                batch_id=batch.pk,
                serial_range=(chunk[0][0], chunk[-1][0]),
            )
        )
    return events


_MARK = "\u0000"  # no EPC or eventID holds it
_COMMISSIONING_SQL = """
WITH packs AS (
    SELECT id, 'epc=' || %(base)s || serial AS epc,
           (row_number() OVER (ORDER BY id) - 1) / %(size)s AS chunk
    FROM serializations_serialnumber
    WHERE batch_id = %(batch)s AND id BETWEEN %(first)s AND %(last)s
), chunks AS (
    SELECT chunk, min(id) AS first_id, max(id) AS last_id,
           'ni:///sha-256;' || encode(sha256(convert_to(
               %(head)s || string_agg(epc, '' ORDER BY epc COLLATE "C") || %(tail)s, 'UTF8'
           )), 'hex') || '?ver=CBV2.0' AS event_id
    FROM packs GROUP BY chunk
), new AS (
    INSERT INTO serializations_epcisevent (
        event_id, event_type, action, biz_step, disposition, event_time, record_time,
        site_id, batch_id, serial_first_id, serial_last_id, captured, document
    )
    SELECT event_id, 'ObjectEvent', 'ADD', 'commissioning', 'active', %(at)s, now(),
           %(site)s, %(batch)s, first_id, last_id, false,
           %(doc_head)s || event_id || %(doc_tail)s
    FROM chunks ORDER BY chunk
    RETURNING id
)
INSERT INTO serializations_epciseventbatch (event_id, batch_id) SELECT id, %(batch)s FROM new
"""


def store_commissioned_in_database(
    *, site: Any, batch: Any, gtin: str, first_id: int, last_id: int, at: dt.datetime
) -> bool:
    """The commissioning events of a generation's serials (``first_id`` to ``last_id``
    of ``batch``), built and stored by PostgreSQL in one statement, with no serial read
    back into Python: the same events as ``commissioned`` and ``store`` write, pre-hash
    and all (the tests compare both with GS1's reference). Only where every serial needs
    no percent-encoding, which the caller knows from the generation's prefix; False
    (nothing done) elsewhere."""
    if connection.vendor != "postgresql":
        return False
    body = _base("ObjectEvent", at=at, site=site, action="ADD", step="commissioning")
    body["epcList"] = [_MARK]
    body["disposition"] = "active"
    body["ilmd"] = {
        "cbvmda:lotNumber": batch.batch_number,
        "cbvmda:itemExpirationDate": batch.expiry_date.isoformat(),
    }
    body["readPoint"] = {"id": location(site.gln)}
    body["bizLocation"] = {"id": location(site.gln)}
    head, tail = prehash(body).split(f"epc={_MARK}")
    stored = {"eventID": _MARK, **body, "epcList": BY_RANGE}
    doc_head, doc_tail = dumps(stored).split(dumps(_MARK))
    with connection.cursor() as cursor:
        cursor.execute(
            _COMMISSIONING_SQL,
            {
                "base": f"{ID_BASE}/01/{gtin}/21/",
                "size": max(int(settings.EPCIS_EPCS_PER_EVENT), 1),
                "batch": batch.pk,
                "first": first_id,
                "last": last_id,
                "head": head,
                "tail": tail,
                "at": at,
                "site": site.pk,
                "doc_head": doc_head + '"',
                "doc_tail": '"' + doc_tail,
            },
        )
    return True


def status_moved(
    *,
    site: Any,
    epcs: Sequence[str],
    batches: set[Any],
    status: str,
    reason: str,
    at: dt.datetime,
) -> list[Event]:
    """ObjectEvents of a status move: OBSERVE (packing, shipping, dispensing), or DELETE
    (decommissioning, the reason as its disposition)."""
    if status == SerialStatus.DECOMMISSIONED:
        action, step = "DELETE", "decommissioning"
        disposition = DISPOSITION_OF_REASON[DecommissionReason(reason)]
    else:
        action = "OBSERVE"
        step, disposition = STATUS_STEP[SerialStatus(status)]
    events = []
    for chunk in _chunks(epcs):
        body = _base("ObjectEvent", at=at, site=site, action=action, step=step)
        body["epcList"] = list(chunk)
        body["disposition"] = disposition
        events.append(
            Event(
                body=_finish(body, site),
                site_id=site.pk,
                batches=batches,
                epcs=[(epc, EPCRole.EPC) for epc in chunk],
            )
        )
    return events


def aggregated(
    *,
    site: Any,
    parent: str,
    children: Sequence[str],
    batches: set[Any],
    add: bool,
    at: dt.datetime,
) -> Event:
    """An AggregationEvent: ADD (packing, in_progress) or DELETE (unpacking)."""
    body = _base(
        "AggregationEvent",
        at=at,
        site=site,
        action="ADD" if add else "DELETE",
        step="packing" if add else "unpacking",
    )
    body["parentID"] = parent
    body["childEPCs"] = list(children)
    if add:
        body["disposition"] = "in_progress"
    return Event(
        body=_finish(body, site),
        site_id=site.pk,
        batches=batches,
        epcs=[(parent, EPCRole.PARENT), *((child, EPCRole.CHILD) for child in children)],
    )


def shipped(
    *,
    site: Any,
    sscc: str,
    destination_gln: str,
    reference: str,
    batches: set[Any],
    at: dt.datetime,
) -> Event:
    """An ObjectEvent OBSERVE (shipping, in_transit) of a top-level container, from the
    site to the destination GLN; the reference as a despatch advice."""
    epc = sscc_epc(sscc)
    body = _base("ObjectEvent", at=at, site=site, action="OBSERVE", step="shipping")
    body["epcList"] = [epc]
    body["disposition"] = "in_transit"
    if reference:
        body["bizTransactionList"] = [
            {
                "type": "desadv",
                "bizTransaction": f"urn:epcglobal:cbv:bt:{site.gln}:{quote(reference, safe='')}",
            }
        ]
    body["sourceList"] = [{"type": "location", "source": location(site.gln)}]
    body["destinationList"] = [{"type": "location", "destination": location(destination_gln)}]
    return Event(
        body=_finish(body, site), site_id=site.pk, batches=batches, epcs=[(epc, EPCRole.EPC)]
    )


# --- the CBV 2.0 event hash ---------------------------------------------------------

_VOCABULARY = {"bizStep": "BizStep-", "disposition": "Disp-"}
_LISTS = (  # (list, key of the value, vocabulary of its type), in pre-hash order
    ("bizTransactionList", "bizTransaction", "BTT-"),
    ("destinationList", "destination", "SDT-"),
    ("sourceList", "source", "SDT-"),
)


def _term(value: str, vocabulary: str) -> str:
    return value if ":" in value else f"{CBV}{vocabulary}{value}"


def prehash(event: Mapping[str, Any]) -> str:
    """The canonical pre-hash string of an event of the shapes this service writes (CBV
    2.0, section 8.9): fields in the standard's order, list values sorted, vocabulary
    as web URIs, times in UTC to the millisecond."""
    parts = [f"eventType={event['type']}", f"eventTime={_time(parse_time(event['eventTime']))}"]
    parts.append(f"eventTimeZoneOffset={event['eventTimeZoneOffset']}")
    if event.get("parentID"):
        parts.append(f"parentID={event['parentID']}")
    for name in ("epcList", "childEPCs"):
        if event.get(name):
            parts.append(name + "".join(sorted(f"epc={epc}" for epc in event[name])))
    parts.append(f"action={event['action']}")
    for name in ("bizStep", "disposition"):
        if event.get(name):
            parts.append(f"{name}={_term(event[name], _VOCABULARY[name])}")
    for name in ("readPoint", "bizLocation"):
        if event.get(name):
            parts.append(f"{name}id={event[name]['id']}")
    # The fields outside the standard's order, sorted as whole strings.
    rest = []
    for name, key, vocabulary in _LISTS:
        if event.get(name):
            rest.append(
                name
                + "".join(
                    (f"type={_term(entry['type'], vocabulary)}" if entry.get("type") else "")
                    + f"{key}={entry[key]}"
                    for entry in event[name]
                )
            )
    if event.get("ilmd"):
        rest.append(
            "ilmd" + "".join(sorted(f"{k}={_numeric(str(v))}" for k, v in event["ilmd"].items()))
        )
    return "".join(parts + sorted(rest))


def _numeric(text: str) -> str:
    """A value that reads as a number, in its canonical form ("0012" is "12")."""
    try:
        number = float(text)
        return str(int(number)) if int(number) == number else str(number)
    except (ValueError, OverflowError):
        return text


def event_hash(event: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(prehash(event).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"


# --- storage ------------------------------------------------------------------------


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_capture: contextvars.ContextVar[list[Event] | None] = contextvars.ContextVar(
    "epcis_capture", default=None
)


@contextlib.contextmanager
def capturing(body: dict[str, Any]) -> Iterator[None]:
    """Apply a trading partner's event: the events the services state inside are not
    stored as they are, but merged into one stored event, ``body`` (the partner's own,
    with its eventID), found by every EPC, batch and pack range they name."""
    stated: list[Event] = []
    token = _capture.set(stated)
    try:
        yield
    finally:
        _capture.reset(token)
    site_id = stated[0].site_id if stated else None
    # The partner's identifiers are indexed as they are named (canonical form), not
    # by pack ranges: its commissioning may span batches and leave gaps.
    named = [(canonical(body["parentID"]), EPCRole.PARENT)] if body.get("parentID") else []
    named += [(canonical(epc), EPCRole.EPC) for epc in body.get("epcList") or []]
    named += [(canonical(epc), EPCRole.CHILD) for epc in body.get("childEPCs") or []]
    merged = Event(
        body=body,
        site_id=site_id,
        batches={b for e in stated for b in e.batches},
        epcs=list(dict.fromkeys([*named, *(pair for e in stated for pair in e.epcs)])),
        captured=True,
    )
    if site_id is not None:
        store([merged])


def store(events: Iterable[Event]) -> list[EPCISEvent]:
    """Write ``events`` in the caller's transaction. An event whose eventID is stored
    already is the same fact stated again (the hash covers every field it has) and is
    not stored twice. While a partner's event is applied (``capturing``), they are
    kept to be merged into it."""
    pending = list(events)
    if not pending:
        return []
    buffer = _capture.get()
    if buffer is not None:
        buffer.extend(pending)
        return []
    now = timezone.now()
    known = set(
        EPCISEvent.objects.filter(
            event_id__in=[event.body["eventID"] for event in pending]
        ).values_list("event_id", flat=True)
    )
    rows: list[EPCISEvent] = []
    kept: list[Event] = []
    for event in pending:
        event_id = event.body["eventID"]
        if event_id in known:
            continue
        known.add(event_id)
        body = event.body
        row = EPCISEvent(
            event_id=event_id,
            event_type=body["type"],
            action=body["action"],
            biz_step=bare_term(body.get("bizStep", "")),
            disposition=bare_term(body.get("disposition", "")),
            event_time=parse_time(body["eventTime"]),
            record_time=now,
            site_id=event.site_id,
            batch_id=event.batch_id,
            serial_first_id=event.serial_range[0] if event.serial_range else None,
            serial_last_id=event.serial_range[1] if event.serial_range else None,
            captured=event.captured,
            document=dumps({**body, "epcList": BY_RANGE} if event.serial_range else body),
        )
        rows.append(row)
        kept.append(event)
    created = EPCISEvent.objects.bulk_create(rows, batch_size=500)
    EPCISEventEPC.objects.bulk_create(
        (
            EPCISEventEPC(event_id=row.pk, epc=epc, role=role)
            for row, event in zip(created, kept, strict=True)
            for epc, role in event.epcs
        ),
        batch_size=5_000,
    )
    EPCISEventBatch.objects.bulk_create(
        (
            EPCISEventBatch(event_id=row.pk, batch_id=batch_id)
            for row, event in zip(created, kept, strict=True)
            for batch_id in sorted(event.batches, key=str)
        ),
        batch_size=5_000,
    )
    return created


# --- documents ----------------------------------------------------------------------

# A commissioning's epcList as stored: its packs are the batch's serials in the event's id
# range, written out when the event is served (``served``).
BY_RANGE = "the batch's serials from serial_first_id to serial_last_id"
_BY_RANGE_TEXT = f'"epcList":{dumps(BY_RANGE)}'
SERVED_COLUMNS = ("id", "document", "batch_id", "serial_first_id", "serial_last_id")
_MAX_ID = 2**63


def served(rows: Sequence[Sequence[Any]]) -> list[str]:
    """Events' JSON texts as served, from their ``SERVED_COLUMNS``: the commissionings'
    packs written out (one query for all of them, along the ``(batch, id)`` index), any
    other event as stored."""
    ranges = [
        (row[2], row[3], row[4]) for row in rows if row[3] is not None and _BY_RANGE_TEXT in row[1]
    ]
    packs: dict[tuple[Any, int, int], list[str]] = {key: [] for key in ranges}
    if ranges:
        match = Q()
        for batch_id, first, last in ranges:
            match |= Q(batch_id=batch_id, id__gte=first, id__lte=last)
        starts: dict[Any, list[tuple[int, int]]] = {}
        for batch_id, first, last in sorted(ranges, key=lambda r: (str(r[0]), r[1])):
            starts.setdefault(batch_id, []).append((first, last))
        found = SerialNumber.objects.filter(match).order_by("id")
        for pk, batch_id, gtin, serial in found.values_list("id", "batch_id", "gtin", "serial"):
            spans = starts[batch_id]
            first, last = spans[bisect.bisect_right(spans, (pk, _MAX_ID)) - 1]
            packs[batch_id, first, last].append(pack_epc(gtin, serial))
    texts = []
    for _, text, batch_id, first, last in rows:
        key = (batch_id, first, last)
        if key in packs:
            text = str(text).replace(_BY_RANGE_TEXT, f'"epcList":{dumps(packs[key])}', 1)
        texts.append(str(text))
    return texts


def _head(kind: str) -> str:
    return (
        f'{{"@context":["{CONTEXT}"],"type":"{kind}","schemaVersion":"2.0",'
        f'"creationDate":"{_time(timezone.now())}",'
    )


def query_document(texts: Iterable[str], *, query_name: str = "SimpleEventQuery") -> str:
    """An EPCISQueryDocument of stored events (their JSON texts)."""
    return (
        _head("EPCISQueryDocument")
        + f'"epcisBody":{{"queryResults":{{"queryName":{dumps(query_name)},'
        + '"resultsBody":{"eventList":['
        + ",".join(texts)
        + "]}}}}"
    )


def stream_document(texts: Iterable[str]) -> Iterator[str]:
    """An EPCISDocument of stored events, in pieces: constant memory for any count."""
    yield _head("EPCISDocument") + '"epcisBody":{"eventList":['
    first = True
    for text in texts:
        yield text if first else "," + text
        first = False
    yield "]}}"


# --- the GS1 schema -----------------------------------------------------------------


_BLANK_NODE = re.compile(r"_:[A-Za-z0-9_.-]+\Z")


def _uri(value: object) -> bool:
    """RFC 3986, or a JSON-LD blank node identifier (``_:document1``), which JSON-LD
    allows wherever a node's ``id`` goes and GS1's own examples use."""
    if not isinstance(value, str):
        return True
    return bool(_BLANK_NODE.match(value)) or bool(validate_rfc3986(value, rule="URI"))


@functools.cache
def validator() -> jsonschema.Draft7Validator:
    """GS1's schema under Draft 7 with every format checked (``date-time`` by
    rfc3339-validator, ``uri`` by rfc3986-validator)."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    formats = jsonschema.FormatChecker()
    formats.checks("uri")(_uri)
    return jsonschema.Draft7Validator(schema, format_checker=formats)


def schema_errors(document: Any, *, limit: int = 100) -> list[str]:
    """What is wrong with ``document`` against GS1's EPCIS 2.0 schema, each error with
    its JSON path; empty when it validates."""
    errors = []
    for error in validator().iter_errors(document):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        errors.append(f"${path}: {error.message[:300]}")
        if len(errors) >= limit:
            break
    return errors
