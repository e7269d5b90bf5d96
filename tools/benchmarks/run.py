"""``make bench``: the service under gunicorn on PostgreSQL and Redis, loaded by wrk.

Every figure comes from one run, so ratios between endpoints mean something even on a
shared, noisy machine. ``/health/live/`` is the ceiling: the full middleware stack and
nothing else. Sign-ins are measured with argon2id and with PBKDF2 preferred (a server
on ``tools/benchmarks/settings_pbkdf2.py``), and the signed-in site detail with and
without a flood of wrong sign-ins for random usernames running against the same server.
Results are printed and written to ``bench-results/latest.json``.

Environment: ``BENCH_DATABASE_URL`` (default: database ``pharma_bench`` on the local
PostgreSQL, created if missing), ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/3``),
``BENCH_BROKER_URL`` (default ``redis://127.0.0.1:6379/4``, flushed at the end),
``BENCH_PORT`` (default 8765; the run uses it and the next four ports),
``BENCH_DURATION`` seconds per endpoint (default 10), ``BENCH_CONNECTIONS`` (default 16).
Every server listens on 127.0.0.1 only and every load run stops after its duration.

The audit section runs on its own database, ``pharma_bench_audit`` (``BENCH_AUDIT_DATABASE_URL``):
the trail is grown to each size of ``BENCH_AUDIT_SIZES`` (default ``1000000,10000000``,
full and incremental verification timed, ``tools/benchmarks/audit_verify.py``) and of
``BENCH_AUDIT_LIST_SIZES`` (default ``100000,10000000``: the p99 of
``GET /api/audit-logs/?site=<id>`` through gunicorn). ``BENCH_AUDIT=0`` skips it.

The aggregation section (``tools/benchmarks/aggregation.py``; ``BENCH_AGGREGATION=0``
skips it) packs ``BENCH_AGG_PACKS`` packs into cases and pallets through the API, ships
the pallets, reads the batch's EPCIS document, and measures ``MATCH_epc`` with the event
table topped up to ``BENCH_EPCIS_EVENTS`` rows.

The audited site PATCH publishes an event (``site.updated``): a third server with
publishing switched off (``tools/benchmarks/gunicorn_no_publish.py``) gives what that
adds to the request, as p50 and as CPU time per request (the server's processes,
PostgreSQL's and Redis's, read from ``/proc``), each the median of ``BENCH_PATCH_ROUNDS``
(5) rounds whose order rotates. Under load that comparison swings by ±15 % between runs;
``tools/benchmarks/publishing.py`` measures the same in-process, one request at a time,
which resolves a cost of a few per cent. ``tools/benchmarks/qa.py`` (``BENCH_QA=0`` skips
it) times the trend of a parameter (JSON, SVG, PNG) across 500 batches and with
``BENCH_TREND_BATCHES`` (10,000), and a certificate of analysis. The webhook section
(``tools/benchmarks/webhooks.py``; ``BENCH_WEBHOOKS=0`` skips it) fans
``BENCH_WEBHOOK_EVENTS`` events out to ten subscriptions, one of them down, through a
real worker to nine real receivers. The scale section (``tools/benchmarks/scale.py``;
``BENCH_SCALE=0`` skips it) times the read endpoints at 10^5 and 10^7 serials.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tools.benchmarks import aggregation as aggregation_bench
from tools.benchmarks import scale as scale_bench
from tools.harness import HOST, PY, ROOT, manage, stop

PORT = int(os.environ.get("BENCH_PORT", "8765"))
BASE = f"http://{HOST}:{PORT}"
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS", "gthread")
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
PATCH_ROUNDS = int(os.environ.get("BENCH_PATCH_ROUNDS", "5"))
PASSWORD = "bench-password-2026-long"
# The service's default cap on concurrent password hashing per process.
HASH_SLOTS = int(os.environ.get("PASSWORD_HASH_CONCURRENCY", "2"))


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False)
        path = shutil.which("wrk")
    if not path:
        sys.exit("wrk is needed: apt-get install wrk")
    return path


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def environment() -> dict[str, str]:
    db = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pharma_bench")
    ensure_database(db)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": db,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/4"),
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"),
        # One user sends more than the default budget (30,000/min): the load guard still
        # counts every request, at a budget the benchmark cannot reach.
        "THROTTLE_USER_RATE": "100000000/min",
        "THROTTLE_ANON_RATE": "100000000/min",
        # The webhook receivers of the benchmark listen on 127.0.0.1, in plain http.
        "WEBHOOK_ALLOW_HTTP": "true",
        "WEBHOOK_ALLOWED_HOSTS": HOST,
        "PYTHONPATH": str(ROOT),
    }
    return env


SETUP = r"""
import json
from django.core.cache import cache
from accounts.models import User
from rbac.models import Role, RoleAssignment
from sites.models import Site

site, _ = Site.objects.get_or_create(code="BENCH-01", defaults=dict(
    name="Bench plant", gln="4012345000009", country="DE", timezone="Europe/Berlin"))
user, created = User.objects.get_or_create(username="bench.operator",
    defaults=dict(email="bench.operator@example.com"))
user.set_password(PASSWORD)
user.is_active = True
user.save()
RoleAssignment.objects.get_or_create(user=user, role=Role.objects.get(name="operator"), site=site)
from stdnum import ean
patch_sites = []
for n in range(32):
    body = f"41{n:010d}"
    patch_site, _ = Site.objects.get_or_create(code=f"BP-{n:02d}", defaults=dict(
        name="Bench patch plant", gln=body + ean.calc_check_digit(body), country="DE",
        timezone="Europe/Berlin"))
    patch_sites.append(str(patch_site.pk))
admin, _ = User.objects.get_or_create(username="bench.admin",
    defaults=dict(email="bench.admin@example.com"))
admin.set_password(PASSWORD)
admin.save()
RoleAssignment.objects.get_or_create(user=admin, role=Role.objects.get(name="admin"), site=None)
from datetime import date, timedelta
from batches.models import Batch, Product
product, _ = Product.objects.get_or_create(gtin="04012345000016",
    defaults=dict(name="Bench tablets", strength="10 mg", dosage_form="tablet"))
missing = 10_000 - Batch.objects.filter(site=site).count()
if missing > 0:
    start = Batch.objects.filter(site=site).count()
    Batch.objects.bulk_create([
        Batch(product=product, site=site, batch_number=f"B{start + n:07d}",
              planned_quantity=100_000, manufacturing_date=date(2026, 1, 1)
              + timedelta(days=n % 300),
              expiry_date=date(2028, 1, 1))
        for n in range(missing)
    ], batch_size=2000)
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("VACUUM ANALYZE batches_batch")
qa, _ = User.objects.get_or_create(username="bench.qa", defaults=dict(email="bench.qa@example.com"))
qa.set_password(PASSWORD)
qa.save()
RoleAssignment.objects.get_or_create(user=qa, role=Role.objects.get(name="qa"), site=site)
from django.contrib.auth.hashers import make_password
argon, _ = User.objects.get_or_create(username="bench.argon2",
    defaults=dict(email="bench.argon2@example.com"))
argon.set_password(PASSWORD)
argon.save()
pbkdf2, _ = User.objects.get_or_create(username="bench.pbkdf2",
    defaults=dict(email="bench.pbkdf2@example.com"))
pbkdf2.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
pbkdf2.save()
from axes.models import AccessAttempt
AccessAttempt.objects.all().delete()
# A subscriber to site.updated, so that the audited PATCH publishes its event (nothing
# is delivered: no worker runs during the load).
from webhooks.models import Subscription
from webhooks import services as webhook_services
if not Subscription.objects.filter(description="bench: site.updated").exists():
    webhook_services.subscription_create(actor=admin, url="http://127.0.0.1:9/bench",
        types=["site.updated"], description="bench: site.updated")
cache.clear()
print(json.dumps({"site": str(site.pk), "patch_sites": patch_sites}))
"""


def setup_data(env: dict[str, str]) -> dict[str, Any]:
    out = manage(env, "shell", "-c", SETUP.replace("PASSWORD", repr(PASSWORD)))
    return json.loads(out.strip().splitlines()[-1])


BARE_DJANGO = "tools.benchmarks.bare.wsgi:application"


def start_gunicorn(
    env: dict[str, str],
    config: str | None = None,
    port: int = PORT,
    worker_connections: int | None = None,
    app: str = "config.wsgi:application",
) -> subprocess.Popen[bytes]:
    log = open(ROOT / "bench-results" / "gunicorn.log", "ab")
    extra = ["--config", config] if config else []
    if worker_connections is None:
        worker_connections = max(-(-CONNECTIONS // WORKERS), THREADS + 1)
    process = subprocess.Popen(
        [
            PY,
            "-m",
            "gunicorn",
            app,
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(WORKERS),
            "--worker-class",
            WORKER_CLASS,
            "--threads",
            str(THREADS),
            # wrk opens its connections at once and keeps them; left alone, one worker
            # sometimes accepts most of them and the run measures one process (a third
            # of the throughput, on either endpoint). A per-worker cap spreads them.
            "--worker-connections",
            str(worker_connections),
            "--access-logfile",
            "/dev/null",
            "--error-logfile",
            "-",
            "--timeout",
            "60",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            url = f"http://{HOST}:{port}/health/live/"
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start; see bench-results/gunicorn.log")


def request_json(
    method: str,
    path: str,
    body: dict | None = None,
    token: str | None = None,
    base: str = BASE,
) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{base}{path}", data=data, method=method)  # noqa: S310
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


def login(username: str, base: str = BASE) -> str:
    credentials = {"username": username, "password": PASSWORD}
    return request_json("POST", "/api/auth/token/", credentials, base=base)["access"]


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s)", text)
    if not match:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


def start_wrk(
    wrk: str,
    path: str,
    token: str | None = None,
    script: str | None = None,
    base: str = BASE,
    connections: int = CONNECTIONS,
    duration: int = DURATION,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """wrk in the background; it stops by itself after ``duration`` seconds."""
    threads = min(2, connections)
    args = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency"]
    if script:
        args += ["-s", str(Path(__file__).parent / script)]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    return subprocess.Popen(
        [*args, f"{base}{path}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def wait_wrk(process: subprocess.Popen[str], duration: int = DURATION) -> dict[str, float]:
    try:
        output, errors = process.communicate(timeout=duration + 30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate(timeout=10)
        raise SystemExit("wrk did not stop in time") from None
    if process.returncode != 0:
        raise SystemExit(f"wrk failed: {errors}")
    return parse_wrk(output, duration)


def run_wrk(
    wrk: str,
    path: str,
    token: str | None = None,
    script: str | None = None,
    base: str = BASE,
    connections: int = CONNECTIONS,
    env: dict[str, str] | None = None,
) -> dict[str, float]:
    process = start_wrk(wrk, path, token, script, base, connections, DURATION, env)
    return wait_wrk(process)


def parse_wrk(output: str, duration: int) -> dict[str, float]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.MULTILINE))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    failed = float(non2xx.group(1)) if non2xx else 0.0
    return {
        "rps": rps,
        "ok_per_s": (total - failed) / duration,
        "p50_ms": _ms(percentiles.get("50", "")),
        "p99_ms": _ms(percentiles.get("99", "")),
        "non_2xx": failed,
        "socket_errors": 1.0 if errors else 0.0,
    }


def run_module(env: dict[str, str], *args: str) -> Any:
    """``python -m tools.benchmarks.<args>`` on the benchmark database; its last line."""
    result = subprocess.run(
        [PY, "-m", *args],
        cwd=ROOT,
        env={**env, "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"{' '.join(args)} failed")
    return json.loads(result.stdout.strip().splitlines()[-1])


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def service_cpu_seconds(server: subprocess.Popen[bytes]) -> float:
    """CPU time used so far by ``server``'s gunicorn processes and by every PostgreSQL
    and Redis process (only one server is loaded at a time)."""
    pids = [server.pid]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
        if parent == server.pid or comm in ("postgres", "redis-server"):
            pids.append(int(entry.name))
    return sum(_cpu_seconds(pid) for pid in pids)


def run_wrk_with_cpu(
    wrk: str, path: str, token: str, script: str, server: subprocess.Popen[bytes], base: str
) -> dict[str, float]:
    before = service_cpu_seconds(server)
    result = run_wrk(wrk, path, token, script, base=base)
    requests = result["rps"] * DURATION
    result["cpu_ms_per_request"] = 1000 * (service_cpu_seconds(server) - before) / requests
    return result


def _sizes(variable: str, default: str) -> list[int]:
    return [int(size) for size in os.environ.get(variable, default).split(",") if size.strip()]


def run_audit_benchmark(wrk: str, env: dict[str, str]) -> dict[str, Any]:
    """Verification cost and the audit list's p99 as the trail grows, on its own
    database (the trail only grows, so it is not the main benchmark's)."""
    db = os.environ.get(
        "BENCH_AUDIT_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pharma_bench_audit"
    )
    ensure_database(db)
    verify_sizes = _sizes("BENCH_AUDIT_SIZES", "1000000,10000000")
    list_sizes = _sizes("BENCH_AUDIT_LIST_SIZES", "100000,10000000")
    span = max([*verify_sizes, *list_sizes])
    audit_env = {**env, "DATABASE_URL": db, "LOG_LEVEL": "WARNING", "BENCH_AUDIT_SPAN": str(span)}
    manage(audit_env, "migrate", "--noinput")
    setup_data(audit_env)
    results: dict[str, Any] = {}
    port = PORT + 4
    for size in sorted(set(verify_sizes) | set(list_sizes)):
        run = subprocess.run(
            [PY, "-m", "tools.benchmarks.audit_verify", str(size)],
            cwd=ROOT,
            env=audit_env,
            capture_output=True,
            text=True,
            check=False,
        )
        if run.returncode != 0:
            sys.stderr.write(run.stdout + run.stderr)
            raise SystemExit("the audit benchmark failed")
        measured = json.loads(run.stdout.strip().splitlines()[-1])
        if size in list_sizes:
            server = start_gunicorn(audit_env, port=port)
            base = f"http://{HOST}:{port}"
            try:
                token = login("bench.admin", base=base)
                path = f"/api/audit-logs/?site={measured['site']}"
                run_wrk(wrk, path, token, base=base)  # warm-up, not recorded
                measured["list"] = run_wrk(wrk, path, token, base=base)
            finally:
                stop(server)
        results[str(size)] = measured
    return results


def run_sign_in_benchmark(wrk: str, env: dict[str, str]) -> dict[str, dict[str, float]]:
    """Sign-ins per second with argon2id and with PBKDF2 preferred, one server each.

    Each worker takes ``HASH_SLOTS`` connections: as many sign-ins as it may hash at once
    (one more would be refused with 503, by design), so every request is a real sign-in.
    """
    results: dict[str, dict[str, float]] = {}
    pbkdf2_env = {**env, "DJANGO_SETTINGS_MODULE": "tools.benchmarks.settings_pbkdf2"}
    servers = [
        ("sign_in_pbkdf2", "bench.pbkdf2", pbkdf2_env, PORT + 2),
        ("sign_in_argon2id", "bench.argon2", env, PORT + 3),
    ]
    for name, username, server_env, port in servers:
        server = start_gunicorn(server_env, port=port, worker_connections=HASH_SLOTS)
        try:
            results[name] = run_wrk(
                wrk,
                "/api/auth/token/",
                script="signin.lua",
                base=f"http://{HOST}:{port}",
                connections=WORKERS * HASH_SLOTS,
                env={"BENCH_SIGNIN_USER": username, "BENCH_SIGNIN_PASSWORD": PASSWORD},
            )
        finally:
            stop(server)
    return results


def wait_until_refused(base: str, deadline: float) -> float:
    """Seconds from the flood's start until this address's sign-ins are refused."""
    started = time.monotonic()
    body = json.dumps({"username": "bench.probe", "password": "wrong-password-1"}).encode()
    while time.monotonic() < deadline:
        req = urllib.request.Request(f"{base}/api/auth/token/", data=body, method="POST")  # noqa: S310
        req.add_header("Content-Type", "application/json")
        try:
            urllib.request.urlopen(req, timeout=10).close()  # noqa: S310
        except urllib.error.HTTPError as exc:
            if exc.code == 429 and b"sign_in_flood" in exc.read():
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("the sign-in flood was never refused")


def run_flood_benchmark(
    wrk: str, env: dict[str, str], token: str, path: str
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """The signed-in ``path`` alone, then while ``CONNECTIONS`` more connections post wrong
    passwords for random usernames, on one server that takes both sets of connections."""
    port = PORT + 4
    base = f"http://{HOST}:{port}"
    server = start_gunicorn(
        env, port=port, worker_connections=max(-(-2 * CONNECTIONS // WORKERS), THREADS + 1)
    )
    flood: subprocess.Popen[str] | None = None
    try:
        run_wrk(wrk, path, token, base=base)  # warm-up, not recorded
        alone = run_wrk(wrk, path, token, base=base)
        flood_duration = DURATION + 20  # a bound: it is stopped once the measurement ends
        started = time.monotonic()
        flood = start_wrk(wrk, "/api/auth/token/", None, "flood.lua", base, duration=flood_duration)
        # The flood's first failures are hashed; measure once the address is refused.
        engaged_after = wait_until_refused(base, started + 15)
        under = run_wrk(wrk, path, token, base=base)
        flood.send_signal(signal.SIGINT)  # wrk stops and prints its summary
        output, _ = flood.communicate(timeout=flood_duration + 30)
        statuses = re.search(r"flood statuses: 429=(\d+) 401=(\d+) other=(\d+)", output)
        flood_result = parse_wrk(output, flood_duration)
        flood_result["engaged_after_s"] = engaged_after
        if statuses:
            flood_result.update(
                {
                    "refused_429": float(statuses.group(1)),
                    "unauthorized_401": float(statuses.group(2)),
                    "other": float(statuses.group(3)),
                }
            )
    finally:
        if flood is not None and flood.poll() is None:
            flood.kill()
            flood.communicate(timeout=10)
        stop(server)
    return {"site_detail_alone": alone, "site_detail_under_flood": under}, flood_result


def audit_lines(audit: dict[str, Any]) -> list[str]:
    if not audit:
        return []
    lines = [
        "audit verification (seconds) and the audit list by site, as the trail grows:",
        "",
        "| records | full verify | incremental verify (1,000 new) | sealing 1,000 new | "
        "list p99 ms |",
        "|---|---|---|---|---|",
    ]
    for r in audit.values():
        p99 = f"{r['list']['p99_ms']:.2f}" if "list" in r else "-"
        lines.append(
            f"| {r['records']:,} | {r['full_s']:.2f} | {r['incremental_s']:.3f} "
            f"({r['incremental_checked_records']} read) | {r['seal_new_s']:.3f} | {p99} |"
        )
    listed = [r["list"]["p99_ms"] for r in audit.values() if "list" in r]
    if len(listed) > 1:
        lines += [
            "",
            f"list p99, largest against smallest: {listed[-1] / listed[0]:.2f}x "
            "(target at most 1.5x)",
        ]
    return lines


def main() -> None:
    (ROOT / "bench-results").mkdir(exist_ok=True)
    (ROOT / "bench-results" / "gunicorn.log").write_bytes(b"")
    wrk = ensure_wrk()
    env = environment()
    manage(env, "migrate", "--noinput")
    data = setup_data(env)
    results: dict[str, dict[str, float]] = {}
    site_url = f"/api/sites/{data['site']}/"
    os.environ["BENCH_PATCH_PATHS"] = ",".join(f"/api/sites/{pk}/" for pk in data["patch_sites"])
    bench_site_url = "/api/sites/"

    aggregation: dict[str, Any] = {}
    server = start_gunicorn(env)
    baseline: subprocess.Popen[bytes] | None = None
    try:
        token = login("bench.operator")
        admin_token = login("bench.admin")
        qa_token = login("bench.qa")
        request_json("GET", site_url, token=token)  # warm the permission cache
        cases = [
            ("health_live", "/health/live/", None, None),
            ("site_detail", site_url, token, None),
            ("batch_list_50", "/api/batches/?page_size=50", qa_token, None),
        ]
        for name, path, case_token, script in cases:
            run_wrk(wrk, path, case_token, script)  # warm-up, not recorded
            results[name] = run_wrk(wrk, path, case_token, script)
        # The reference for the fixed cost of a request: a startproject Django with one
        # JSON view, under the same gunicorn flags, measured now, next to health_live.
        reference = start_gunicorn(env, port=PORT + 5, app=BARE_DJANGO)
        try:
            bare = f"http://{HOST}:{PORT + 5}"
            run_wrk(wrk, "/health/live/", base=bare)  # warm-up, not recorded
            results["bare_django_live"] = run_wrk(wrk, "/health/live/", base=bare)
        finally:
            stop(reference)
        # The same service with model-change capture switched off, for the PATCH
        # baseline. PATCH throughput is noisy (WAL flushes, autovacuum): alternate the
        # audited and the unaudited server BENCH_PATCH_ROUNDS times, keep the median of each.
        baseline_port = PORT + 1
        baseline = start_gunicorn(
            env, str(Path(__file__).parent / "gunicorn_no_capture.py"), port=baseline_port
        )
        baseline_base = f"http://{HOST}:{baseline_port}"
        # And with no event published (a site PATCH publishes site.updated), for what
        # publishing adds to the request that causes it.
        unpublished = start_gunicorn(
            env, str(Path(__file__).parent / "gunicorn_no_publish.py"), port=PORT + 2
        )
        unpublished_base = f"http://{HOST}:{PORT + 2}"
        servers = {
            "audited": (server, BASE),
            "unaudited": (baseline, baseline_base),
            "unpublished": (unpublished, unpublished_base),
        }
        runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in servers}
        for _, base in servers.values():
            run_wrk(wrk, bench_site_url, admin_token, "patch.lua", base=base)
        order = list(servers.items())
        for n in range(PATCH_ROUNDS):
            # Each round starts with another server: no server always runs first.
            for kind, (process, base) in order[n % len(order) :] + order[: n % len(order)]:
                runs[kind].append(
                    run_wrk_with_cpu(wrk, bench_site_url, admin_token, "patch.lua", process, base)
                )
        stop(unpublished)
        for kind, measured in runs.items():
            results[f"site_patch_{kind}"] = sorted(measured, key=lambda r: r["rps"])[
                len(measured) // 2
            ]
        # Adjacent runs share the machine's mood: the median of each round's ratio.
        publishing = {
            key: statistics.median(
                published[key] / silent[key]
                for published, silent in zip(runs["audited"], runs["unpublished"], strict=True)
            )
            for key in ("p50_ms", "cpu_ms_per_request", "rps")
        }
        if os.environ.get("BENCH_AGGREGATION", "1") != "0":
            prepared = run_module(env, "tools.benchmarks.aggregation", "prepare")
            aggregation = aggregation_bench.measure(BASE, token, prepared)
            aggregation["stored_events"] = prepared["events"]
            match_url = aggregation.pop("match_epc_uri")
            run_wrk(wrk, match_url, token, None)  # warm-up, not recorded
            results["epcis_match_epc"] = run_wrk(wrk, match_url, token, None)
            aggregation["export_rss"] = run_module(
                env, "tools.benchmarks.aggregation", "export", prepared["batch"]
            )
        results.update(run_sign_in_benchmark(wrk, env))
        # Last: the flood uses up 127.0.0.1's budget of failed sign-ins for a minute.
        flood_cases, flood = run_flood_benchmark(wrk, env, token, site_url)
        results.update(flood_cases)
    finally:
        stop(server)
        if baseline is not None:
            stop(baseline)
        # No worker ran: drop the access-record tasks the runs left on the broker.
        import redis

        redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()

    in_process = run_module(env, "tools.benchmarks.publishing")
    qa: dict[str, Any] = {}
    if os.environ.get("BENCH_QA", "1") != "0":
        qa = run_module(env, "tools.benchmarks.qa")
    fan_out: dict[str, Any] = {}
    if os.environ.get("BENCH_WEBHOOKS", "1") != "0":
        fan_out = run_module(env, "tools.benchmarks.webhooks", "fan_out")
    serials = run_module(env, "tools.benchmarks.serials")
    audit = run_audit_benchmark(wrk, env) if os.environ.get("BENCH_AUDIT", "1") != "0" else {}
    grown = scale_bench.benchmark(wrk, env) if os.environ.get("BENCH_SCALE", "1") != "0" else {}

    ceiling = results["health_live"]["rps"]
    lines = [
        f"gunicorn {WORKERS} {WORKER_CLASS} workers x {THREADS} threads, wrk 2 threads x "
        f"{CONNECTIONS} connections, {DURATION}s per endpoint, PostgreSQL + Redis, DEBUG off",
        "",
        "| endpoint | req/s | p50 ms | p99 ms | non-2xx | % of /health/live/ |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
            f"{r['non_2xx']:.0f} | {100 * r['rps'] / ceiling:.0f}% |"
        )
    share = results["health_live"]["rps"] / results["bare_django_live"]["rps"]
    lines += [
        "",
        f"/health/live/ at {100 * share:.0f}% of a bare startproject Django's JSON view "
        "(bare_django_live: the same gunicorn flags, tools/benchmarks/bare)",
    ]
    audited = results["site_patch_audited"]["rps"] / results["site_patch_unaudited"]["rps"]
    lines += ["", f"audited PATCH at {100 * audited:.0f}% of the unaudited PATCH"]
    published, silent = results["site_patch_audited"], results["site_patch_unpublished"]
    lines += [
        f"publishing its event (site.updated to the outbox), median of {PATCH_ROUNDS} "
        f"alternating rounds: p50 {published['p50_ms']:.2f} ms against "
        f"{silent['p50_ms']:.2f} ms without ({100 * (publishing['p50_ms'] - 1):+.1f}% "
        "round for round; target at most +5%); CPU per request "
        f"{published['cpu_ms_per_request']:.2f} ms against "
        f"{silent['cpu_ms_per_request']:.2f} ms "
        f"({100 * (publishing['cpu_ms_per_request'] - 1):+.1f}%); throughput "
        f"{100 * publishing['rps']:.0f}% of the unpublished PATCH",
    ]
    wall, cpu = in_process["wall_ms"], in_process["cpu_ms"]
    lines += [
        f"the same in-process, one request at a time ({in_process['blocks']} alternating "
        f"blocks of {in_process['requests_per_block']}; tools/benchmarks/publishing.py): "
        f"latency {wall['published']:.2f} ms against {wall['silent']:.2f} ms "
        f"({100 * (wall['ratio'] - 1):+.1f}%; target at most +5%), CPU of the process and "
        f"its PostgreSQL backend {cpu['published']:.2f} ms against {cpu['silent']:.2f} ms "
        f"({100 * (cpu['ratio'] - 1):+.1f}%)",
    ]
    if qa:
        lines += [
            "",
            "QA documents, in-process, one request at a time (tools/benchmarks/qa.py):",
            f"- trend of one parameter across 500 batches: JSON p50 "
            f"{qa['trend_500_json']['p50_ms']:.1f} ms, SVG chart "
            f"{qa['trend_500_svg']['p50_ms']:.1f} ms, PNG chart "
            f"{qa['trend_500_png']['p50_ms']:.1f} ms",
            f"- the trend request with {qa['big_batches']:,} batches of one product "
            f"({qa['big_points']:,} points): p50 {qa['trend_big_json']['p50_ms']:.1f} ms, "
            f"p99 {qa['trend_big_json']['p99_ms']:.1f} ms",
            f"- certificate of analysis of a batch with 10 inspections of 20 results: "
            f"p50 {qa['certificate_10x20']['p50_ms']:.1f} ms",
        ]
    results["qa_documents"] = qa  # type: ignore[assignment]
    results["publishing_ratios"] = publishing  # type: ignore[assignment]
    results["publishing_in_process"] = in_process  # type: ignore[assignment]
    if fan_out:
        lines += [
            "",
            f"webhook fan-out, {fan_out['events']:,} events to {fan_out['subscribers']} "
            f"subscriptions, one of them down ({fan_out['worker_processes']} worker processes): "
            f"{fan_out['delivered']:,} of {fan_out['expected']:,} deliveries to the "
            f"{fan_out['subscribers'] - 1} live receivers in {fan_out['seconds']:.1f} s, "
            f"{fan_out['deliveries_per_s']:,.0f} deliveries/s "
            f"({fan_out['events_per_s']:,.0f} events/s to each of them); "
            f"{fan_out['unverified']} signatures failed, {fan_out['duplicates']} duplicates; "
            f"the dead one was tried {fan_out['dead_attempts']} times "
            f"({fan_out['dead_pending']:,} deliveries waiting)",
        ]
    pbkdf2, argon2 = results["sign_in_pbkdf2"], results["sign_in_argon2id"]
    alone, under = results["site_detail_alone"], results["site_detail_under_flood"]
    lines += [
        "",
        f"sign-ins per second ({WORKERS * HASH_SLOTS} connections, one per hashing slot): "
        f"PBKDF2 {pbkdf2['ok_per_s']:.1f}, argon2id {argon2['ok_per_s']:.1f} "
        f"({argon2['ok_per_s'] / max(pbkdf2['ok_per_s'], 1e-9):.1f}x)",
        f"site detail p50 under a {CONNECTIONS}-connection random-username sign-in flood: "
        f"{under['p50_ms']:.2f} ms against {alone['p50_ms']:.2f} ms without "
        f"({under['p50_ms'] / alone['p50_ms']:.2f}x; target at most 2x); the flood: "
        f"{flood['rps']:.0f} req/s, {flood.get('refused_429', 0):.0f} refused with 429, "
        f"{flood.get('unauthorized_401', 0):.0f} answered 401 (hashed), "
        f"{flood.get('other', 0):.0f} other; refused from "
        f"{flood['engaged_after_s']:.1f} s after it started",
    ]
    ratio = serials["service_rows_per_s"] / serials["ceiling_rows_per_s"]
    lines += [
        "",
        f"serial generation, {serials['serials']:,} random serials for one batch "
        f"(median of {serials['rounds']} alternating rounds):",
        f"- service (COPY, as a job runs it): {serials['service_rows_per_s']:,.0f} serials/s "
        f"{serials['service_runs']}",
        f"- raw ceiling (INSERT ... SELECT generate_series): "
        f"{serials['ceiling_rows_per_s']:,.0f} rows/s {serials['ceiling_runs']}",
        f"- service at {100 * ratio:.0f}% of the ceiling; peak RSS "
        f"{serials['rss_mb_peak_generate']} MB ({serials['rss_mb_before']} MB before)",
        f"- CSV export of that batch: {serials['export_rows']:,} rows, "
        f"{serials['export_mb']} MB at {serials['export_rows_per_s']:,.0f} rows/s; "
        f"peak RSS {serials['rss_mb_peak_export']} MB",
    ]
    if aggregation:
        rss = aggregation["export_rss"]
        lines += [
            "",
            f"aggregation through the API, {aggregation['packs']:,} packs into "
            f"{aggregation['cases']:,} cases of {aggregation_bench.PER_CASE} and "
            f"{aggregation['pallets']} pallets of {aggregation_bench.CASES_PER_PALLET} cases:",
            f"- packing: {aggregation['aggregation_packs_per_s']:,.0f} packs/s "
            f"({aggregation['packs_into_cases_per_s']:,.0f} packs/s into cases, "
            f"{aggregation['cases_onto_pallets_per_s']:,.0f} cases/s onto pallets); "
            f"{aggregation_bench.BIG_REQUEST:,}-child requests "
            f"{aggregation['big_request_packs_per_s']:,.0f} packs/s "
            f"({aggregation['big_request_seconds']:.2f} s a request)",
            f"- shipping the {aggregation['pallets']} pallets: "
            f"{aggregation['ship_packs_per_s']:,.0f} packs/s "
            f"({aggregation['ship_pallets_per_s']:.1f} pallets/s)",
            f"- the batch's EPCIS document: {aggregation['export_events']:,} events, "
            f"{aggregation['export_mb']} MB, {aggregation['export_events_per_s']:,.0f} "
            f"events/s over HTTP; streamed in-process {rss['events_per_s']:,.0f} events/s, "
            f"peak RSS {rss['rss_mb_peak']} MB ({rss['rss_mb_before']} MB before)",
            f"- MATCH_epc with {aggregation['stored_events']:,} stored events: "
            f"p50 {results['epcis_match_epc']['p50_ms']:.2f} ms, "
            f"p99 {results['epcis_match_epc']['p99_ms']:.2f} ms, "
            f"{results['epcis_match_epc']['rps']:.0f} req/s",
        ]
    lines += ["", *audit_lines(audit)]
    if grown:
        lines += ["", *scale_bench.lines(grown)]
    results["scale"] = grown  # type: ignore[assignment]
    results["serials"] = serials  # type: ignore[assignment]
    results["aggregation"] = aggregation  # type: ignore[assignment]
    results["audit"] = audit  # type: ignore[assignment]
    results["webhook_fan_out"] = fan_out  # type: ignore[assignment]
    results["sign_in_flood"] = flood  # every answer is meant to be a 4xx: not in the check
    report = "\n".join(lines)
    print(report)
    (ROOT / "bench-results" / "latest.json").write_text(json.dumps(results, indent=2))
    (ROOT / "bench-results" / "latest.md").write_text(report + "\n")
    # Every sign-in of the flood is meant to be a 4xx.
    checked = {
        n: r
        for n, r in results.items()
        if n
        not in (
            "sign_in_flood",
            "audit",
            "scale",
            "aggregation",
            "webhook_fan_out",
            "publishing_ratios",
            "publishing_in_process",
            "qa_documents",
        )
    }
    failed = [n for n, r in checked.items() if r.get("non_2xx")]
    failed += [f"audit list at {n}" for n, r in audit.items() if r.get("list", {}).get("non_2xx")]
    failed += [
        f"{name} at {size} serials"
        for size, r in grown.items()
        for name, e in r["endpoints"].items()
        if e.get("non_2xx")
    ]
    if fan_out and fan_out["delivered"] < fan_out["expected"]:
        failed.append("webhook fan-out (not every delivery arrived)")
    if failed:
        raise SystemExit(f"some benchmark requests failed (non-2xx): {', '.join(failed)}")


if __name__ == "__main__":
    main()
