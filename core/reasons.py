"""Reasons for change (EU GMP Annex 11 §9): a change to a GMP record says why.

Updates, deletes and status moves of the models in ``AUDIT_REASON_REQUIRED_FOR``
(model labels) need a reason bound to the context: the ``X-Change-Reason`` header or a
body ``reason`` (API), the form's "Reason for change" (admin), ``--reason`` (commands),
the publishing request's reason (tasks). Creates and reads need none; other models keep
an optional reason, stored when given.

Two places enforce it. Services call ``require`` before any work, so a refused change
does nothing at all (no lock, no e-mail); ``audit.reasons.check``, called where every
change record is written, is the net under every path, and raising there rolls the
change back with its transaction. Lifecycle acts named by their verb (a batch's start,
complete, release, reject; an inspection's outcome) are not edits: they run under
``named_act``, their own record names what happened, and signed acts carry the
signature's reason.

This module is the plumbing every door shares (binding, cleaning, the refusal); it
lives in core so that the admin and command bases use it without depending on audit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from core.context import get_context, update_context

MAX_LENGTH = 2000
REQUIRED = (
    "A reason for the change is required for {model}: send the X-Change-Reason header "
    "or a reason field."
)
TOO_LONG = f"The reason for the change is longer than {MAX_LENGTH} characters."
_named_act: ContextVar[str] = ContextVar("named_act", default="")


class ReasonRequired(ValidationError):
    """No reason bound for a change that needs one: a 400 on ``reason``."""

    def __init__(self, resource_type: str) -> None:
        super().__init__(
            {
                "reason": [
                    ValidationError(REQUIRED.format(model=resource_type), code="reason_required")
                ]
            }
        )


def required_types() -> frozenset[str]:
    """``AUDIT_REASON_REQUIRED_FOR`` as audit resource types (lower-case labels)."""
    return frozenset(label.lower() for label in settings.AUDIT_REASON_REQUIRED_FOR)


def clean(value: Any) -> str:
    """A reason as given: stripped (whitespace only is none); too long is refused."""
    text = str(value or "").strip()
    if len(text) > MAX_LENGTH:
        raise ValidationError({"reason": [ValidationError(TOO_LONG, code="reason_too_long")]})
    return text


def bound() -> str:
    return get_context().change_reason.strip()


def bind(value: Any) -> None:
    """Bind a reason given with the change (a body field, a form field) for the rest of
    the request or command; nothing given leaves what is bound (the header)."""
    text = clean(value)
    if text:
        update_context(change_reason=text)


@contextlib.contextmanager
def given(value: Any) -> Iterator[None]:
    """``bind`` for a block only (one admin form, one command run)."""
    previous = get_context().change_reason
    bind(value)
    try:
        yield
    finally:
        update_context(change_reason=previous)


def require(model: Any) -> str:
    """Refuse a change of ``model`` now, before any work, when it needs a reason and none
    is bound; the reason otherwise."""
    label = model._meta.label_lower
    reason = bound()
    if not reason and label in required_types() and not _named_act.get():
        raise ReasonRequired(label)
    return reason


def in_named_act() -> bool:
    """A lifecycle act named by its verb is running (``named_act``)."""
    return bool(_named_act.get())


@contextlib.contextmanager
def named_act(action: str, *, reason: str = "") -> Iterator[None]:
    """A lifecycle act named by its verb: the changes it makes need no reason of their
    own. ``reason`` (a signature's) is recorded on them when no other was given."""
    token = _named_act.set(str(action))
    previous = get_context().change_reason
    if reason.strip() and not previous.strip():
        update_context(change_reason=reason.strip()[:MAX_LENGTH])
    try:
        yield
    finally:
        update_context(change_reason=previous)
        _named_act.reset(token)
