"""The canonical text of an audit record, its MAC, and JSON-safe values.

The canonical text is what the MAC and the seal chain are computed over. It is
recomputed from the stored row on verification, so every value is written in one
normal form, the one the database gives back: UUIDs and IPs as text, times as UTC ISO
8601 with microseconds, JSON with sorted keys, numbers and strings as jsonb returns them
(``json_safe``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import hmac
import ipaddress
import json
import math
import re
import uuid
from functools import lru_cache
from typing import Any

from django.conf import settings

from core.logging import redact

CONTENT_FIELDS = (
    "id",
    "timestamp",
    "action",
    "actor_id",
    "actor_username",
    "resource_type",
    "resource_id",
    "site_id",
    "old_values",
    "new_values",
    "changed_fields",
    "request_id",
    "ip",
    "user_agent",
    "method",
    "path",
    "status_code",
    "duration_ms",
    "reason",
)


_NOT_IN_JSONB = re.compile("[\x00\ud800-\udfff]")


def _as_stored_text(value: str) -> str:
    """PostgreSQL's jsonb refuses NUL and unpaired surrogates: stored as U+FFFD."""
    return _NOT_IN_JSONB.sub("\ufffd", value) if _NOT_IN_JSONB.search(value) else value


def _as_stored_float(value: float) -> float | int | str:
    """The number as jsonb gives it back, so the text hashed at capture is the text
    recomputed from the stored row: jsonb keeps numbers as ``numeric``, which has no
    negative zero and no exponent, so ``-0.0`` comes back as ``0.0`` and ``1e16`` as the
    integer ``10000000000000000``. Non-finite numbers are no JSON: kept as text."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return 0.0
    text = repr(value)
    if "e+" in text:
        return int(decimal.Decimal(text))
    return value


def json_safe(value: Any, _depth: int = 0) -> Any:
    """A JSON-serializable form of a model value (recursively, bounded), written as
    PostgreSQL's jsonb will return it."""
    if _depth > 40:
        return "[TOO DEEP]"
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return _as_stored_text(value)
    if isinstance(value, float):
        return _as_stored_float(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {_as_stored_text(str(k)): json_safe(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_safe(v, _depth + 1) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, bytes | memoryview):
        return "[BINARY]"
    return str(value)


def safe_values(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """JSON-safe and with secrets redacted at any depth."""
    if values is None:
        return None
    result: dict[str, Any] | None = redact(json_safe(values))
    return result


def _norm_time(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    result: str | None = value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return result


def _norm_ip(value: Any) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        return str(value)


def canonical_text(record: Any) -> str:
    """From a model instance or a dict with the content fields."""

    def get(name: str) -> Any:
        return record.get(name) if isinstance(record, dict) else getattr(record, name)

    content = {name: get(name) for name in CONTENT_FIELDS}
    content["id"] = str(content["id"])
    content["timestamp"] = _norm_time(content["timestamp"])
    for name in ("actor_id", "site_id"):
        content[name] = str(content[name]) if content[name] else None
    content["ip"] = _norm_ip(content["ip"])
    duration = content["duration_ms"]
    content["duration_ms"] = None if duration is None else round(float(duration), 3)
    content["status_code"] = None if content["status_code"] is None else int(content["status_code"])
    content["changed_fields"] = list(content["changed_fields"] or [])
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return hashlib.sha256(b"audit-mac:" + secret.encode()).digest()


def mac(text: str) -> str:
    return hmac.new(_key(settings.AUDIT_HMAC_KEY), text.encode(), hashlib.sha256).hexdigest()


def mac_ok(record: Any) -> bool:
    return hmac.compare_digest(mac(canonical_text(record)), record.mac or "")


@lru_cache(maxsize=4)
def chain_key(secret: str) -> bytes:
    return hashlib.sha256(b"audit-chain:" + secret.encode()).digest()
