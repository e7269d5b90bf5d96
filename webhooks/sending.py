"""One signed POST to a subscriber, as the Standard Webhooks specification has it.

Headers ``webhook-id`` (the event's id: the same on every retry and redelivery, so a
receiver de-duplicates by it), ``webhook-timestamp`` (Unix seconds) and
``webhook-signature`` (``v1,<base64 HMAC-SHA256 of id.timestamp.body>``, one per secret
in force, space-separated, made by the ``standardwebhooks`` package). The request goes
to the address the guard checked, with the URL's host for TLS and ``Host``; redirects
are not followed; the whole exchange has ``WEBHOOK_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import secrets
import ssl
import time
from base64 import b64encode
from dataclasses import dataclass
from datetime import UTC, datetime

import urllib3
from django.conf import settings
from standardwebhooks import Webhook

from webhooks.guard import Target, UnsafeURL, check

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
SECRET_BYTES = 32
USER_AGENT = "pharma-mes-webhooks/1"
MAX_ERROR = 500
RESPONSE_READ_LIMIT = 4096


def new_secret() -> str:
    return SECRET_PREFIX + b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(secrets_in_force: list[str], msg_id: str, timestamp: datetime, body: str) -> str:
    return " ".join(Webhook(secret).sign(msg_id, timestamp, body) for secret in secrets_in_force)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None
    duration_ms: float
    error: str = ""


def _pool(target: Target, timeout: float) -> urllib3.HTTPConnectionPool:
    limit = urllib3.Timeout(total=timeout)
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=limit,
            retries=False,
            maxsize=1,
            server_hostname=target.host,
            assert_hostname=target.host,
            ssl_context=ssl.create_default_context(),
        )
    return urllib3.HTTPConnectionPool(
        target.address, target.port, timeout=limit, retries=False, maxsize=1
    )


def send(*, url: str, secrets_in_force: list[str], msg_id: str, body: str) -> Outcome:
    """POST ``body``; a 2xx answer is a success, anything else (3xx included) a failure."""
    started = time.monotonic()

    def elapsed() -> float:
        return round((time.monotonic() - started) * 1000, 3)

    try:
        target = check(url)  # again now: the name may resolve elsewhere than it did
    except UnsafeURL as exc:
        return Outcome(False, None, elapsed(), f"refused: {exc}"[:MAX_ERROR])
    now = datetime.now(UTC)
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature(secrets_in_force, msg_id, now, body),
    }
    pool = _pool(target, settings.WEBHOOK_TIMEOUT_SECONDS)
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body.encode(),
            headers=headers,
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            response.read(RESPONSE_READ_LIMIT)
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        reason = getattr(exc, "reason", None) or exc
        return Outcome(False, None, elapsed(), f"{type(exc).__name__}: {reason}"[:MAX_ERROR])
    finally:
        pool.close()
    status = response.status
    if 200 <= status < 300:
        return Outcome(True, status, elapsed())
    return Outcome(False, status, elapsed(), f"HTTP {status}")
