"""Every write on serial numbers: generation (in the request or as a job) and status moves;
and pack verification."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, TypedDict
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from batches.choices import BatchStatus
from batches.models import Batch
from core import reasons
from core.context import get_context
from core.exceptions import StateConflict
from core.models import recorded_by_caller
from serializations import epcis, events, gs1, sscc
from serializations.choices import (
    NEXT,
    PACKABLE,
    ContainerKind,
    ContainerStatus,
    DecommissionReason,
    SerialStatus,
    Strategy,
)
from serializations.generation import (
    RANDOM_SPACE_FACTOR,
    Written,
    random_space,
)
from serializations.jobs import (
    GenerationRequest,
    generate_locked,
    lock_batch_for_generation,
)
from serializations.models import Container, SerialJob, SerialNumber
from serializations.selectors import serials_named
from serializations.tasks import run_serial_job
from sites.models import Site
from sites.validators import validate_gln

logger = logging.getLogger(__name__)

RANDOM_TOO_SHORT = (
    "{length} characters (prefix included) leave too few random serials for {count}: "
    "use a longer length or a shorter prefix."
)
DECOMMISSION_REASON = "Decommissioning needs a reason: "
MAX_ERRORS_NAMED = 1000
MAX_REFERENCE = 64


# --- generation -------------------------------------------------------------------


class Moved(TypedDict):
    """What a status move answers: how many packs moved, to what, and when."""

    moved: int
    status: str
    decommission_reason: str
    at: dt.datetime


class Reason(TypedDict):
    code: str
    message: str


class VerifiedBatch(TypedDict):
    id: UUID
    batch_number: str
    status: str
    expiry_date: dt.date
    product: str


class VerifiedSite(TypedDict):
    id: UUID
    code: str
    name: str


class VerifiedContainer(TypedDict):
    sscc: str
    kind: str
    status: str


class Verification(TypedDict):
    """The answer to a pack verification (``/api/serials/verify/``)."""

    verified: bool
    known: bool
    gtin: str
    serial: str
    lot: str | None
    expiry: dt.date | None
    status: str | None
    decommission_reason: str | None
    batch: VerifiedBatch | None
    site: VerifiedSite | None
    container: VerifiedContainer | None
    top_container: VerifiedContainer | None
    reasons: list[Reason]


def _check_request(req: GenerationRequest) -> None:
    if req.strategy == Strategy.RANDOM:
        if random_space(req.length, req.prefix) < req.count * RANDOM_SPACE_FACTOR:
            raise ValidationError(
                {"length": [RANDOM_TOO_SHORT.format(length=req.length, count=req.count)]}
            )
    elif 10 ** (req.length - len(req.prefix)) <= req.count:
        raise ValidationError(
            {"length": [f"{req.length - len(req.prefix)} digits cannot number {req.count}."]}
        )


def serials_generate(
    *, actor: User, batch: Batch, req: GenerationRequest
) -> tuple[Written | None, SerialJob | None]:
    """Up to ``SERIAL_SYNC_MAX`` serials now (``(written, None)``); more as a Celery job
    (``(None, job)``), queued when this transaction commits."""
    _check_request(req)
    with transaction.atomic():
        batch = lock_batch_for_generation(batch.pk)
        if req.count <= settings.SERIAL_SYNC_MAX:
            return generate_locked(batch, req), None
        job = SerialJob.objects.create(
            batch=batch,
            requested_by=actor,
            count=req.count,
            strategy=req.strategy,
            length=req.length,
            prefix=req.prefix,
            reason=get_context().change_reason,
        )
        # robust: with the broker unreachable the request still answers 202; the
        # job stays queued and ``requeue_stalled_serial_jobs`` publishes it later.
        transaction.on_commit(lambda: run_serial_job.delay(str(job.pk)), robust=True)
        return None, job


# --- status moves -----------------------------------------------------------------


@dataclass(frozen=True)
class SerialRef:
    gtin: str
    serial: str

    def __str__(self) -> str:
        return f"(01){self.gtin}(21){self.serial}"


def serials_move(*, actor: User, refs: list[SerialRef], status: str, reason: str = "") -> Moved:
    """Move every serial in ``refs`` to ``status``: all or nothing.

    Every serial must exist at one of the caller's sites (``serial.update_status``)
    and allow the move; serials of a rejected batch may only be decommissioned.
    Otherwise a 400 names each offending serial and nothing changes. Rows are locked
    in id order, so concurrent moves of the same serials serialize without deadlock.
    """
    if status == SerialStatus.COMMISSIONED or status not in NEXT:
        raise ValidationError({"status": [f'"{status}" is not a status to move to.']})
    if status == SerialStatus.DECOMMISSIONED:
        if reason not in DecommissionReason.values:
            raise ValidationError(
                {"reason": [DECOMMISSION_REASON + ", ".join(DecommissionReason.values)]}
            )
    elif reason:
        raise ValidationError({"reason": ["Only decommissioning takes a reason."]})
    # The decommission code is that move's reason for change, unless one was given.
    with reasons.given("" if reasons.bound() else reason):
        reasons.require(SerialNumber)
        return _move(actor=actor, refs=refs, status=status, reason=reason)


def _move(*, actor: User, refs: list[SerialRef], status: str, reason: str) -> Moved:
    refs = list(dict.fromkeys(refs))
    with transaction.atomic():
        scoped = SerialNumber.objects.restrict(actor, "serial.update_status")
        rows = list(
            scoped.filter(serials_named((ref.gtin, ref.serial) for ref in refs))
            .select_for_update(of=("self",))
            .order_by("id")
            .values(
                "id",
                "gtin",
                "serial",
                "status",
                "batch_id",
                "batch__status",
                "batch__site_id",
                "container_id",
                "container__sscc",
            )
        )
        found = {(row["gtin"], row["serial"]): row for row in rows}
        errors: list[str] = []
        for ref in refs:
            row = found.get((ref.gtin, ref.serial))
            if row is None:
                errors.append(f"{ref}: unknown serial number, or not at one of your sites.")
                continue
            old = row["status"]
            rejected = row["batch__status"] == BatchStatus.REJECTED
            if rejected and status != SerialStatus.DECOMMISSIONED:
                errors.append(f"{ref}: its batch is rejected; it can only be decommissioned.")
            elif old not in NEXT[SerialStatus(status)]:
                errors.append(f"{ref}: cannot move from {old} to {status}.")
            elif status == SerialStatus.SHIPPED and row["container_id"] is not None:
                errors.append(
                    f"{ref}: is in container (00){row['container__sscc']}; "
                    "ship the container, or unpack the pack first."
                )
        _refuse(errors, "serials")
        ids = [row["id"] for row in rows]
        now = timezone.now()  # once the rows are locked: the time the move really happens
        # Decommissioning takes a pack out of its container, as a packaging line does.
        unpacked: dict[str, list[dict[str, Any]]] = {}
        if status == SerialStatus.DECOMMISSIONED:
            for row in rows:
                if row["container_id"] is not None:
                    unpacked.setdefault(row["container__sscc"], []).append(row)
        with recorded_by_caller():
            changes: dict[str, Any] = {
                "status": status,
                "status_changed_at": now,
                "decommission_reason": reason,
            }
            if unpacked:
                changes["container"] = None
            SerialNumber.objects.filter(id__in=ids).update(**changes)
        _state_move(rows, unpacked, status=status, reason=reason, at=now)
        events.serials_status_changed(
            rows=rows,
            status=status,
            reason=reason,
            unpacked=sorted(unpacked),
        )
    return {"moved": len(ids), "status": status, "decommission_reason": reason, "at": now}


def _state_move(
    rows: list[dict[str, Any]],
    unpacked: dict[str, list[dict[str, Any]]],
    *,
    status: str,
    reason: str,
    at: dt.datetime,
) -> None:
    """The EPCIS events of a status move, per site: the packs taken out of their
    containers (AggregationEvent DELETE), then the move itself."""
    by_site: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        by_site.setdefault(row["batch__site_id"], []).append(row)
    sites = Site.objects.in_bulk(list(by_site))
    stated: list[epcis.Event] = []
    for code, packs in unpacked.items():
        stated.append(
            epcis.aggregated(
                site=sites[packs[0]["batch__site_id"]],
                parent=epcis.sscc_epc(code),
                children=[epcis.pack_epc(p["gtin"], p["serial"]) for p in packs],
                batches={p["batch_id"] for p in packs},
                add=False,
                at=at,
            )
        )
    for site_id, packs in by_site.items():
        stated += epcis.status_moved(
            site=sites[site_id],
            epcs=[epcis.pack_epc(p["gtin"], p["serial"]) for p in packs],
            batches={p["batch_id"] for p in packs},
            status=status,
            reason=reason,
            at=at,
        )
    epcis.store(stated)


# --- verification -----------------------------------------------------------------


def _verified_container(container: Container) -> VerifiedContainer:
    return {"sscc": container.sscc, "kind": container.kind, "status": container.status}


def _reason(code: str, message: str) -> Reason:
    return {"code": code, "message": message}


def _site_today(site: Any) -> dt.date:
    try:
        return timezone.now().astimezone(ZoneInfo(site.timezone)).date()
    except (KeyError, ValueError):
        return timezone.now().date()


def _expiry_matches(scanned: gs1.PackCode, expiry: dt.date) -> bool:
    if scanned.expiry == expiry:
        return True
    # DD = 00 on a label means "end of that month".
    text = scanned.expiry_text or ""
    return text.endswith("00") and text[:4] == gs1.yymmdd(expiry)[:4]


# What ``verify`` reads of a pack, its batch, product, site and containers.
VERIFY_COLUMNS = (
    "status",
    "decommission_reason",
    "batch",
    "batch__batch_number",
    "batch__status",
    "batch__expiry_date",
    "batch__product",
    "batch__product__name",
    "batch__site",
    "batch__site__code",
    "batch__site__name",
    "batch__site__timezone",
    "container",
    "container__sscc",
    "container__kind",
    "container__status",
    "container__parent",
    "container__parent__sscc",
    "container__parent__kind",
    "container__parent__status",
)


def verify(*, user: User, code: str) -> Verification:
    """Is this scanned pack one of ours, and may it be dispensed?

    Raises ``gs1.CodeError`` for a malformed code. Serials outside the caller's sites
    (``serial.view``) are answered as unknown.
    """
    scanned = gs1.parse(code)
    answer: Verification = {
        "verified": False,
        "known": False,
        "gtin": scanned.gtin,
        "serial": scanned.serial,
        "lot": scanned.lot,
        "expiry": scanned.expiry,
        "status": None,
        "decommission_reason": None,
        "batch": None,
        "site": None,
        "container": None,
        "top_container": None,
        "reasons": [],
    }
    # (GTIN, serial) is unique: at most one row, so no ORDER BY for first() to add; and
    # only the columns the answer shows (compiling five models' every column was most
    # of a verification's CPU).
    found = (
        SerialNumber.objects.restrict(user, "serial.view")
        .select_related("batch__site", "batch__product", "container__parent")
        .only(*VERIFY_COLUMNS)
        .filter(gtin=scanned.gtin, serial=scanned.serial)
        .order_by()[:1]
    )
    row = next(iter(found), None)
    if row is None:
        answer["reasons"].append(
            _reason("unknown_serial", "No pack with this GTIN and serial number is known.")
        )
        return answer
    batch, site = row.batch, row.batch.site
    answer["known"] = True
    answer["status"] = row.status
    answer["decommission_reason"] = row.decommission_reason or None
    answer["batch"] = {
        "id": batch.pk,
        "batch_number": batch.batch_number,
        "status": batch.status,
        "expiry_date": batch.expiry_date,
        "product": batch.product.name,
    }
    answer["site"] = {"id": site.pk, "code": site.code, "name": site.name}
    if row.container is not None:
        top = row.container.parent or row.container
        answer["container"] = _verified_container(row.container)
        answer["top_container"] = _verified_container(top)
    reasons = answer["reasons"]
    if scanned.lot is not None and scanned.lot != batch.batch_number:
        reasons.append(
            _reason(
                "lot_mismatch",
                f"The lot on the pack is {scanned.lot}; ours is {batch.batch_number}.",
            )
        )
    if scanned.expiry_text is not None and not _expiry_matches(scanned, batch.expiry_date):
        reasons.append(
            _reason(
                "expiry_mismatch",
                f"The expiry on the pack is {scanned.expiry_text}; "
                f"ours is {gs1.yymmdd(batch.expiry_date)}.",
            )
        )
    if row.status == SerialStatus.DECOMMISSIONED:
        if row.decommission_reason == DecommissionReason.RECALLED:
            reasons.append(_reason("recalled", "The pack was recalled with its batch."))
        else:
            reasons.append(
                _reason(
                    "decommissioned",
                    f"The pack was decommissioned ({row.decommission_reason}).",
                )
            )
    elif row.status == SerialStatus.DISPENSED:
        reasons.append(_reason("dispensed", "The pack was already dispensed."))
    if batch.status == BatchStatus.REJECTED:
        reasons.append(_reason("batch_rejected", "The pack's batch was rejected."))
    elif batch.status != BatchStatus.RELEASED:
        reasons.append(
            _reason("batch_not_released", f"The pack's batch is not released ({batch.status}).")
        )
    if batch.expiry_date < _site_today(site):
        reasons.append(_reason("expired", f"The batch expired on {batch.expiry_date}."))
    answer["verified"] = not reasons
    return answer


# --- containers: cases and pallets ----------------------------------------------------


class Packed(TypedDict):
    """What a pack or unpack answers."""

    container: str
    packs: int
    containers: int
    pack_count: int


class Shipped(TypedDict):
    container: str
    containers: int
    packs: int
    destination_gln: str
    shipped_at: dt.datetime


@dataclass(frozen=True)
class Child:
    """A child named in a pack or unpack request: a pack or a container's SSCC."""

    text: str
    gtin: str = ""
    serial: str = ""
    sscc: str = ""


def read_children(codes: list[str]) -> list[Child]:
    """Parse each code; a 400 names every code that is neither a pack nor an SSCC."""
    children, errors = [], []
    for code in dict.fromkeys(codes):
        try:
            sscc_value = gs1.parse_sscc(code)
            if sscc_value is not None:
                children.append(Child(text=code, sscc=sscc_value))
            else:
                pack = gs1.parse(code)
                children.append(Child(text=code, gtin=pack.gtin, serial=pack.serial))
        except gs1.CodeError as exc:
            errors.append(f"{code}: {exc}")
    _refuse(errors, "children")
    return children


def _refuse(errors: list[str], name: str) -> None:
    if errors:
        shown = errors[:MAX_ERRORS_NAMED]
        if len(errors) > MAX_ERRORS_NAMED:
            shown.append(f"… and {len(errors) - MAX_ERRORS_NAMED} more.")
        raise ValidationError({name: shown})


@transaction.atomic
def container_create(
    *, site: Site, kind: str, batch: Batch | None = None, number: str = ""
) -> Container:
    """A new empty case or pallet at ``site``, numbered with the next SSCC, or with
    ``number``, the SSCC a trading partner gave it (checked, and refused if taken)."""
    if not site.is_active:
        raise ValidationError({"site": [f"Site {site.code} is inactive."]})
    if batch is not None and batch.site_id != site.pk:
        raise ValidationError({"batch": [f"The batch is not made at site {site.code}."]})
    if number and Container.objects.filter(sscc=number).exists():
        raise ValidationError({"sscc": [f"(00){number} is another container's."]})
    container = Container(site=site, kind=kind, batch=batch, sscc=number or sscc.allocate(site))
    container.full_clean(validate_unique=False)
    container.save()
    return container


def _lock_container(container: Container) -> Container:
    locked = (
        Container.objects.select_for_update(of=("self",))
        .select_related("site")
        .get(pk=container.pk)
    )
    if locked.status == ContainerStatus.SHIPPED:
        raise StateConflict(
            f"Container {locked} is shipped; it can no longer change.", code="container_shipped"
        )
    return locked


def _pack_rows(children: list[Child]) -> list[dict[str, Any]]:
    named = [(child.gtin, child.serial) for child in children if child.gtin]
    if not named:
        return []
    return list(
        SerialNumber.objects.filter(serials_named(named))
        .select_for_update(of=("self",))
        .order_by("id")
        .values(
            "id",
            "gtin",
            "serial",
            "status",
            "container_id",
            "batch_id",
            "batch__site_id",
            "batch__batch_number",
        )
    )


def _container_rows(ssccs: list[str]) -> list[Container]:
    """The named containers, cases locked (in id order); pallets are only read: no
    request locks a pallet after a case."""
    if not ssccs:
        return []
    cases = list(
        Container.objects.filter(sscc__in=ssccs, kind=ContainerKind.CASE)
        .select_for_update(of=("self",))
        .order_by("id")
    )
    return cases + list(Container.objects.filter(sscc__in=ssccs, kind=ContainerKind.PALLET))


def container_pack(*, container: Container, codes: list[str]) -> Packed:
    """Put packs and containers into ``container``: all or nothing.

    Each child must be at the container's site, not decommissioned, not shipped and in
    no container; a case takes packs only, a pallet packs and cases; a case holds packs
    of one batch (its own, when it has one) unless its site allows mixed cases.
    Otherwise a 400 names every offending child and nothing changes. A commissioned
    pack becomes packed. Rows are locked pallet, then case, then pack, in id order.
    """
    children = read_children(codes)
    with reasons.named_act(events.CONTAINER_PACK), transaction.atomic():
        target = _lock_container(container)
        site = target.site
        # Locks go pallet, then case, then pack, each level in id order, in every
        # request: a case target locks no other container.
        ssccs = [c.sscc for c in children if c.sscc] if target.kind == ContainerKind.PALLET else []
        boxes = {box.sscc: box for box in _container_rows(ssccs)}
        packs = {(row["gtin"], row["serial"]): row for row in _pack_rows(children)}
        errors: list[str] = []
        batches: dict[Any, str] = {}
        if target.kind == ContainerKind.CASE and target.batch_id is None:
            batches = dict(
                SerialNumber.objects.filter(container=target)
                .order_by()
                .values_list("batch_id", "batch__batch_number")
                .distinct()[:2]
            )
        for child in children:
            if child.sscc:
                errors += _box_errors(child, boxes.get(child.sscc), target)
                continue
            row = packs.get((child.gtin, child.serial))
            problem = _pack_error(row, target)
            if problem:
                errors.append(f"{child.text}: {problem}")
            elif row is not None and target.kind == ContainerKind.CASE:
                batches.setdefault(row["batch_id"], row["batch__batch_number"])

        def lot_of(child: Child) -> str:
            return str(packs[(child.gtin, child.serial)]["batch__batch_number"])

        if (
            target.kind == ContainerKind.CASE
            and target.batch_id is None
            and not site.allow_mixed_cases
            and len(batches) > 1
        ):
            first = next(iter(batches))
            errors += [
                f"{child.text}: is of batch {lot_of(child)}; "
                f"case {target} holds batch {batches[first]} only "
                f"(site {site.code} does not allow mixed cases)."
                for child in children
                if child.gtin
                and (child.gtin, child.serial) in packs
                and packs[(child.gtin, child.serial)]["batch_id"] != first
            ]
        _refuse(errors, "children")
        now = timezone.now()
        pack_ids = [packs[(c.gtin, c.serial)]["id"] for c in children if c.gtin]
        newly_packed = [
            packs[(c.gtin, c.serial)]["id"]
            for c in children
            if c.gtin and packs[(c.gtin, c.serial)]["status"] == SerialStatus.COMMISSIONED
        ]
        box_ids = [boxes[c.sscc].pk for c in children if c.sscc]
        with recorded_by_caller():
            SerialNumber.objects.filter(id__in=pack_ids).update(container=target)
            SerialNumber.objects.filter(id__in=newly_packed).update(
                status=SerialStatus.PACKED, status_changed_at=now
            )
            Container.objects.filter(id__in=box_ids).update(parent=target, updated_at=now)
        child_epcs = [
            epcis.sscc_epc(c.sscc) if c.sscc else epcis.pack_epc(c.gtin, c.serial) for c in children
        ]
        epcis.store(
            [
                epcis.aggregated(
                    site=site,
                    parent=epcis.sscc_epc(target.sscc),
                    children=child_epcs,
                    batches={packs[(c.gtin, c.serial)]["batch_id"] for c in children if c.gtin}
                    | _batches_in(box_ids),
                    add=True,
                    at=now,
                )
            ]
        )
        events.container_packed(
            container=target,
            pack_ids=pack_ids,
            ssccs=[c.sscc for c in children if c.sscc],
            newly_packed=len(newly_packed),
        )
        return _packed(target, len(pack_ids), len(box_ids))


def _pack_error(row: dict[str, Any] | None, target: Container) -> str:
    if row is None or row["batch__site_id"] != target.site_id:
        return f"unknown pack, or not at site {target.site.code}."
    if row["status"] == SerialStatus.DECOMMISSIONED:
        return "is decommissioned."
    if row["status"] not in PACKABLE:
        return f"is {row['status']}."
    if row["container_id"] == target.pk:
        return f"is already in {target}."
    if row["container_id"] is not None:
        return "is already in another container; unpack it first."
    if target.batch_id is not None and row["batch_id"] != target.batch_id:
        return f"is of batch {row['batch__batch_number']}; {target} holds its own batch only."
    return ""


def _box_errors(child: Child, box: Container | None, target: Container) -> list[str]:
    if child.sscc == target.sscc:
        return [f"{child.text}: a container cannot hold itself."]
    if target.kind == ContainerKind.CASE:
        return [f"{child.text}: a case holds packs only."]
    if box is None or box.site_id != target.site_id:
        return [f"{child.text}: unknown container, or not at site {target.site.code}."]
    if box.kind == ContainerKind.PALLET:
        return [f"{child.text}: a pallet goes into no container."]
    if box.status == ContainerStatus.SHIPPED:
        return [f"{child.text}: is shipped."]
    if box.parent_id == target.pk:
        return [f"{child.text}: is already in {target}."]
    if box.parent_id is not None:
        return [f"{child.text}: is already in another container; unpack it first."]
    if target.batch_id is not None and box.batch_id != target.batch_id:
        return [f"{child.text}: is not a case of {target}'s batch."]
    return []


def _batches_in(container_ids: list[Any]) -> set[Any]:
    if not container_ids:
        return set()
    return set(
        SerialNumber.objects.filter(container__in=container_ids)
        .values_list("batch_id", flat=True)
        .distinct()
    )


def pack_count(container: Container) -> int:
    """Packs in the whole tree (a tree is at most two levels deep)."""
    return SerialNumber.objects.filter(
        Q(container=container) | Q(container__parent=container)
    ).count()


def _packed(container: Container, packs: int, boxes: int) -> Packed:
    return {
        "container": container.sscc,
        "packs": packs,
        "containers": boxes,
        "pack_count": pack_count(container),
    }


def container_unpack(*, container: Container, codes: list[str] | None = None) -> Packed:
    """Take children out of ``container`` (all of them when ``codes`` is None): each
    named child must be directly in it, or a 400 names it and nothing changes."""
    children = read_children(codes) if codes is not None else None
    with reasons.named_act(events.CONTAINER_UNPACK), transaction.atomic():
        target = _lock_container(container)
        if children is None:
            boxes = list(
                Container.objects.filter(parent=target)
                .select_for_update(of=("self",))
                .order_by("id")
            )
            rows = list(
                SerialNumber.objects.filter(container=target)
                .select_for_update(of=("self",))
                .order_by("id")
                .values("id", "gtin", "serial", "container_id", "batch_id")
            )
        else:
            by_sscc = {b.sscc: b for b in _container_rows([c.sscc for c in children if c.sscc])}
            found = {(r["gtin"], r["serial"]): r for r in _pack_rows(children)}
            inside = {b.sscc for b in by_sscc.values() if b.parent_id == target.pk}
            inside |= {key for key, row in found.items() if row["container_id"] == target.pk}
            errors = [
                f"{c.text}: is not in {target}."
                for c in children
                if (c.sscc or (c.gtin, c.serial)) not in inside
            ]
            _refuse(errors, "children")
            boxes = [by_sscc[c.sscc] for c in children if c.sscc]
            rows = [found[(c.gtin, c.serial)] for c in children if c.gtin]
        now = timezone.now()
        with recorded_by_caller():
            SerialNumber.objects.filter(id__in=[r["id"] for r in rows]).update(container=None)
            Container.objects.filter(id__in=[b.pk for b in boxes]).update(
                parent=None, updated_at=now
            )
        child_epcs = [epcis.sscc_epc(b.sscc) for b in boxes] + [
            epcis.pack_epc(r["gtin"], r["serial"]) for r in rows
        ]
        if child_epcs:
            epcis.store(
                [
                    epcis.aggregated(
                        site=target.site,
                        parent=epcis.sscc_epc(target.sscc),
                        children=child_epcs,
                        batches={r["batch_id"] for r in rows} | _batches_in([b.pk for b in boxes]),
                        add=False,
                        at=now,
                    )
                ]
            )
        events.container_unpacked(
            container=target,
            pack_ids=[r["id"] for r in rows],
            ssccs=[b.sscc for b in boxes],
        )
        return _packed(target, len(rows), len(boxes))


def container_ship(*, container: Container, destination_gln: str, reference: str = "") -> Shipped:
    """Ship a top-level container with its whole tree: every pack becomes shipped.

    Refused (409) when the container is in another one, is empty, or holds a pack of a
    batch that is not released, or a pack that is not packed.
    """
    try:
        validate_gln(destination_gln)
    except ValidationError as exc:
        raise ValidationError({"destination_gln": exc.messages}) from exc
    if len(reference) > MAX_REFERENCE:
        raise ValidationError({"reference": [f"At most {MAX_REFERENCE} characters."]})
    with reasons.named_act(events.CONTAINER_SHIP), transaction.atomic():
        target = _lock_container(container)
        if target.parent_id is not None:
            raise StateConflict(
                f"{target} is in another container: ship that one.", code="container_nested"
            )
        boxes = list(
            Container.objects.filter(parent=target).select_for_update(of=("self",)).order_by("id")
        )
        tree = [target.pk, *(b.pk for b in boxes)]
        rows = list(
            SerialNumber.objects.filter(container__in=tree)
            .select_for_update(of=("self",))
            .order_by("id")
            .values_list(
                "id", "gtin", "serial", "status", "batch_id", "batch__status", "batch__batch_number"
            )
        )
        if not rows:
            raise StateConflict(f"{target} holds no packs.", code="container_empty")
        unreleased = sorted({lot for *_, st, lot in rows if st != BatchStatus.RELEASED})
        if unreleased:
            raise StateConflict(
                f"{target} holds packs of batches that are not released: "
                + ", ".join(unreleased[:20])
                + ".",
                code="batch_not_released",
            )
        unpackable = [f"(01){g}(21){s}" for _, g, s, st, *_ in rows if st != SerialStatus.PACKED]
        if unpackable:
            raise StateConflict(
                f"{target} holds packs that cannot be shipped: " + ", ".join(unpackable[:20]),
                code="pack_not_shippable",
            )
        now = timezone.now()
        with recorded_by_caller():
            SerialNumber.objects.filter(id__in=[r[0] for r in rows]).update(
                status=SerialStatus.SHIPPED, status_changed_at=now
            )
            Container.objects.filter(id__in=tree).update(
                status=ContainerStatus.SHIPPED,
                shipped_at=now,
                destination_gln=destination_gln,
                shipping_reference=reference,
                updated_at=now,
            )
        epcis.store(
            [
                epcis.shipped(
                    site=target.site,
                    sscc=target.sscc,
                    destination_gln=destination_gln,
                    reference=reference,
                    batches={r[4] for r in rows},
                    at=now,
                )
            ]
        )
        events.container_shipped(
            container=target,
            pack_ids=[r[0] for r in rows],
            ssccs=[b.sscc for b in boxes],
            destination_gln=destination_gln,
            reference=reference,
        )
    return {
        "container": target.sscc,
        "containers": len(tree),
        "packs": len(rows),
        "destination_gln": destination_gln,
        "shipped_at": now,
    }
