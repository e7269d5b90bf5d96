"""A real Celery worker process for tests, on a private Redis database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
# Read at import, before any test changes settings.
_TEST_EAGER = settings.CELERY_TASK_ALWAYS_EAGER
_TEST_BROKER = settings.CELERY_BROKER_URL


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    def __init__(self, broker_url: str, log_path: Path, extra_env: dict[str, str] | None = None):
        self.broker_url = broker_url
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url(),
            "TEST_CELERY_BROKER_URL": self.broker_url,
            "TEST_CELERY_EAGER": "0",
            "CELERY_VISIBILITY_TIMEOUT": "3",
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "CELERY_UNACKED_RESTORE_THROTTLE": "1",
            **self.extra_env,
        }
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "--hostname",
                f"test-{os.getpid()}-{time.monotonic_ns()}@localhost",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_for(predicate: Any, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


class publishing_to:
    """Point this process's Celery app at a real broker for the duration of a test."""

    def __init__(self, broker_url: str) -> None:
        self.broker_url = broker_url

    def __enter__(self) -> Any:
        from config.celery import app

        self.app = app
        # What the test settings say, not what a test may have changed them to.
        self.saved = {
            "broker_url": _TEST_BROKER,
            "task_always_eager": _TEST_EAGER,
        }
        self._reset_pool()
        app.conf.broker_url = self.broker_url
        app.conf.task_always_eager = False
        return app

    def __exit__(self, *exc: Any) -> None:
        self._reset_pool()
        self.app.conf.update(self.saved)

    def _reset_pool(self) -> None:
        from kombu import pools

        pools.reset()  # kombu keeps pools per connection URL, globally
        self.app._pool = None
        self.app.amqp._producer_pool = None


def flush_redis_db(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()
