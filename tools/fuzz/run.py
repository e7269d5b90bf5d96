"""API fuzzing: schemathesis against the live OpenAPI schema, once per role.

The service runs under gunicorn on 127.0.0.1 (a free port) with production settings, on a
throwaway PostgreSQL database (``fuzz_<pid>``, created and dropped here) seeded with the
demo data, and a private Redis database number (flushed before and after). Each role
(``admin``, ``qa``, ``operator`` at one site, ``auditor``, and no token at all) gets a
bounded ``st run`` with a fixed seed and example count, so a run is repeatable and fits
in CI. Any failure of any check fails the script.

    python -m tools.fuzz.run                     # the CI run
    python -m tools.fuzz.run --max-examples 100  # longer (``make fuzz``)

Environment: ``FUZZ_PG_URL`` (server URL without a database name; default from
``DATABASE_URL`` or ``postgres://postgres@127.0.0.1:5432``), ``FUZZ_REDIS_URL`` (default
``redis://127.0.0.1:6379/12``), ``FUZZ_KEEP_LOGS`` to keep the report directory.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from tools.harness import (
    HOST,
    PY,
    ROOT,
    free_port,
    manage,
    pg_server_url,
    redis_flush,
    stop,
)

# The admin token last: its run may deactivate, rename or strip the other fuzz users
# (schemathesis reuses the ids it has seen), which must not leave their runs 401-only.
ROLES = ["anonymous", "auditor", "operator", "qa", "admin"]
CHECKS = [
    "not_a_server_error",
    "response_schema_conformance",
    "content_type_conformance",
    "status_code_conformance",
    "use_after_free",
    "ignored_auth",
]
# Operations that end the very session whose token the run is using (schemathesis reuses
# ids from earlier responses, so it finds its own session); fuzzed without a token only.
# Every other operation is fuzzed, including whatever the schema gains later.
# A traceback up to its last line (the exception), as logged by the server.
TRACEBACK = r"Traceback \(most recent call last\):.*?\n\S[^\n]*"
SESSION_ENDING = ["POST /api/auth/logout/", "DELETE /api/auth/sessions/{id}/"]

SETUP = r"""
import json
from accounts.models import User
from rbac.models import Role, RoleAssignment
from sites.models import Site

site = Site.objects.get(code="FRA-01")
for role, scoped in [("admin", False), ("qa", False), ("operator", True), ("auditor", False)]:
    user, _ = User.objects.get_or_create(
        username=f"fuzz.{role}", defaults={"email": f"fuzz.{role}@example.com"}
    )
    user.set_password(PASSWORD)
    user.save()
    RoleAssignment.objects.get_or_create(
        user=user, role=Role.objects.get(name=role), site=site if scoped else None
    )
print(json.dumps({"ok": True}))
"""


def pg_admin(server: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def environment(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get(
            "FUZZ_SETTINGS_MODULE", "config.settings.production"
        ),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # No broker: Celery tasks (access records, e-mails) run in the request.
        "CELERY_BROKER_URL": "",
        "EMAIL_URL": "consolemail://",
        # The load guard stays on but out of reach: every request still passes through it.
        "THROTTLE_ANON_RATE": "1000000/min",
        "THROTTLE_USER_RATE": "1000000/min",
        # Schemathesis posts junk credentials; the roles signed in after it must still get in.
        "LOGIN_IP_FAILURE_RATE": "1000000/min",
        "LOG_LEVEL": "ERROR",
        "LOG_FORMAT": "console",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


def start_gunicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            PY,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--timeout",
            "60",
            # The request-line limit belongs to the HTTP server (gunicorn or a proxy answers
            # 414 before the application sees the request); lifted so that every generated
            # URL reaches the service under test.
            "--limit-request-line",
            "0",
            "--access-logfile",
            "/dev/null",
            "--error-logfile",
            "-",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/health/live/", timeout=1) as r:
                if r.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    sys.stderr.write(log.read_text(errors="replace")[-5000:])
    raise SystemExit("gunicorn did not start")


def login(base: str, username: str, password: str) -> str:
    body = json.dumps({"username": username, "password": password}).encode()
    request = urllib.request.Request(  # noqa: S310
        f"{base}/api/auth/token/",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return str(json.loads(response.read())["access"])


def st_command(
    base: str, role: str, token: str | None, args: argparse.Namespace, report: Path
) -> list[str]:
    command = [
        str(Path(PY).with_name("st")),
        "--no-color",
        "run",
        f"{base}/api/schema/",
        "--checks",
        ",".join(CHECKS),
        "--seed",
        str(args.seed),
        "--max-examples",
        str(args.max_examples),
        "--phases",
        args.phases,
        "--workers",
        str(args.workers),
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        "--suppress-health-check",
        "all",
        "-H",
        f"X-Change-Reason: fuzzing as {role}",
    ]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
        for name in SESSION_ENDING:
            command += ["--exclude-name", name]
    return command


def junit_counts(report: Path) -> dict[str, int]:
    import xml.etree.ElementTree as ET

    counts = {"operations": 0, "failures": 0, "errors": 0, "skipped": 0}
    if not report.exists():
        return counts
    root = ET.parse(report).getroot()  # noqa: S314
    for case in root.iter("testcase"):
        counts["operations"] += 1
        counts["failures"] += len(case.findall("failure"))
        counts["errors"] += len(case.findall("error"))
        counts["skipped"] += len(case.findall("skipped"))
    return counts


def test_cases(output: str) -> int:
    match = re.search(r"Test cases:\s*\n?\s*(\d+) generated", output)
    return int(match.group(1)) if match else -1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=15)
    parser.add_argument("--seed", type=int, default=20260801)
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    # One schemathesis worker: two threads of this Python can trip over each other
    # compiling (the gh-106905 SystemError above) inside schemathesis itself.
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--roles", default=",".join(ROLES))
    parser.add_argument("--keep-db", action="store_true", help="leave the database for a look")
    args = parser.parse_args()

    server = pg_server_url("FUZZ_PG_URL")
    database = f"fuzz_{os.getpid()}"
    database_url = f"{server}/{database}"
    redis_url = os.environ.get("FUZZ_REDIS_URL", "redis://127.0.0.1:6379/12")
    workdir = Path(tempfile.mkdtemp(prefix="fuzz-"))
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = environment(database_url, redis_url)
    password = secrets.token_urlsafe(24)
    started = time.monotonic()
    results: dict[str, dict[str, Any]] = {}
    server_process: subprocess.Popen[bytes] | None = None

    pg_admin(server, f'CREATE DATABASE "{database}"')
    redis_flush(redis_url)
    try:
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--admin-password", password)
        manage(env, "shell", "-c", SETUP.replace("PASSWORD", repr(password)))
        # Byte-compile the project first: this Python (3.11.7) can raise "AST constructor
        # recursion depth mismatch" when two threads compile source at once (CPython
        # gh-106905, fixed in 3.11.8), which a first import inside a request could do.
        subprocess.run(
            [PY, "-m", "compileall", "-q", "-x", r"/\.(venv|git)/", str(ROOT)], check=False
        )
        server_process = start_gunicorn(env, port, workdir / "gunicorn.log")
        for role in args.roles.split(","):
            try:
                token = None if role == "anonymous" else login(base, f"fuzz.{role}", password)
            except OSError as exc:  # urllib's HTTPError included
                results[role] = {"exit": 1}
                print(f"fuzz {role:<9} FAILED to sign in as fuzz.{role}: {exc}", flush=True)
                continue
            report = workdir / f"{role}.xml"
            role_started = time.monotonic()
            run = subprocess.run(
                st_command(base, role, token, args, report),
                cwd=workdir,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            output = run.stdout + run.stderr
            (workdir / f"{role}.log").write_text(output)
            counts = junit_counts(report)
            results[role] = {
                "exit": run.returncode,
                "seconds": round(time.monotonic() - role_started, 1),
                "test_cases": test_cases(output),
                **counts,
            }
            ok = run.returncode == 0
            print(
                f"fuzz {role:<9} {'ok' if ok else 'FAILED':<6} {results[role]['seconds']:>6}s "
                f"operations={counts['operations']} test_cases={results[role]['test_cases']} "
                f"failures={counts['failures']} errors={counts['errors']}",
                flush=True,
            )
            if not ok:
                print(output[-20000:], flush=True)
    finally:
        if server_process is not None:
            stop(server_process)
        if any(r["exit"] != 0 for r in results.values()):
            log = workdir / "gunicorn.log"
            if log.exists():
                text = log.read_text(errors="replace")
                tracebacks = re.findall(TRACEBACK, text, re.S)
                print("--- gunicorn log: tracebacks" if tracebacks else "--- gunicorn log (tail)")
                print("\n".join(tracebacks)[-20000:] if tracebacks else text[-8000:])
        try:
            redis_flush(redis_url)
        finally:
            if args.keep_db:
                print(f"fuzz database kept: {database_url}")
            else:
                pg_admin(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if os.environ.get("FUZZ_KEEP_LOGS"):
            print(f"fuzz reports kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    total = round(time.monotonic() - started, 1)
    failed = [role for role, r in results.items() if r["exit"] != 0]
    print(f"fuzz total {total}s, roles with failures: {', '.join(failed) or 'none'}")
    return 1 if failed or len(results) != len(args.roles.split(",")) else 0


if __name__ == "__main__":
    sys.exit(main())
