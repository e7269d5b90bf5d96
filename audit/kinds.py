"""The kinds of audit record, registered by the app that owns each.

The trail's own kinds (generic changes, access and security events) are registered by
the audit app; each domain app registers the named events it writes (``batch_release``
by batches, ``serial_status`` by serializations, …) from its ``AppConfig.ready``. The
column holds the kind's name; no choices live in the schema, so a new verb costs no
audit migration and no edit of the audit app.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

MAX_NAME = 32


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    # Written in the transaction of the change it describes (not an access record).
    change: bool = True
    # Changes an existing record: for the models of AUDIT_REASON_REQUIRED_FOR it needs a
    # reason for change (``audit.reasons``).
    edit: bool = False


_kinds: dict[str, Kind] = {}


def register(*kinds: Kind) -> None:
    """Make ``kinds`` known; registering the same kind twice alike is harmless."""
    for kind in kinds:
        if not kind.name or len(kind.name) > MAX_NAME:
            raise ImproperlyConfigured(f"Audit kind {kind.name!r}: 1 to {MAX_NAME} characters.")
        known = _kinds.get(kind.name)
        if known is not None and known != kind:
            raise ImproperlyConfigured(f"Audit kind {kind.name!r} is registered twice, unalike.")
        _kinds[kind.name] = kind


def get(name: str) -> Kind:
    try:
        return _kinds[name]
    except KeyError:
        raise LookupError(f"{name!r} is not a registered kind of audit record.") from None


def choices() -> list[tuple[str, str]]:
    """(name, label) of every kind, by name: for filters and the admin."""
    return [(kind.name, kind.label) for kind in sorted(_kinds.values(), key=lambda k: k.name)]


def change_kinds() -> frozenset[str]:
    return frozenset(name for name, kind in _kinds.items() if kind.change)
