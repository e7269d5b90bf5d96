"""Fault tests: the service under gunicorn (production settings, DEBUG off) on the pytest
test database, with private redis-server processes for its cache and broker, so a test
can kill and restart them without touching anyone else's Redis.

Every process started here listens on 127.0.0.1, is bounded in time and is ended by its
PID at teardown, before the test database is flushed.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password

from tools.celery_worker import database_url
from tools.harness import free_port
from tools.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PASSWORD = "fault-tests-password-2026"
# The tag on every connection the service opens, so a test terminates those and no other.
APPLICATION_NAME = "faults-service"

needs_redis_server = pytest.mark.skipif(
    not RedisServer.available(), reason="needs the redis-server binary"
)


@pytest.fixture(scope="session")
def password_hash() -> str:
    """A hash production settings accept (PBKDF2), computed once for every test user."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    return make_password(PASSWORD, hasher=PBKDF2PasswordHasher())


@pytest.fixture
def make_user(password_hash: str) -> Callable[..., Any]:
    from tests.accounts.factories import UserFactory

    def _make(**kwargs: Any) -> Any:
        user = UserFactory(**kwargs)
        user.password = password_hash
        user.save(update_fields=["password"])
        return user

    return _make


@dataclass
class Result:
    started: float
    ended: float
    kind: str
    status: int  # 0: no HTTP answer (connection refused or reset, timeout)
    body: Any = None
    request_id: str = ""


class Service:
    """gunicorn with ``config.settings.production`` on a free port of 127.0.0.1."""

    def __init__(self, workdir: Path, env: dict[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log_path = workdir / f"gunicorn-{self.port}.log"
        self.env = env
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"{HOST}:{self.port}",
                "--workers",
                str(self.workers),
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
                "--access-logfile",
                "/dev/null",
                "--error-logfile",
                "-",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if request("GET", f"{self.url}/health/live/", timeout=1).status == 200:
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not start:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def login(self, username: str, password: str = PASSWORD) -> str:
        result = self.call("POST", "/api/auth/token/", {"username": username, "password": password})
        assert result.status == 200, (result.status, result.body)
        return str(result.body["access"])

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        kind: str = "",
        timeout: float = 15,
    ) -> Result:
        return request(method, self.url + path, body, token, kind, timeout)


def request(
    method: str,
    url: str,
    body: Any = None,
    token: str | None = None,
    kind: str = "",
    timeout: float = 15,
) -> Result:
    request_id = secrets.token_hex(12)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310
    req.add_header("Content-Type", "application/json")
    req.add_header("X-Request-ID", request_id)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    started = time.monotonic()
    status, payload = 0, None
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except OSError:
        raw = b""
    if raw:
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = raw[:500]
    return Result(started, time.monotonic(), kind, status, payload, request_id)


@dataclass
class Traffic:
    """Threads that each repeat one kind of request until stopped, recording every answer."""

    results: list[Result] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, step: Callable[[int], Result], pause: float = 0.02) -> None:
        def run() -> None:
            n = 0
            while not self._stop.is_set():
                result = step(n)
                with self._lock:
                    self.results.append(result)
                n += 1
                time.sleep(pause)

        thread = threading.Thread(target=run, daemon=True)
        self._threads.append(thread)
        thread.start()

    def stop(self) -> list[Result]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        return list(self.results)


def service_env(
    *,
    redis_url: str,
    broker_url: str = "",
    email_url: str = "memorymail://",
    **extra: str,
) -> dict[str, str]:
    """Production settings on the test database, tagged with ``APPLICATION_NAME``."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"{database_url()}?application_name={APPLICATION_NAME}",
        "DATABASE_POOL_MAX_SIZE": "6",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": broker_url,
        "EMAIL_URL": email_url,
        "AUDIT_ACCESS_FLUSH_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


@pytest.fixture
def redis_servers(tmp_path: Path) -> Iterator[Callable[[], RedisServer]]:
    """Private redis-server processes, each in its own directory; all stopped at the end."""
    started: list[RedisServer] = []

    def _start() -> RedisServer:
        workdir = tmp_path / f"redis-{len(started)}"
        workdir.mkdir()
        server = RedisServer(workdir)
        server.start()
        started.append(server)
        return server

    yield _start
    for server in started:
        server.stop()


@pytest.fixture
def services(transactional_db: Any, tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Start gunicorn processes; each is stopped (by PID) before the database is flushed."""
    started: list[Service] = []

    def _start(env: dict[str, str], workers: int = 2) -> Service:
        service = Service(tmp_path, env, workers)
        started.append(service)
        service.start()
        return service

    yield _start
    for service in started:
        service.stop()


def server_errors(results: list[Result], allowed: Callable[[Result], bool]) -> list[Result]:
    """5xx answers (and no answer at all) that ``allowed`` does not excuse."""
    return [r for r in results if (r.status >= 500 or r.status == 0) and not allowed(r)]


def summary(results: list[Result], since: float = 0.0) -> str:
    """Per kind and status: how many, and the slowest, for assertion messages."""
    table: dict[tuple[str, int], list[float]] = {}
    for r in results:
        table.setdefault((r.kind, r.status), []).append(r.ended - r.started)
    return "\n".join(
        f"{kind:>16} {status}: {len(times)} max {max(times):.2f}s"
        for (kind, status), times in sorted(table.items())
    )


def worker_env(*, broker_url: str, redis_url: str, email_url: str) -> dict[str, str]:
    """``tools.celery_worker.Worker`` settings: production, sending to ``email_url``."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "CELERY_BROKER_URL": broker_url,
        "REDIS_URL": redis_url,
        "EMAIL_URL": email_url,
        "LOG_LEVEL": "INFO",
        "PYTHONPATH": str(ROOT),
    }
