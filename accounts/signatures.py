"""Electronic signatures: re-authenticate, then sign a record's current content.

A reusable service: batch release and rejection, inspection results, and anything
else that needs a signature call ``signature_create``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions

from accounts.models import ElectronicSignature, SignatureMeaning, User

WRONG_SIGNATURE_PASSWORD = "The password is not correct; the record was not signed."  # noqa: S105
REASON_REQUIRED = "A reason is required for this signature."


def content_hash(record: Any, *, exclude: set[str] | frozenset[str] = frozenset()) -> str:
    """SHA-256 of the record's concrete field values, in a canonical JSON form."""
    values = {
        f.attname: getattr(record, f.attname)
        for f in record._meta.concrete_fields
        if f.attname not in exclude and f.name not in exclude
    }
    text = json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def verify_signer(*, request: HttpRequest, signer: User, password: str) -> None:
    """Re-authenticate; a wrong password counts toward the lockout and the client IP's
    budget of failed password checks, and is recorded. Over that budget the signature is
    refused (429) before the password is hashed.

    Call outside any transaction the caller may roll back: the failed attempt must
    survive the refusal.
    """
    from accounts.services import check_password_for

    if not check_password_for(request=request, user=signer, password=password):
        raise exceptions.ValidationError({"password": [WRONG_SIGNATURE_PASSWORD]})


def signature_create(
    *,
    signer: User,
    record: Any,
    meaning: str,
    reason: str = "",
    reason_required: bool = False,
    exclude: set[str] | frozenset[str] = frozenset(),
) -> ElectronicSignature:
    """Sign ``record`` as it is now (the caller has locked it and verified the signer)."""
    if meaning not in SignatureMeaning.values:
        raise exceptions.ValidationError({"meaning": [f"Choose one of {SignatureMeaning.values}."]})
    if reason_required and not reason.strip():
        raise exceptions.ValidationError({"reason": [REASON_REQUIRED]})
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sign inside the transaction that changes the record")
    signature = ElectronicSignature(
        signer=signer,
        printed_name=signer.printed_name,
        signed_at=timezone.now(),
        meaning=meaning,
        reason=reason.strip(),
        record_type=record._meta.label_lower,
        record_id=str(record.pk),
        content_hash=content_hash(record, exclude=exclude),
    )
    signature.full_clean()
    signature.save()
    return signature
