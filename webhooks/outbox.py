"""The sink of ``core.topics.publish``: a published event into the outbox, in the
change's transaction, and a fan-out asked for once it commits (``webhooks.delivery``).

Asking costs the request nothing: the commit hook wakes a thread of the process, which
rings the doorbell (one cache ``add``, at most every ``RING_EVERY_SECONDS``, the commits
in between rung together) and publishes the fan-out task only when the doorbell was not
rung already; the task clears it before it reads the outbox, so it
sees every event committed before a ring it silenced. A doorbell whose task was lost
(or that a worker on another cache could not clear) expires after
``tasks.DOORBELL_SECONDS``, and a ring a dying process never made is the sweep's:
events wait, they are not lost. Tasks run in-process (no broker): the ring is
made at once, in the commit hook.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import cast

from celery import current_app
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Field

from core import atcommit
from core.topics import Event
from webhooks import tasks
from webhooks.models import OutboxEvent, Subscription

logger = logging.getLogger(__name__)

_wake = threading.Event()
_lock = threading.Lock()
_ringer_pid: int | None = None


# The row OutboxEvent.objects.create would insert (seq from the identity column,
# fanned_out_at NULL), as one statement that can travel with the COMMIT.
_INSERT = (
    "INSERT INTO webhooks_outboxevent"
    " (event_id, type, version, site_id, codename, occurred_at, body, only_for_id)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)


_FIELDS = [
    cast(Field, OutboxEvent._meta.get_field(name))  # type: ignore[type-arg]
    for name in (
        "event_id",
        "type",
        "version",
        "site_id",
        "codename",
        "occurred_at",
        "body",
        "only_for",
    )
]


def write(event: Event, *, only_for: Subscription | None = None) -> None:
    """The outbox row of ``event``, written with the change's COMMIT (``core.atcommit``:
    no round trip of its own); ``only_for`` sends it to that subscription alone (a
    test event)."""
    values = (
        event.id,
        event.type,
        event.version,
        event.site_id,
        event.codename,
        event.occurred_at,
        event.body,
        only_for.pk if only_for is not None else None,
    )
    # As the ORM would store them on this database (a UUID on SQLite is 32 hex digits).
    atcommit.write(
        _INSERT,
        [
            field.get_db_prep_value(value, connection)
            for field, value in zip(_FIELDS, values, strict=True)
        ],
    )
    transaction.on_commit(request_fan_out)


def request_fan_out() -> None:
    if current_app.conf.task_always_eager:
        ring()
        return
    _ensure_ringer()
    _wake.set()


def ring() -> bool:
    """Whether a fan-out was asked for (False: the bell was rung already)."""
    if cache.add(tasks.DOORBELL, 1, timeout=tasks.DOORBELL_SECONDS) is False:
        return False  # a fan-out is on its way and will read this event
    tasks.request_fan_out()
    return True


# A process rings at most this often; a commit during the pause is rung at its end, so
# the last event of a burst waits this long at most.
RING_EVERY_SECONDS = 0.05


def _ringer() -> None:
    again_at: float | None = None
    while True:
        _wake.wait(None if again_at is None else max(again_at - time.monotonic(), 0.0))
        _wake.clear()
        asked = False
        try:
            asked = ring()
        except Exception:
            logger.exception("webhook_fan_out_request_failed")  # the sweep delivers
        finally:
            connection.close()
        # Silenced: if the fan-out it waited for had read the outbox already (its task
        # lost, or a worker clearing another cache), ring once more when the bell is gone.
        again_at = None if asked else time.monotonic() + tasks.DOORBELL_SECONDS
        time.sleep(RING_EVERY_SECONDS)


def _ensure_ringer() -> None:
    global _ringer_pid
    pid = os.getpid()
    if _ringer_pid == pid:
        return
    with _lock:
        if _ringer_pid == pid:
            return
        _ringer_pid = pid
    threading.Thread(target=_ringer, name="webhooks-ringer", daemon=True).start()
