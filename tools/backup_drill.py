"""``make backup``: a backup made, restored to a point in time, and checked, on this
machine, with PostgreSQL's own tools (EU GMP Annex 11 §7.2: backups are checked for
restorability).

1. A primary (``initdb``, ``tools.pg_cluster``) with WAL archiving on
   (``archive_command`` copies each finished segment to an archive directory), the
   service migrated onto it.
2. A base backup (``pg_basebackup``), taken while the service is in use.
3. Changes through the service's own code (sites created, their audit records sealed),
   a named restore point (``pg_create_restore_point``), then more changes.
4. A restore into a fresh data directory: the base backup, ``recovery.signal``,
   ``restore_command`` reading the archive, ``recovery_target_name``; PostgreSQL replays
   the archived WAL up to the restore point and promotes.
5. The check: every change committed before the restore point is there, none after
   it, and ``verify_audit --full`` answers ok on the restored copy.

Everything runs on free ports of 127.0.0.1 in temporary directories and is stopped by
PID and removed at the end; the machine's own PostgreSQL is not touched.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools import pg_cluster
from tools.harness import HOST, PY, ROOT

DATABASE = "pharma"
RESTORE_POINT = "drill"

CREATE_SITES = r"""
import json
from stdnum import ean
from core.context import acting_as_system
from sites.models import Site
made = []
with acting_as_system("backup-drill"):
    for n, code in enumerate(CODES):
        body = f"40{START + n:010d}"
        made.append(str(Site.objects.create(
            code=code, name=f"Drill {code}", gln=body + ean.calc_check_digit(body), country="DE"
        ).pk))
print(json.dumps(made))
"""

COUNT_RECORDS = r"""
import json
from audit.models import AuditLog
print(json.dumps(AuditLog.objects.count()))
"""

COUNT_SITES = r"""
import json
from sites.models import Site
codes = Site.objects.filter(code__startswith="DR-").values_list("code", flat=True)
print(json.dumps(sorted(codes)))
"""


@dataclass
class Drill:
    """What the drill did and found."""

    before: list[str] = field(default_factory=list)  # codes committed before the point
    after: list[str] = field(default_factory=list)  # codes committed after it
    restored: list[str] = field(default_factory=list)  # codes found in the restored copy
    verify: dict[str, Any] = field(default_factory=dict)  # verify_audit --full's answer
    verify_ok: bool = False
    archived_segments: int = 0
    records_at_point: int = 0  # audit records on the primary at the restore point
    records_after: int = 0  # and once the later changes were made
    records_restored: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            self.verify_ok
            and sorted(self.before) == self.restored
            and self.records_restored == self.records_at_point < self.records_after
        )


def service_env(url: str, secret: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secret,
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": url,
        "DATABASE_POOL": "false",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "EMAIL_URL": "memorymail://",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
    }


def manage(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"manage.py {args[0]} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return result


def _shell(env: dict[str, str], script: str) -> Any:
    out = manage(env, "shell", "-c", script).stdout
    return json.loads(out.strip().splitlines()[-1])


_made = 0  # sites created so far in this drill: each a GLN of its own


def _create(env: dict[str, str], codes: list[str]) -> None:
    global _made
    script = CREATE_SITES.replace("CODES", repr(codes)).replace("START", str(_made))
    _shell(env, script)
    _made += len(codes)
    manage(env, "seal_audit")


def _wait_archived(primary: pg_cluster.Cluster, timeout: float = 60) -> int:
    """Switch to a new WAL segment and wait until the old one is archived."""
    segment = primary.sql("SELECT pg_walfile_name(pg_switch_wal())")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = primary.sql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
        if last and last >= segment:
            return int(primary.sql("SELECT archived_count FROM pg_stat_archiver"))
        time.sleep(0.2)
    raise RuntimeError(f"WAL segment {segment} was never archived")


def run() -> Drill:
    drill = Drill()
    started = time.monotonic()
    archive = pg_cluster.owned_tempdir("pg-archive-")
    primary = pg_cluster.primary(
        archive_mode="on", archive_command=f"test ! -f {archive}/%f && cp %p {archive}/%f"
    )
    backup: Path | None = None
    restored: pg_cluster.Cluster | None = None
    secret = secrets.token_urlsafe(64)
    try:
        primary.sql(f"CREATE DATABASE {DATABASE}")
        env = service_env(primary.url(DATABASE), secret)
        manage(env, "migrate", "--noinput", "-v0")
        _create(env, ["DR-OLD-1"])  # before the base backup
        drill.before.append("DR-OLD-1")
        drill.seconds["prepare"] = time.monotonic() - started

        mark = time.monotonic()
        backup = pg_cluster.base_backup(primary)
        drill.seconds["base_backup"] = time.monotonic() - mark

        codes = ["DR-BEFORE-1", "DR-BEFORE-2"]
        _create(env, codes)
        drill.before += codes
        drill.records_at_point = _shell(env, COUNT_RECORDS)
        primary.sql(f"SELECT pg_create_restore_point('{RESTORE_POINT}')")
        codes = ["DR-AFTER-1", "DR-AFTER-2"]
        _create(env, codes)
        drill.after += codes
        drill.records_after = _shell(env, COUNT_RECORDS)
        drill.archived_segments = _wait_archived(primary)

        mark = time.monotonic()
        restored = pg_cluster.restore(
            backup,
            restore_command=f"cp {archive}/%f %p",
            recovery_target_name=RESTORE_POINT,
        )
        drill.seconds["restore"] = time.monotonic() - mark
        restored_env = service_env(restored.url(DATABASE), secret)
        drill.restored = _shell(restored_env, COUNT_SITES)
        drill.records_restored = _shell(restored_env, COUNT_RECORDS)
        check = manage(restored_env, "verify_audit", "--full", check=False)
        drill.verify_ok = check.returncode == 0
        try:
            drill.verify = json.loads(check.stdout)
        except ValueError:
            drill.verify = {"output": (check.stdout + check.stderr)[-2000:]}
    finally:
        if restored is not None:
            restored.remove()
        primary.remove()
        if backup is not None:
            shutil.rmtree(backup.parent, ignore_errors=True)
        shutil.rmtree(archive, ignore_errors=True)
    drill.seconds["total"] = time.monotonic() - started
    return drill


def main() -> None:
    if not pg_cluster.available():
        raise SystemExit("make backup needs PostgreSQL's binaries (initdb, pg_ctl, pg_basebackup)")
    drill = run()
    print(
        f"base backup in {drill.seconds['base_backup']:.1f} s; "
        f"{drill.archived_segments} WAL segments archived"
    )
    print(f"restored to the point {RESTORE_POINT!r} in {drill.seconds['restore']:.1f} s")
    print(f"committed before the point: {sorted(drill.before)}")
    print(f"committed after it:         {sorted(drill.after)}")
    print(f"found in the restored copy: {drill.restored}")
    print(
        f"audit records: {drill.records_at_point} at the point, {drill.records_after} after it,"
        f" {drill.records_restored} restored"
    )
    print(
        f"verify_audit --full on the restored copy: {'ok' if drill.verify_ok else 'FAILED'} "
        f"({json.dumps({k: v for k, v in drill.verify.items() if not isinstance(v, list)})})"
    )
    print(f"drill {'passed' if drill.ok else 'FAILED'} in {drill.seconds['total']:.0f} s")
    if not drill.ok:
        print(json.dumps(drill.verify, indent=2), file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
