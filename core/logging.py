"""Structured logs: one JSON object per line, carrying the request context."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import structlog
from structlog.typing import EventDict

from core.context import get_context

SECRET_KEY_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "key",
    "authorization",
    "cookie",
    "session",
    "credential",
    "otp",
)
REDACTED = "[REDACTED]"


def is_secret_key(key: object) -> bool:
    lowered = str(key).lower()
    return any(part in lowered for part in SECRET_KEY_PARTS)


def redact(value: Any, _depth: int = 0) -> Any:
    """Replace values whose key looks secret, at any depth."""
    if _depth > 50:
        return REDACTED
    if isinstance(value, dict):
        return {
            k: (REDACTED if is_secret_key(k) else redact(v, _depth + 1)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, _depth + 1) for v in value]
    return value


class RequestContextFilter(logging.Filter):
    """Adds the request id, user and client IP to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = get_context()
        record.request_id = ctx.request_id
        record.user_id = ctx.user_id
        record.client_ip = ctx.ip
        return True


class CacheErrorFilter(logging.Filter):
    """One line, not a traceback, for each cache error django-redis turns into a miss.

    With Redis down that is several records per request; their tracebacks flooded the
    log, and the console format (rich tracebacks with locals) took seconds to render
    each, so a dead cache slowed every request down after all.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            record.error = f"{type(error).__name__}: {error}"[:300]
            record.exc_info = None
            record.exc_text = None
            record.msg, record.args = "cache_error_ignored", ()
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _add_context(_: Any, __: str, event_dict: EventDict) -> EventDict:
    record = event_dict.get("_record")
    if record is not None:
        for name in ("request_id", "user_id", "client_ip"):
            value = getattr(record, name, None)
            if value:
                event_dict.setdefault(name, value)
    else:
        ctx = get_context()
        if ctx.request_id:
            event_dict.setdefault("request_id", ctx.request_id)
        if ctx.user_id:
            event_dict.setdefault("user_id", ctx.user_id)
    return event_dict


def _redact_event(_: Any, __: str, event_dict: EventDict) -> EventDict:
    return {
        k: (REDACTED if k not in ("event", "logger") and is_secret_key(k) else redact(v))
        for k, v in event_dict.items()
    }


FOREIGN_PRE_CHAIN: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    _add_context,
    structlog.stdlib.ExtraAdder(),
]

_FINAL: list[Any] = [
    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
    _redact_event,
]


class AccessJSONFormatter(logging.Formatter):
    """The access log line (``core.access``, one per request) as ``json_formatter``
    writes it, built straight from the record: its fields are known and flat (nothing
    to redact, no traceback), so none of the processor chain needs to run for it. The
    request id, user and client address are the ``RequestContextFilter``'s."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "event": record.getMessage(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "timestamp": datetime.fromtimestamp(record.created, UTC)
            .isoformat()
            .replace("+00:00", "Z"),
            "request_id": getattr(record, "request_id", None),
            "client_ip": getattr(record, "client_ip", None),
            "request": getattr(record, "request", None),
            "code": getattr(record, "code", None),
            "duration_ms": getattr(record, "duration_ms", None),
            "user_id": getattr(record, "user_id", None),
        }
        return json.dumps(line, default=str)


def json_formatter() -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        processors=[
            *_FINAL,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(default=str),
        ],
        foreign_pre_chain=FOREIGN_PRE_CHAIN,
    )


def console_formatter() -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        processors=[*_FINAL, structlog.dev.ConsoleRenderer(colors=False)],
        foreign_pre_chain=FOREIGN_PRE_CHAIN,
    )


def configure_structlog() -> None:
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_context,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
