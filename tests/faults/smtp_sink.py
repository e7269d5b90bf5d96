"""A minimal SMTP server on 127.0.0.1 that keeps what it accepts, for e-mail delivery tests.

A message counts as delivered when the server has its whole content and answers 250, as
a real server would. ``hold()`` makes the server sit on the next DATA command without
answering, so a test can kill the sender in the middle of a delivery; a sender that goes
away leaves nothing delivered.
"""

from __future__ import annotations

import socketserver
import threading
from email import message_from_bytes
from email.message import Message
from typing import Any


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        self.reply("220 sink ESMTP")
        recipients: list[str] = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "RCPT":
                recipients.append(line.decode().split(":", 1)[1].strip().strip("<>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.server.receiving.set()
                self.server.release.wait(timeout=120)
                self.reply("354 end with <CRLF>.<CRLF>")
                chunks = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    chunks.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                if chunk == b"":
                    return  # the sender went away before the end of its message
                self.server.accept(recipients, b"".join(chunks))
                recipients = []
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # MAIL, RSET, NOOP
                self.reply("250 ok")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.messages: list[tuple[list[str], Message]] = []
        self.receiving = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def accept(self, recipients: list[str], raw: bytes) -> None:
        with self.lock:
            self.messages.append((recipients, message_from_bytes(raw)))


class SmtpSink:
    def __init__(self) -> None:
        self.server = _Server()
        self.port = self.server.server_address[1]
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SmtpSink:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.release.set()
        self.server.shutdown()
        self.server.server_close()

    def hold(self) -> None:
        """Answer the next DATA commands only after ``release``."""
        self.server.receiving.clear()
        self.server.release.clear()

    def release(self) -> None:
        self.server.release.set()

    def receiving(self, timeout: float) -> bool:
        return self.server.receiving.wait(timeout)

    def recipients(self) -> list[str]:
        with self.server.lock:
            return [address for to, _ in self.server.messages for address in to]
