"""``make load``: locust against the service, then a completeness check of the database.

What runs, all on 127.0.0.1 and all started and ended here by process id:

- a fresh PostgreSQL database ``pharma_load`` (dropped and created again every run, so
  the check can count exactly; left in place afterwards for a post-mortem), migrated and
  seeded with two sites, a product, users of every role, planned batches and a released
  batch with serials to scan;
- gunicorn with production settings (DEBUG off), 2 gthread workers x 4 threads, on a
  free port; Redis database 10 as the cache and 11 as the Celery broker (flushed before
  and after);
- one Celery worker (solo pool), so access records and e-mails take their real path;
- locust, headless, ``LOAD_USERS`` users (default 16) for ``LOAD_SECONDS`` (default 60),
  the mix of ``tools/load/locustfile.py``; every request is journalled with its
  request id and outcome.

Afterwards ``tools/load/check.py`` compares the database with the journal. Figures and the
check's result are printed as markdown and written to ``bench-results/load.md``. The
exit status is non-zero when the check fails, a response was a 5xx, or any request
failed (an unexpected 4xx means the scenario or the service is wrong).

Environment: ``LOAD_SECONDS``, ``LOAD_USERS``, ``LOAD_SPAWN_RATE`` (users per second,
default 4), ``LOAD_PG_URL`` (server URL without a database; default from
``DATABASE_URL`` or ``postgres://postgres@127.0.0.1:5432``), ``LOAD_DATABASE``
(``pharma_load``), ``LOAD_REDIS`` (server URL without a database number; default
``redis://127.0.0.1:6379``), ``LOAD_CACHE_DB`` (10), ``LOAD_BROKER_DB`` (11).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import subprocess
import sys
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

OUT = ROOT / "bench-results"
BIN = Path(PY).parent
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
USERS = int(os.environ.get("LOAD_USERS", "16"))
SPAWN_RATE = float(os.environ.get("LOAD_SPAWN_RATE", "4"))
DATABASE = os.environ.get("LOAD_DATABASE", "pharma_load")
REDIS = os.environ.get("LOAD_REDIS", "redis://127.0.0.1:6379").rstrip("/")
CACHE_DB = int(os.environ.get("LOAD_CACHE_DB", "10"))
BROKER_DB = int(os.environ.get("LOAD_BROKER_DB", "11"))
GUNICORN_WORKERS, GUNICORN_THREADS = 2, 4
PASSWORD = "load-password-2026-long"
JOURNAL = OUT / "load-journal.jsonl"

SETUP = r"""
import json
from datetime import date, timedelta
from stdnum import ean
from django.core.cache import cache
from accounts.models import User
from batches.models import Batch, Product
from core.context import bind_actor
from rbac.models import Role, RoleAssignment
from serializations import gs1
from serializations.models import SerialNumber
from serializations.services import GenerationRequest, serials_generate
from sites.models import Site

def gln(body):
    return body + ean.calc_check_digit(body)

sites = {}
for code, body in [("LOAD-A", "401234500001"), ("LOAD-B", "401234500002")]:
    sites[code] = Site.objects.create(code=code, name=f"Load plant {code[-1]}", gln=gln(body),
                                      country="DE", timezone="Europe/Berlin")
gtin = "0" + gln("4012345000017"[:12])
product = Product.objects.create(gtin=gtin, name="Load tablets", strength="10 mg",
                                 dosage_form="tablet")
roles = {role.name: role for role in Role.objects.all()}

def user(username, role, *site_codes):
    u = User.objects.create_user(username=username, email=f"{username}@example.com",
                                 password=PASSWORD, first_name=username.split(".")[-1],
                                 last_name="Load")
    for code in site_codes or [None]:
        RoleAssignment.objects.create(user=u, role=roles[role],
                                      site=sites[code] if code else None)
    return u

operators = []
for n in range(1, 4):
    for code in sites:
        name = f"load.op.{code[-1].lower()}{n}"
        user(name, "operator", code)
        operators.append({"username": name, "site": str(sites[code].pk)})
qa = [user(f"load.qa{n}", "qa").username for n in range(1, 4)]
admin = user("load.admin", "admin")
user("load.reader", "auditor")
user("load.scanner", "operator", *sites)
user("load.locked", "operator", "LOAD-A")

today = date.today()
race = {}
for code, site in sites.items():
    race[str(site.pk)] = [str(b.pk) for b in Batch.objects.bulk_create([
        Batch(product=product, site=site, batch_number=f"R{code[-1]}{n:05d}",
              planned_quantity=1000, manufacturing_date=today,
              expiry_date=today + timedelta(days=730), created_by=admin)
        for n in range(200)
    ])]
shipped = Batch.objects.create(product=product, site=sites["LOAD-A"], batch_number="SEED-1",
                               planned_quantity=1000, manufacturing_date=today,
                               expiry_date=today + timedelta(days=730), created_by=admin,
                               status="in_production")
with bind_actor(user_id=str(admin.pk), username=admin.username,
                change_reason="Load test seed: a released batch to scan"):
    serials_generate(actor=admin, batch=shipped, req=GenerationRequest(count=300))
    Batch.objects.filter(pk=shipped.pk).update(status="released")
codes = [gs1.element_string(s.gtin, s.serial, shipped.batch_number, shipped.expiry_date)
         for s in SerialNumber.objects.filter(batch=shipped)]
cache.clear()
users = [o["username"] for o in operators] + qa + ["load.reader", "load.scanner"]
print(json.dumps({
    "password": PASSWORD, "product": str(product.pk), "gtin": gtin,
    "sites": {code: str(site.pk) for code, site in sites.items()},
    "operators": operators, "qa": qa, "reader": "load.reader", "scanner": "load.scanner",
    "locked": "load.locked", "all_users": users, "race_batches": race,
    "sample_batches": race[str(sites["LOAD-A"].pk)][:20], "codes": codes,
    "seeded_batch": str(shipped.pk),
}))
"""


def fresh_database(server: str) -> str:
    import psycopg

    try:
        conn = psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise SystemExit(f"PostgreSQL is needed at {server}: {exc}") from exc
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return f"{server}/{DATABASE}"


def environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": f"{REDIS}/{CACHE_DB}",
        "CELERY_BROKER_URL": f"{REDIS}/{BROKER_DB}",
        "EMAIL_URL": "consolemail://",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def wait_live(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/health/live/", timeout=1) as r:  # noqa: S310
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.stderr.write(log.read_text(errors="replace")[-5000:])
    raise SystemExit("gunicorn did not start")


def drain_broker(worker: subprocess.Popen[bytes], timeout: float = 120) -> int:
    """Wait until the worker has taken every task off the broker and acknowledged it."""
    import redis

    broker = redis.Redis.from_url(f"{REDIS}/{BROKER_DB}")
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline and worker.poll() is None:
        waiting = sum(broker.llen(q) for q in broker.keys("celery*") if broker.type(q) == b"list")
        unacked = broker.hlen("unacked") if broker.exists("unacked") else 0
        quiet = quiet + 1 if waiting + unacked == 0 else 0
        if quiet >= 3:
            return 0
        time.sleep(0.5)
    return waiting + unacked


def percentile(values: list[float], pct: float) -> float:
    """Nearest rank: the smallest value with at least ``pct`` % of them at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def report(journal: list[dict[str, Any]], check: dict[str, Any]) -> tuple[str, int, int]:
    """Per endpoint: requests, req/s, p50/p95/p99, expected 4xx, errors; from the journal.

    The journal has every request, those that users finished after the run time too (the
    stop timeout), so its figures and the completeness check count the same requests.
    """
    window = max(e["at"] + e["ms"] / 1000 for e in journal) - min(e["at"] for e in journal)
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in journal:
        groups.setdefault(entry["name"], []).append(entry)
    lines = [
        f"locust {USERS} users for {SECONDS} s (requests over {window:.0f} s, the stop "
        f"timeout included) against gunicorn {GUNICORN_WORKERS} gthread workers x "
        f"{GUNICORN_THREADS} threads and one Celery worker (solo), PostgreSQL + Redis, "
        "production settings, DEBUG off, 127.0.0.1",
        "",
        "| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | expected 4xx | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = sorted(groups.items(), key=lambda item: (item[0].split(" ", 1)[1], item[0]))
    for label, entries in [*rows, ("**all**", journal)]:
        ms = [e["ms"] for e in entries]
        lines.append(
            f"| {label if label.startswith('*') else f'`{label}`'} | {len(entries)} | "
            f"{len(entries) / window:.1f} | {percentile(ms, 50):.0f} | "
            f"{percentile(ms, 95):.0f} | {percentile(ms, 99):.0f} | "
            f"{sum(e['outcome'] == 'expected' for e in entries)} | "
            f"{sum(e['outcome'] == 'failed' for e in entries)} |"
        )
    errors = sum(e["outcome"] == "failed" for e in journal)
    server_errors = sum((e.get("status") or 0) >= 500 for e in journal)
    expected = sum(e["outcome"] == "expected" for e in journal)
    lines += [
        "",
        f"errors: {errors} (5xx: {server_errors}); expected 4xx (lost races, refused "
        f"moves, a retried release, wrong passwords and the lockout): {expected}",
        "",
        f"completeness check: **{'passed' if check['ok'] else 'FAILED'}**",
        "",
        *[f"- {line}" for line in check["summary"]],
        *[f"- problem: {line}" for line in check["problems"][:50]],
    ]
    if len(check["problems"]) > 50:
        lines.append(f"- ... and {len(check['problems']) - 50} more problems")
    return "\n".join(lines), errors, server_errors


def main() -> int:
    OUT.mkdir(exist_ok=True)
    gunicorn_log, worker_log, locust_log = (
        OUT / "load-gunicorn.log",
        OUT / "load-worker.log",
        OUT / "load-locust.log",
    )
    for path in (gunicorn_log, worker_log, locust_log, JOURNAL):
        path.write_bytes(b"")
    database_url = fresh_database(pg_server_url("LOAD_PG_URL"))
    for db in (CACHE_DB, BROKER_DB):
        redis_flush(f"{REDIS}/{db}")
    env = environment(database_url)
    print(f"load: migrating {DATABASE} and seeding", flush=True)
    manage(env, "migrate", "--noinput")
    setup_out = manage(env, "shell", "-c", SETUP.replace("PASSWORD", repr(PASSWORD)))
    setup = json.loads(setup_out.strip().splitlines()[-1])
    (OUT / "load-setup.json").write_text(json.dumps(setup))

    port = free_port()
    base = f"http://{HOST}:{port}"
    worker = start(
        [str(BIN / "celery"), "-A", "config", "worker", "--pool", "solo", "--loglevel", "WARNING",
         "-n", f"load-{os.getpid()}@%h", "--without-gossip", "--without-mingle"],
        env,
        worker_log,
    )  # fmt: skip
    server = start(
        [PY, "-m", "gunicorn", "config.wsgi:application", "--bind", f"{HOST}:{port}",
         "--workers", str(GUNICORN_WORKERS), "--worker-class", "gthread",
         "--threads", str(GUNICORN_THREADS), "--timeout", "60",
         # Longer than any user's pause (at most 3 s), as behind a reverse proxy that
         # keeps its upstream connections open: with gunicorn's default of 2 s a client
         # may send a POST on a connection the server is closing, and get no answer.
         "--keep-alive", "30",
         "--access-logfile", "/dev/null", "--error-logfile", "-"],
        env,
        gunicorn_log,
    )  # fmt: skip
    leftover = -1
    try:
        wait_live(server, base, gunicorn_log)
        print(f"load: {USERS} users for {SECONDS} s on {base}", flush=True)
        locust_env = {
            **env,
            "LOAD_SETUP": json.dumps(setup),
            "LOAD_JOURNAL": str(JOURNAL),
        }
        result = subprocess.run(
            [str(BIN / "locust"), "-f", str(ROOT / "tools" / "load" / "locustfile.py"),
             "--headless", "--host", base, "--users", str(USERS),
             "--spawn-rate", str(SPAWN_RATE), "--run-time", f"{SECONDS}s",
             # Let every user finish the task it is in: a request cut off mid-flight
             # would have an unknown outcome.
             "--stop-timeout", "30", "--only-summary",
             "--loglevel", "WARNING", "--exit-code-on-error", "0"],
            cwd=ROOT, env=locust_env, stdout=locust_log.open("ab"),
            stderr=subprocess.STDOUT, timeout=SECONDS + 180, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            sys.stderr.write(locust_log.read_text(errors="replace")[-5000:])
            raise SystemExit(f"locust exited with {result.returncode}")
    finally:
        stop(server)  # its workers flush their buffered access records on the way out
        if worker.poll() is None:
            leftover = drain_broker(worker)
        stop(worker, timeout=60)
        for db in (CACHE_DB, BROKER_DB):
            redis_flush(f"{REDIS}/{db}")

    print("load: checking the database against the journal", flush=True)
    checked = subprocess.run(
        [PY, "-m", "tools.load.check", str(JOURNAL)],
        cwd=ROOT,
        env={
            **env,
            "LOAD_SETUP": json.dumps(setup),
            "LOAD_BROKER_LEFTOVER": str(leftover),
            "LOAD_WORKER_LOG": str(worker_log),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        check = json.loads(checked.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        sys.stderr.write(checked.stdout[-5000:] + checked.stderr[-5000:])
        raise SystemExit("the completeness check did not run") from None
    journal = [json.loads(line) for line in JOURNAL.read_text().splitlines() if line]
    text, errors, server_errors = report(journal, check)
    print(text)
    (OUT / "load.md").write_text(text + "\n")
    if not check["ok"] or errors or server_errors:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
