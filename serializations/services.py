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
from core.models import recorded_by_caller
from serializations import events, gs1
from serializations.choices import (
    NEXT,
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
from serializations.models import SerialJob, SerialNumber
from serializations.tasks import run_serial_job

logger = logging.getLogger(__name__)

RANDOM_TOO_SHORT = (
    "{length} characters (prefix included) leave too few random serials for {count}: "
    "use a longer length or a shorter prefix."
)
DECOMMISSION_REASON = "Decommissioning needs a reason: "
MAX_ERRORS_NAMED = 1000


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
    by_gtin: dict[str, list[str]] = {}
    for ref in refs:
        by_gtin.setdefault(ref.gtin, []).append(ref.serial)
    match = Q()
    for gtin, serials in by_gtin.items():
        match |= Q(gtin=gtin, serial__in=serials)
    with transaction.atomic():
        scoped = SerialNumber.objects.restrict(actor, "serial.update_status")
        rows = list(
            scoped.filter(match)
            .select_for_update(of=("self",))
            .order_by("id")
            .values_list("id", "gtin", "serial", "status", "batch__status", "batch__site_id")
        )
        found = {(gtin, serial): (pk, old, batch_st) for pk, gtin, serial, old, batch_st, _ in rows}
        errors: list[str] = []
        for ref in refs:
            row = found.get((ref.gtin, ref.serial))
            if row is None:
                errors.append(f"{ref}: unknown serial number, or not at one of your sites.")
                continue
            _, old, batch_status = row
            if batch_status == BatchStatus.REJECTED and status != SerialStatus.DECOMMISSIONED:
                errors.append(f"{ref}: its batch is rejected; it can only be decommissioned.")
            elif old not in NEXT[SerialStatus(status)]:
                errors.append(f"{ref}: cannot move from {old} to {status}.")
        if errors:
            shown = errors[:MAX_ERRORS_NAMED]
            if len(errors) > MAX_ERRORS_NAMED:
                shown.append(f"… and {len(errors) - MAX_ERRORS_NAMED} more.")
            raise ValidationError({"serials": shown})
        ids = [pk for pk, *_ in rows]
        now = timezone.now()  # once the rows are locked: the time the move really happens
        with recorded_by_caller():
            SerialNumber.objects.filter(id__in=ids).update(
                status=status, status_changed_at=now, decommission_reason=reason
            )
        sites = sorted({str(site) for *_, site in rows})
        events.serials_status_changed(
            ids=ids,
            previous=[old for _, _, _, old, _, _ in rows],
            sites=sites,
            status=status,
            reason=reason,
        )
    return {"moved": len(ids), "status": status, "decommission_reason": reason, "at": now}


# --- verification -----------------------------------------------------------------


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
        "reasons": [],
    }
    row = (
        SerialNumber.objects.restrict(user, "serial.view")
        .select_related("batch__site", "batch__product")
        .filter(gtin=scanned.gtin, serial=scanned.serial)
        .first()
    )
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
