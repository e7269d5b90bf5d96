"""Access records: buffered per process, handed to Celery in batches, never lost quietly.

``submit`` appends to the buffer. The buffer is flushed at the end of a request once
its oldest record is older than ``AUDIT_ACCESS_FLUSH_SECONDS`` or it holds a batch, by
a timer thread otherwise, and at exit. A flush publishes one task per batch; the
worker writes the batch as one multi-row insert and skips ids already stored, so a
redelivered task never stores a record twice. When no broker is configured, or the
broker refuses the task, the batch is inserted synchronously.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from typing import Any

from django.conf import settings
from django.db import connection

from audit.store import insert
from audit.tasks import write_access_records

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_buffer: list[dict[str, Any]] = []
_oldest: float | None = None
_timer_pid: int | None = None


def submit(record: dict[str, Any]) -> None:
    global _oldest
    with _lock:
        _buffer.append(record)
        if _oldest is None:
            _oldest = time.monotonic()
    _ensure_timer()
    if not connection.in_atomic_block:
        flush(force=False)


def flush(*, force: bool = True) -> int:
    """Deliver buffered records; unless forced, only when old or numerous enough."""
    global _oldest
    with _lock:
        if not _buffer:
            return 0
        due = (
            force
            or len(_buffer) >= settings.AUDIT_ACCESS_BATCH_SIZE
            or (
                _oldest is not None
                and time.monotonic() - _oldest >= settings.AUDIT_ACCESS_FLUSH_SECONDS
            )
        )
        if not due:
            return 0
        batch = list(_buffer)
        _buffer.clear()
        _oldest = None
    deliver(batch)
    return len(batch)


# After the broker refused a batch, write synchronously for this long before trying
# the broker again, so a dead broker does not cost every flush a connection attempt.
BROKER_BACKOFF_SECONDS = 5.0
_broker_down_until = 0.0


def deliver(records: list[dict[str, Any]]) -> None:
    global _broker_down_until
    size = settings.AUDIT_ACCESS_BATCH_SIZE
    for start in range(0, len(records), size):
        chunk = records[start : start + size]
        if settings.CELERY_TASK_ALWAYS_EAGER or time.monotonic() < _broker_down_until:
            _insert_now(chunk)
            continue
        try:
            write_access_records.apply_async(args=[chunk], retry=False)
        except Exception:
            logger.warning("audit_broker_unavailable_writing_synchronously", exc_info=True)
            _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
            _insert_now(chunk)


def _insert_now(chunk: list[dict[str, Any]]) -> None:
    try:
        insert(chunk)
    except Exception:
        # Nothing else can take them: keep them for the next flush rather than drop them.
        logger.exception("audit_access_records_not_written", extra={"count": len(chunk)})
        with _lock:
            _buffer[:0] = chunk


def _timer_loop() -> None:
    interval = max(settings.AUDIT_ACCESS_FLUSH_SECONDS, 0.05)
    while True:
        time.sleep(interval)
        try:
            flush(force=False)
        except Exception:
            logger.exception("audit_flush_failed")
        finally:
            connection.close()


def _ensure_timer() -> None:
    global _timer_pid
    pid = os.getpid()
    if (
        _timer_pid == pid
        or settings.CELERY_TASK_ALWAYS_EAGER
        or settings.AUDIT_ACCESS_FLUSH_SECONDS <= 0  # every request end flushes anyway
    ):
        return
    with _lock:
        if _timer_pid == pid:
            return
        _timer_pid = pid
    threading.Thread(target=_timer_loop, name="audit-writer", daemon=True).start()


atexit.register(lambda: flush(force=True))
