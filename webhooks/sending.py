"""One signed POST to a subscriber, as the Standard Webhooks specification has it.

Headers ``webhook-id`` (the event's id: the same on every retry and redelivery, so a
receiver de-duplicates by it), ``webhook-timestamp`` (Unix seconds) and
``webhook-signature`` (``v1,<base64 HMAC-SHA256 of id.timestamp.body>``, one per secret
in force, space-separated, made by the ``standardwebhooks`` package). The request goes
to the address the guard checked, with the URL's host for TLS and ``Host``; redirects
are not followed; the whole exchange has ``WEBHOOK_TIMEOUT_SECONDS``. One drain's
requests share a kept-alive connection (``Sender``).
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


class Sender:
    """Sends to a subscription over one kept-alive connection, for one drain (at most
    ``WEBHOOK_DRAIN_SECONDS``). The connection is opened to the address the guard
    checked when it was opened, at delivery time: a later answer of the DNS cannot
    move it. Any failure closes it, so the next attempt resolves and checks again."""

    def __init__(self) -> None:
        self._pool: urllib3.HTTPConnectionPool | None = None
        self._target: Target | None = None
        self._url = ""

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        self._pool, self._target, self._url = None, None, ""

    def send(self, *, url: str, secrets_in_force: list[str], msg_id: str, body: str) -> Outcome:
        """POST ``body``; a 2xx answer is a success, anything else (3xx too) a failure."""
        started = time.monotonic()

        def elapsed() -> float:
            return round((time.monotonic() - started) * 1000, 3)

        if self._pool is None or self._target is None or url != self._url:
            self.close()
            try:
                self._target = check(url)
            except UnsafeURL as exc:
                return Outcome(False, None, elapsed(), f"refused: {exc}"[:MAX_ERROR])
            self._pool = _pool(self._target, settings.WEBHOOK_TIMEOUT_SECONDS)
            self._url = url
        now = datetime.now(UTC)
        headers = {
            "Host": self._target.host_header,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature(secrets_in_force, msg_id, now, body),
        }
        try:
            response = self._pool.urlopen(
                "POST",
                self._target.path,
                body=body.encode(),
                headers=headers,
                redirect=False,
                preload_content=False,
                assert_same_host=False,
                timeout=urllib3.Timeout(total=settings.WEBHOOK_TIMEOUT_SECONDS),
            )
            answer = response.read(RESPONSE_READ_LIMIT)
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            # The receiver's side of the exchange: whatever fails, it is a failed attempt.
            self.close()
            reason = getattr(exc, "reason", None) or exc
            return Outcome(False, None, elapsed(), f"{type(exc).__name__}: {reason}"[:MAX_ERROR])
        status = response.status
        if 200 <= status < 300 and len(answer) < RESPONSE_READ_LIMIT:
            response.release_conn()  # read to its end: the connection can carry the next
        else:
            self.close()
        if 200 <= status < 300:
            return Outcome(True, status, elapsed())
        return Outcome(False, status, elapsed(), f"HTTP {status}")


def send(*, url: str, secrets_in_force: list[str], msg_id: str, body: str) -> Outcome:
    """One POST on a connection of its own."""
    with Sender() as sender:
        return sender.send(url=url, secrets_in_force=secrets_in_force, msg_id=msg_id, body=body)
