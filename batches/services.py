"""Every write on products and batches, including the batch lifecycle."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from accounts.models import SignatureMeaning, User
from accounts.signatures import Reauthentication, check_meaning, signature_create
from batches import events
from batches.choices import EDITABLE, BatchStatus
from batches.models import Batch, Product
from core import locking, reasons
from core.emails import queue_email
from core.exceptions import Forbidden, StateConflict
from core.models import recorded_by_caller
from rbac.selectors import active_users_holding
from sites.models import Site

PRODUCT_IN_USE = "Product {gtin} has batches and cannot be deleted; deactivate it instead."
PRODUCT_INACTIVE = "This product is inactive; batches cannot be planned for it."
SITE_INACTIVE = "This site is inactive; batches cannot be planned there."
WRONG_STATUS = "Cannot {action} a batch that is {status}."
SAME_PERSON = "Segregation of duties: the person who completed the batch may not release it."
NO_INSPECTION = "The batch has no inspection; at least one passed inspection is required."
OPEN_INSPECTIONS = "Every inspection must be completed and passed: {detail}."
BATCH_EDITABLE_FIELDS = (
    "planned_quantity",
    "produced_quantity",
    "manufacturing_date",
    "expiry_date",
)
PRODUCT_FIELDS = ("gtin", "name", "strength", "dosage_form", "is_active")
RELEASE_MEANINGS = frozenset({SignatureMeaning.APPROVAL, SignatureMeaning.RESPONSIBILITY})
REJECT_MEANINGS = frozenset({SignatureMeaning.REJECTION})
# The states a batch can be rejected from (a planned one is deleted instead).
REJECTABLE = frozenset({BatchStatus.IN_PRODUCTION, BatchStatus.QUARANTINE})
GTIN_FROZEN = "The GTIN of a product with serial numbers cannot change: it is printed on its packs."
# Signed content: what the batch is, not the bookkeeping of the signature itself.
SIGNATURE_EXCLUDE = frozenset({"updated_at", "release_signature_id", "rejection_signature_id"})


# --- products ---------------------------------------------------------------------


@transaction.atomic
def product_create(**data: object) -> Product:
    product = Product(**{k: v for k, v in data.items() if k in PRODUCT_FIELDS})
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def product_update(*, product: Product, data: Mapping[str, object]) -> Product:
    reasons.require(Product)
    product = Product.objects.select_for_update().get(pk=product.pk)
    if "gtin" in data and data["gtin"] != product.gtin and product_has_serials(product):
        raise StateConflict(GTIN_FROZEN, code="gtin_frozen")
    for name, value in data.items():
        if name in PRODUCT_FIELDS:
            setattr(product, name, value)
    product.full_clean()
    product.save()
    return product


def product_has_serials(product: Product) -> bool:
    """Serials point at batches (serializations -> batches): read them by relation."""
    return Batch.objects.filter(product=product, serials__isnull=False).exists()


@transaction.atomic
def product_delete(*, product: Product) -> None:
    reasons.require(Product)
    try:
        product.delete()
    except ProtectedError as exc:
        raise StateConflict(
            PRODUCT_IN_USE.format(gtin=product.gtin), code="product_in_use"
        ) from exc


# --- batches ----------------------------------------------------------------------


def lock_batch(batch_id: UUID | str, *, no_key: bool = False) -> Batch:
    """The batch row, locked until the transaction ends: every act that depends on a
    batch's status (its lifecycle, generating its serials, recording its inspections)
    locks it first and checks the status again under the lock (``require_status``).

    ``no_key``: FOR NO KEY UPDATE, for work that may take long (generation) while rows
    that only refer to the batch (inspections) can still be written. Only the batch row
    is locked, never its product or site.
    """
    return (
        Batch.objects.select_for_update(no_key=no_key, of=("self",))
        .select_related("product", "site")
        .get(pk=batch_id)
    )


def require_status(
    batch: Batch,
    allowed: AbstractSet[str],
    *,
    action: str = "",
    message: str = WRONG_STATUS,
    code: str = "invalid_status",
) -> None:
    """409 ``code`` unless the batch is in one of the ``allowed`` statuses; ``message``
    may name ``{status}`` and ``{action}``."""
    if batch.status not in allowed:
        raise StateConflict(
            message.format(action=action, status=batch.status),
            code=code,
            extra={"status": batch.status},
        )


@transaction.atomic
def batch_create(
    *,
    actor: User,
    product: Product,
    site: Site,
    batch_number: str,
    planned_quantity: int,
    manufacturing_date: date,
    expiry_date: date,
) -> Batch:
    """Plan a batch of an active product at an active site."""
    if not product.is_active:
        raise ValidationError({"product": [PRODUCT_INACTIVE]})
    if not site.is_active:
        raise ValidationError({"site": [SITE_INACTIVE]})
    batch = Batch(
        product=product,
        site=site,
        batch_number=batch_number,
        planned_quantity=planned_quantity,
        manufacturing_date=manufacturing_date,
        expiry_date=expiry_date,
        created_by=actor,
    )
    batch.full_clean()
    batch.save()
    events.batch_planned(batch=batch)
    return batch


def _locked(batch: Batch) -> Batch:
    return lock_batch(batch.pk)


def batch_update(*, batch: Batch, data: Mapping[str, object]) -> Batch:
    """Quantities and dates, while the batch is planned or in production."""
    reasons.require(Batch)
    with locking.changing(batch, lock=_locked) as batch:
        require_status(batch, EDITABLE, action="change")
        for name, value in data.items():
            if name not in BATCH_EDITABLE_FIELDS:
                raise ValidationError({name: ["This field cannot be changed."]})
            setattr(batch, name, value)
        batch.full_clean()
        batch.save()
    return batch


@transaction.atomic
def batch_delete(*, batch: Batch) -> None:
    reasons.require(Batch)
    batch = lock_batch(batch.pk)
    require_status(batch, {BatchStatus.PLANNED}, action="delete")
    try:
        batch.delete()
    except ProtectedError as exc:
        raise StateConflict(
            "The batch has records that refer to it (serial numbers, inspections).",
            code="batch_in_use",
        ) from exc


def _transition(batch: Batch, **changes: Any) -> dict[str, Any]:
    """Apply and save ``changes``; returns the previous values (by column name) for the
    named event that records the transition, the transition's one record."""
    attnames = {field.name: field.attname for field in batch._meta.concrete_fields}
    fields = [attnames[name] for name in changes]  # ids, not objects
    old = {f: getattr(batch, f) for f in fields}
    for name, value in changes.items():
        setattr(batch, name, value)
    with recorded_by_caller():
        batch.save(update_fields=list(changes))
    return old


def batch_start(*, actor: User, batch: Batch) -> Batch:
    with locking.changing(batch, lock=_locked) as batch:
        require_status(batch, {BatchStatus.PLANNED}, action="start")
        old = _transition(
            batch, status=BatchStatus.IN_PRODUCTION, started_at=timezone.now(), started_by=actor
        )
        events.batch_started(batch=batch, old=old)
    return batch


def batch_complete(*, actor: User, batch: Batch, produced_quantity: int) -> Batch:
    with locking.changing(batch, lock=_locked) as batch:
        require_status(batch, {BatchStatus.IN_PRODUCTION}, action="complete")
        old = _transition(
            batch,
            status=BatchStatus.QUARANTINE,
            produced_quantity=produced_quantity,
            completed_at=timezone.now(),
            completed_by=actor,
        )
        events.batch_completed(batch=batch, old=old)
    return batch


def _release_blockers(batch: Batch, actor: User) -> None:
    require_status(batch, {BatchStatus.QUARANTINE}, action="release")
    if batch.completed_by_id == actor.pk:
        raise Forbidden(SAME_PERSON, code="segregation_of_duties")
    # Inspections point at batches (inspections -> batches); read them by relation.
    current = list(batch.inspections.filter(superseded_by__isnull=True).values("id", "status"))
    if not current:
        raise StateConflict(NO_INSPECTION, code="inspection_missing")
    open_or_failed = [i for i in current if i["status"] != "passed"]
    if open_or_failed:
        detail = ", ".join(f"{i['id']} is {i['status']}" for i in open_or_failed)
        raise StateConflict(OPEN_INSPECTIONS.format(detail=detail), code="inspections_not_passed")


def batch_release(
    *, reauth: Reauthentication, batch: Batch, meaning: str, reason: str = ""
) -> Batch:
    """Quarantine -> released, with the releaser's electronic signature.

    Checked before the password is (so a refusal costs no attempt), then again under
    the row lock: of two simultaneous releases exactly one succeeds.
    """
    actor = reauth.user
    check_meaning(meaning, RELEASE_MEANINGS)
    _release_blockers(batch, actor)
    signer = reauth.verify()
    with transaction.atomic():
        batch = lock_batch(batch.pk)
        _release_blockers(batch, actor)
        signature = signature_create(
            signer=signer,
            record=batch,
            meaning=meaning,
            meanings=RELEASE_MEANINGS,
            reason=reason,
            exclude=SIGNATURE_EXCLUDE,
        )
        with reasons.named_act(events.BATCH_RELEASE, reason=signature.reason):
            old = _transition(
                batch,
                status=BatchStatus.RELEASED,
                released_at=signature.signed_at,
                released_by=actor,
                release_signature=signature,
            )
            events.batch_released(batch=batch, old=old, signature=signature)
        _notify_qa(batch, "batch_released", signature)
    return batch


def batch_reject(
    *, reauth: Reauthentication, batch: Batch, meaning: str = "", reason: str
) -> Batch:
    """In production or quarantine -> rejected; a reason and a signature are required."""
    meaning = meaning or SignatureMeaning.REJECTION
    check_meaning(meaning, REJECT_MEANINGS)
    require_status(batch, REJECTABLE, action="reject")
    if not (reason or "").strip():
        raise ValidationError({"reason": ["A reason is required to reject a batch."]})
    signer = reauth.verify()
    with transaction.atomic():
        batch = lock_batch(batch.pk)
        require_status(batch, REJECTABLE, action="reject")
        signature = signature_create(
            signer=signer,
            record=batch,
            meaning=meaning,
            meanings=REJECT_MEANINGS,
            reason=reason,
            reason_required=True,
            exclude=SIGNATURE_EXCLUDE,
        )
        with reasons.named_act(events.BATCH_REJECT, reason=signature.reason):
            old = _transition(
                batch,
                status=BatchStatus.REJECTED,
                rejected_at=signature.signed_at,
                rejected_by=reauth.user,
                rejection_signature=signature,
            )
            events.batch_rejected(batch=batch, old=old, signature=signature)
        _notify_qa(batch, "batch_rejected", signature)
    return batch


def qa_recipients(site_id: UUID | str) -> list[str]:
    """E-mail addresses of active users who may release batches at the site."""
    holders = active_users_holding(codename="batch.release", site_id=site_id)
    return sorted(set(holders.exclude(email="").values_list("email", flat=True)))


def _notify_qa(batch: Batch, template: str, signature: Any) -> None:
    queue_email(
        template=template,
        to=qa_recipients(batch.site_id),
        context={
            "batch_number": batch.batch_number,
            "product": str(batch.product),
            "site": batch.site.code,
            "signer": signature.printed_name,
            "signed_at": signature.signed_at.strftime("%Y-%m-%d %H:%M"),
            "meaning": signature.meaning,
            "reason": signature.reason,
        },
    )
