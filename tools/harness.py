"""What the scripts that drive a real server share: ``make bench``, ``make load`` and the
fuzzing in CI (``tools/fuzz/run.py``), and the tests that run their own redis-server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def pg_server_url(override_variable: str) -> str:
    """The PostgreSQL server (no database): ``$override_variable``, else the server of
    ``DATABASE_URL``, else the local one."""
    if os.environ.get(override_variable):
        return os.environ[override_variable].rstrip("/")
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):
        return database_url.rsplit("/", 1)[0]
    return "postgres://postgres@127.0.0.1:5432"


def redis_flush(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=5).flushdb()
    except redis.RedisError as exc:
        raise SystemExit(f"Redis is needed at {url}: {exc}") from exc


def manage(env: dict[str, str], *args: str) -> str:
    """``manage.py args`` with ``env``; its output, or exit showing the end of it."""
    result = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-5000:] + result.stderr[-5000:])
        raise SystemExit(f"manage.py {args[0]} failed")
    return result.stdout


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL if it has not ended within ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
