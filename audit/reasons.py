"""The audit trail's net under every door for reasons for change (see ``core.reasons``
for the rule and the plumbing): a change record of a GMP model without a reason."""

from __future__ import annotations

from typing import Any

from audit import kinds
from core.reasons import ReasonRequired, in_named_act, required_types


def required(action: str, resource_type: str) -> bool:
    """A record of ``action`` on ``resource_type`` needs a reason: the kind changes an
    existing row (``Kind.edit``: updates, deletes, serial status moves) of a GMP model."""
    return kinds.get(action).edit and resource_type.lower() in required_types()


def check(record: dict[str, Any]) -> None:
    """The net under every door: a change record of a GMP model without a reason."""
    if in_named_act() or record["reason"].strip():
        return
    if required(record["action"], record["resource_type"]):
        raise ReasonRequired(record["resource_type"])
