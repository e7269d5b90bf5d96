"""A real webhook receiver on 127.0.0.1 for tests: it records every request, checks its
signature with the ``standardwebhooks`` package against the secrets it is given, and
answers as told (a status, a delay, a redirect). Stopped by the test that started it."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from tools.harness import free_port


@dataclass
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: str
    verified_with: list[str] = field(default_factory=list)  # secrets that verify it

    @property
    def payload(self) -> Any:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


class Receiver:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.secrets: list[str] = []
        self.received: list[Received] = []
        self.status = 200
        self.delay = 0.0
        self.location = ""
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._released.set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                got = Received(time.monotonic(), self.path, headers, body)
                for secret in list(receiver.secrets):
                    try:
                        Webhook(secret).verify(body, headers)
                    except WebhookVerificationError:
                        continue
                    got.verified_with.append(secret)
                with receiver._lock:
                    receiver.received.append(got)
                receiver._released.wait(60)
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                try:
                    self.wfile.write(b"ok")
                except OSError:
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def hold(self) -> None:
        """Requests wait (unanswered) until ``release``."""
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def got(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def types(self) -> list[str]:
        return [r.payload["type"] for r in self.got()]
