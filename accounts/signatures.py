"""Electronic signatures: re-authenticate, then sign a record's current content.

A door (an API view, an admin page) turns the password it received into a
``Reauthentication``; the service verifies it when its own checks have passed and signs
with the ``VerifiedSigner`` it gets, through ``signature_create``. Each signed act
declares the meanings it accepts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import ElectronicSignature, User
from accounts.selectors import signed_in
from accounts.services import check_password_for

WRONG_SIGNATURE_PASSWORD = "The password is not correct; the record was not signed."  # noqa: S105
REASON_REQUIRED = "A reason is required for this signature."
MEANING_NOT_FOR_ACT = "This act is signed with one of these meanings: {allowed}."


def content_hash(record: Any, *, exclude: set[str] | frozenset[str] = frozenset()) -> str:
    """SHA-256 of the record's concrete field values, in a canonical JSON form."""
    values = {
        f.attname: getattr(record, f.attname)
        for f in record._meta.concrete_fields
        if f.attname not in exclude and f.name not in exclude
    }
    text = json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class VerifiedSigner:
    """A person who has just re-authenticated; the only thing ``signature_create`` signs
    for. Made by ``Reauthentication.verify`` alone."""

    user: User


@dataclass(frozen=True)
class Reauthentication:
    """A claim to sign, as a door (an API view, an admin page) received it.

    The service decides when to check it (after its own refusals, so a refused act
    costs no attempt) by calling ``verify``; the check itself is the sign-in's, with its
    lockout, so every door counts failures the same way.
    """

    user: User
    check: Callable[[], bool] = field(repr=False)

    def verify(self) -> VerifiedSigner:
        """Re-authenticate; a wrong password counts toward the lockout and the client
        IP's budget of failed password checks, and is recorded; over that budget the
        signature is refused (429) before the password is hashed.

        Outside any transaction (a durable block says so): the failed attempt must
        survive the refusal.
        """
        with transaction.atomic(durable=True):
            verified = self.check()
        if not verified:
            raise ValidationError({"password": [WRONG_SIGNATURE_PASSWORD]})
        return VerifiedSigner(user=self.user)


def reauthentication(*, request: HttpRequest, user: User, password: str) -> Reauthentication:
    """What every door calls with the password it was given."""
    return Reauthentication(
        user=user, check=lambda: check_password_for(request=request, user=user, password=password)
    )


def reauthentication_from(request: HttpRequest, data: dict[str, Any]) -> Reauthentication:
    """The signed-in user's re-authentication with the password their request carried,
    for every door that asks for it (an admin form, an API body): ``password`` leaves
    ``data``, which then holds only what the signed act takes."""
    password = str(data.pop("password"))
    # A DRF request wraps the HttpRequest that sign-in checks (axes) look at.
    http: HttpRequest = getattr(request, "_request", request)
    return reauthentication(request=http, user=signed_in(request), password=password)


def check_meaning(meaning: str, meanings: frozenset[str]) -> None:
    """The meaning must fit the act: a release is not signed as a rejection."""
    if meaning not in meanings:
        allowed = ", ".join(sorted(meanings))
        raise ValidationError({"meaning": [MEANING_NOT_FOR_ACT.format(allowed=allowed)]})


def signature_create(
    *,
    signer: VerifiedSigner,
    record: Any,
    meaning: str,
    meanings: frozenset[str],
    reason: str = "",
    reason_required: bool = False,
    exclude: set[str] | frozenset[str] = frozenset(),
) -> ElectronicSignature:
    """Sign ``record`` as it is now (the caller has locked it and verified the signer).

    ``meanings``: those the signed act accepts (``SignatureMeaning`` values).
    """
    if not isinstance(signer, VerifiedSigner):
        raise TypeError("only a re-authenticated signer can sign")
    check_meaning(meaning, meanings)
    if reason_required and not reason.strip():
        raise ValidationError({"reason": [REASON_REQUIRED]})
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sign inside the transaction that changes the record")
    user = signer.user
    signature = ElectronicSignature(
        signer=user,
        printed_name=user.printed_name,
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
