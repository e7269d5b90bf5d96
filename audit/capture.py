"""Building audit records and writing them.

Change records (``record_change``, ``record_bulk``, ``record_event``) are inserted at
once, in the caller's transaction: a change that rolls back leaves no record and a
committed change always has one. Access records (``record_access``) belong to no
transaction and go through ``audit.writer`` (Celery, batched, synchronous fallback).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.utils import timezone

from audit import kinds, reasons, writer
from audit.canonical import canonical_text, mac, safe_values
from audit.choices import Action
from audit.store import insert
from core.context import get_context, system_username

logger = logging.getLogger(__name__)

MAX_ID_LIST = 1000
ANONYMOUS = "anonymous"


def build(
    *,
    action: str,
    resource_type: str = "",
    resource_id: Any = "",
    site_id: Any = None,
    old_values: dict[str, Any] | None = None,
    new_values: dict[str, Any] | None = None,
    changed_fields: Iterable[str] = (),
    actor_id: Any = None,
    actor_username: str | None = None,
    status_code: int | None = None,
    duration_ms: float | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """A complete record as a dict (JSON-safe, redacted, with its MAC). ``action`` is a
    registered kind (``audit.kinds``); an unknown one is a programming error."""
    kinds.get(action)
    ctx = get_context()
    if actor_username is None:
        actor_id = actor_id if actor_id is not None else ctx.user_id
        # Nothing bound: a request without credentials is anonymous; a shell, a command
        # or a job no one asked for names itself (never a bare "system").
        actor_username = ctx.username or (ANONYMOUS if ctx.method else system_username())
    record: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "timestamp": timezone.now().isoformat(timespec="microseconds"),
        "action": str(action),
        "actor_id": str(actor_id) if actor_id else None,
        "actor_username": (actor_username or "")[:150],
        "resource_type": resource_type[:64],
        "resource_id": str(resource_id)[:64] if resource_id is not None else "",
        "site_id": str(site_id) if site_id else None,
        "old_values": safe_values(old_values),
        "new_values": safe_values(new_values),
        "changed_fields": sorted(changed_fields),
        "request_id": ctx.request_id[:64],
        "ip": ctx.ip,
        "user_agent": ctx.user_agent[:512],
        "method": ctx.method[:10],
        "path": ctx.path[:1024],
        "status_code": status_code,
        "duration_ms": None if duration_ms is None else round(float(duration_ms), 3),
        "reason": (reason if reason is not None else ctx.change_reason)[:2000],
    }
    record["mac"] = mac(canonical_text(record))
    return record


def record_event(**kwargs: Any) -> dict[str, Any]:
    """A change record, inserted now, in the caller's transaction."""
    record = build(**kwargs)
    reasons.check(record)  # raising here rolls the change back with its transaction
    if not connection.in_atomic_block:
        logger.warning("audit_record_outside_transaction", extra={"action": record["action"]})
    insert([record])
    return record


def record_change(
    *,
    action: str,
    instance: Any,
    old_values: dict[str, Any] | None = None,
    new_values: dict[str, Any] | None = None,
    changed_fields: Iterable[str] = (),
    site_id: Any = None,
) -> dict[str, Any]:
    return record_event(
        action=action,
        resource_type=resource_type_of(type(instance)),
        resource_id=instance.pk,
        site_id=site_id,
        old_values=old_values,
        new_values=new_values,
        changed_fields=changed_fields,
    )


def resource_type_of(model: Any) -> str:
    """What a record names a model by: a proxy (a second admin page of the same rows)
    by the model whose table it is, so that one row has one trail."""
    return str(model._meta.concrete_model._meta.label_lower)


def record_bulk(
    *,
    action: str,
    model: Any,
    ids: Iterable[Any] | None = None,
    id_range: tuple[Any, Any] | None = None,
    count: int,
    site_id: Any = None,
    values: dict[str, Any] | None = None,
    summary: dict[str, Any] | None = None,
    resource_id: Any = "",
    changed_fields: Iterable[str] | None = None,
) -> dict[str, Any]:
    """One record for a bulk write (``bulk_create``, ``QuerySet.update``/``delete``).

    Names what was touched: the ids (up to 1,000, else the first and last with the
    count) or an id range, the count, and the values set. ``changed_fields`` defaults
    to the keys of ``values``.
    """
    touched: dict[str, Any] = {"count": count}
    if ids is not None:
        id_list = [str(i) for i in ids]
        if len(id_list) <= MAX_ID_LIST:
            touched["ids"] = id_list
        else:
            touched["first_id"], touched["last_id"] = id_list[0], id_list[-1]
    if id_range is not None:
        touched["id_range"] = [str(id_range[0]), str(id_range[1])]
    if summary:
        touched.update(summary)
    return record_event(
        action=action,
        resource_type=resource_type_of(model),
        resource_id=resource_id,
        site_id=site_id,
        new_values={"touched": touched, **({"values": values} if values else {})},
        changed_fields=sorted(changed_fields if changed_fields is not None else values or {}),
    )


def record_access(
    *,
    action: str = Action.REQUEST,
    status_code: int | None = None,
    duration_ms: float | None = None,
    resource_type: str = "",
    resource_id: Any = "",
    site_id: Any = None,
    new_values: dict[str, Any] | None = None,
    actor_id: Any = None,
    actor_username: str | None = None,
) -> dict[str, Any]:
    """An access record: handed to the writer, outside any transaction."""
    record = build(
        action=action,
        status_code=status_code,
        duration_ms=duration_ms,
        resource_type=resource_type,
        resource_id=resource_id,
        site_id=site_id,
        new_values=new_values,
        actor_id=actor_id,
        actor_username=actor_username,
    )
    # Buffered and written outside the caller's transaction: a refused request that
    # rolls back keeps its access record.
    writer.submit(record)
    return record
