"""Capturing a trading partner's EPCIS 2.0 document (``POST /api/epcis/capture/``).

A contract manufacturer or a 3PL sends the facts it recorded about our packs: what it
commissioned, packed, unpacked, shipped, dispensed or decommissioned. The document is
checked against GS1's schema, then each event is applied, in order, through the same
services the API's own endpoints use (so the same rules hold: known packs of our
products at the caller's sites, legal status moves, the packing rules), and stored as
the partner sent it. All or nothing: one event refused refuses the document, and the
answer names every refused event by its index. Idempotent by eventID: an event stored
already (sent before, or stated by this service) is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict
from urllib.parse import unquote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from batches.choices import BatchStatus
from batches.models import Batch
from batches.services import lock_batch
from core import reasons
from core.exceptions import DomainError, error_messages
from core.models import recorded_by_caller
from rbac.resolver import effective_permissions
from serializations import epcis, events, services
from serializations.choices import ContainerKind, SerialStatus
from serializations.models import Container, EPCISEvent, SerialNumber
from sites.models import Site

CAPTURE = "epcis_capture"
MAX_ERRORS = 1000


class Captured(TypedDict):
    captured: int
    duplicates: int
    event_ids: list[str]


def _site(actor: User, event: Mapping[str, Any]) -> Site:
    where = (event.get("bizLocation") or event.get("readPoint") or {}).get("id", "")
    gln = epcis.gln_of(where) if where else None
    site = Site.objects.filter(gln=gln).first() if gln else None
    if site is None or not effective_permissions(actor).has("serial.update_status", site.pk):
        raise ValidationError(f"{where or 'no bizLocation or readPoint'}: not one of your sites.")
    return site


def _codes(uris: list[str]) -> list[str]:
    """EPC URIs as the GS1 element strings the packing services read."""
    codes, unknown = [], []
    for uri in uris:
        found = epcis.read_epc(uri)
        if found is None:
            unknown.append(uri)
        elif found.sscc:
            codes.append(f"(00){found.sscc}")
        else:
            codes.append(f"(01){found.gtin}(21){found.serial}")
    if unknown:
        raise ValidationError(
            [f"{uri}: neither a pack (SGTIN) nor a container (SSCC)." for uri in unknown[:20]]
        )
    return codes


def _refs(uris: list[str]) -> list[services.SerialRef]:
    refs = []
    for code in _codes(uris):
        if code.startswith("(00)"):
            raise ValidationError(f"{code}: a container's status moves with its packs only.")
        gtin, serial = code[4:18], code[22:]
        refs.append(services.SerialRef(gtin, serial))
    return refs


def _commission(site: Site, event: Mapping[str, Any]) -> None:
    """Packs a partner commissioned for one of our batches, named by its lot (ILMD
    ``cbvmda:lotNumber``): new serials of that batch, commissioned."""
    lot = (event.get("ilmd") or {}).get("cbvmda:lotNumber")
    if not isinstance(lot, str) or not lot:
        raise ValidationError("A commissioning names its lot (ilmd cbvmda:lotNumber).")
    refs = _refs(list(event.get("epcList") or []))
    if not refs:
        raise ValidationError("A commissioning names the packs it commissioned (epcList).")
    by_gtin: dict[str, list[str]] = {}
    for ref in dict.fromkeys(refs):
        by_gtin.setdefault(ref.gtin, []).append(ref.serial)
    for gtin, serials in by_gtin.items():
        found = Batch.objects.filter(product__gtin=gtin, batch_number=lot, site=site).first()
        if found is None:
            raise ValidationError(f"No batch {lot} of GTIN {gtin} is made at site {site.code}.")
        # As a generation does: the batch locked while its serials are written.
        batch = lock_batch(found.pk, no_key=True)
        if batch.status == BatchStatus.REJECTED:
            raise ValidationError(f"Batch {lot} of GTIN {gtin} is rejected.")
        now = timezone.now()
        rows = [
            SerialNumber(
                batch=batch,
                gtin=gtin,
                serial=serial,
                status=SerialStatus.COMMISSIONED,
                status_changed_at=now,
                created_at=now,
            )
            for serial in serials
        ]
        for row in rows:
            row.full_clean(exclude=["batch", "container"], validate_unique=False)
        try:
            with transaction.atomic(), recorded_by_caller():
                created = SerialNumber.objects.bulk_create(rows)
        except IntegrityError:
            raise ValidationError(
                f"A pack of GTIN {gtin} in this commissioning is commissioned already."
            ) from None
        # Stated as the partner's event itself (merged by ``epcis.capturing``).
        epcis.store([epcis.Event(body=dict(event), site_id=site.pk, batches={batch.pk})])
        events.serials_captured(
            batch=batch, ids=sorted(row.pk for row in created), event_id=event.get("eventID", "")
        )


def _container(site: Site, parent: str, *, children: list[str], create: bool) -> Container:
    found = epcis.read_epc(parent)
    if found is None or not found.sscc:
        raise ValidationError(f"{parent}: the parentID is no SSCC.")
    container = Container.objects.filter(sscc=found.sscc).first()
    if container is None and create:
        holds_cases = any(c.startswith("(00)") for c in children)
        container = services.container_create(
            site=site,
            kind=ContainerKind.PALLET if holds_cases else ContainerKind.CASE,
            number=found.sscc,
        )
    if container is None or container.site_id != site.pk:
        raise ValidationError(f"(00){found.sscc}: unknown container, or not at site {site.code}.")
    return container


def _ship(site: Site, event: Mapping[str, Any]) -> None:
    destinations = [
        d["destination"] for d in event.get("destinationList") or [] if d.get("type") == "location"
    ]
    gln = epcis.gln_of(destinations[0]) if destinations else None
    if gln is None:
        raise ValidationError("A shipping names its destination (destinationList, location).")
    reference = ""
    for transaction_ in event.get("bizTransactionList") or []:
        value = str(transaction_.get("bizTransaction", ""))
        if value.startswith("urn:epcglobal:cbv:bt:"):
            reference = unquote(value.rsplit(":", 1)[-1])[: services.MAX_REFERENCE]
    codes = _codes(list(event.get("epcList") or []))
    if not codes or not all(c.startswith("(00)") for c in codes):
        raise ValidationError("A shipping this service applies names containers (SSCCs) only.")
    for code in codes:
        container = _container(site, epcis.sscc_epc(code[4:]), children=[], create=False)
        services.container_ship(container=container, destination_gln=gln, reference=reference)


def _apply(actor: User, site: Site, event: Mapping[str, Any]) -> None:
    kind, action, step = event.get("type"), event.get("action"), event.get("bizStep", "")
    step = epcis.bare_term(str(step))
    if kind == "AggregationEvent" and action in ("ADD", "DELETE"):
        children = _codes(list(event.get("childEPCs") or []))
        container = _container(
            site, str(event.get("parentID", "")), children=children, create=action == "ADD"
        )
        if action == "ADD":
            services.container_pack(container=container, codes=children)
        else:
            services.container_unpack(container=container, codes=children or None)
        return
    if kind != "ObjectEvent":
        raise ValidationError(f"A {kind} with action {action} is not one this service applies.")
    if action == "ADD" and step == "commissioning":
        _commission(site, event)
    elif action == "OBSERVE" and step == "shipping":
        _ship(site, event)
    elif action == "DELETE" and step == "decommissioning":
        disposition = epcis.bare_term(str(event.get("disposition", "")))
        reason = epcis.REASON_OF_DISPOSITION.get(disposition)
        if reason is None:
            raise ValidationError(
                f"A decommissioning's disposition is one of: "
                f"{', '.join(sorted(epcis.REASON_OF_DISPOSITION))}."
            )
        services.serials_move(
            actor=actor,
            refs=_refs(list(event.get("epcList") or [])),
            status=SerialStatus.DECOMMISSIONED,
            reason=reason,
        )
    elif action == "OBSERVE" and step in ("packing", "dispensing"):
        services.serials_move(
            actor=actor,
            refs=_refs(list(event.get("epcList") or [])),
            status=SerialStatus.PACKED if step == "packing" else SerialStatus.DISPENSED,
        )
    else:
        raise ValidationError(
            f"An ObjectEvent {action} with bizStep {step or '(none)'} is not one this "
            "service applies."
        )


_TERM_MAX = EPCISEvent._meta.get_field("biz_step").max_length


def _too_long(body: Mapping[str, Any]) -> str:
    """What of an event is longer than its stored column holds, if anything."""
    limits = {
        "eventID": (str(body["eventID"]), EPCISEvent._meta.get_field("event_id").max_length),
        "bizStep": (epcis.bare_term(str(body.get("bizStep", ""))), _TERM_MAX),
        "disposition": (epcis.bare_term(str(body.get("disposition", ""))), _TERM_MAX),
    }
    for name, (value, limit) in limits.items():
        if len(value) > int(limit or 0):
            return f"its {name} is longer than {limit} characters."
    return ""


def epcis_capture(*, actor: User, document: Any) -> Captured:
    """Apply a trading partner's ``EPCISDocument``: all of it, or nothing and a 400
    naming every problem (a schema error with its JSON path, or an event refused by our
    rules with its index in ``eventList``)."""
    problems = epcis.schema_errors(document)
    if problems:
        raise ValidationError({"document": problems})
    if document.get("type") != "EPCISDocument":
        raise ValidationError({"document": ["Send an EPCISDocument."]})
    event_list = document.get("epcisBody", {}).get("eventList", [])
    if len(event_list) > settings.EPCIS_CAPTURE_MAX_EVENTS:
        raise ValidationError(
            {"document": [f"At most {settings.EPCIS_CAPTURE_MAX_EVENTS} events in a document."]}
        )
    errors: list[str] = []
    captured: list[str] = []
    duplicates = 0
    with reasons.named_act(CAPTURE), transaction.atomic():
        seen: set[str] = set()
        for index, event in enumerate(event_list):
            body = dict(event)
            try:
                body["eventID"] = str(body.get("eventID") or epcis.event_hash(body))
            except (KeyError, TypeError, ValueError):
                errors.append(f"eventList[{index}]: it has no eventID and none can be computed.")
                continue
            event_id = body["eventID"]
            too_long = _too_long(body)
            if too_long:
                errors.append(f"eventList[{index}]: {too_long}")
                continue
            if event_id in seen or EPCISEvent.objects.filter(event_id=event_id).exists():
                duplicates += 1
                continue
            seen.add(event_id)
            try:
                with transaction.atomic():
                    site = _site(actor, body)
                    with epcis.capturing(body):
                        _apply(actor, site, body)
            except (ValidationError, DomainError) as exc:
                errors += [f"eventList[{index}]: {message}" for message in error_messages(exc)]
                continue
            captured.append(event_id)
        if errors:
            shown = errors[:MAX_ERRORS]
            if len(errors) > MAX_ERRORS:
                shown.append(f"… and {len(errors) - MAX_ERRORS} more.")
            raise ValidationError({"events": shown})
    return {"captured": len(captured), "duplicates": duplicates, "event_ids": captured}
