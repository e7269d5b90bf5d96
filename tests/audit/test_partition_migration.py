"""Migration 0007 converts a populated audit table: every record moves to its month's
partition unchanged (MACs and seals still verify), and a redelivery still dedups."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import psycopg
import pytest
from psycopg import sql

from tools.harness import ROOT, pg_server_url

pytestmark = pytest.mark.postgres

SERVER = pg_server_url("TEST_PG_SERVER_URL")

BEFORE = """
import django; django.setup()
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
executor = MigrationExecutor(connection)
leaves = [key for key in executor.loader.graph.leaf_nodes() if key[0] != "audit"]
executor.migrate([*leaves, ("audit", "0006_action_kinds_registered_by_apps")])
from audit.canonical import canonical_text, mac
from audit.capture import build
from audit.store import insert
from audit.sealing import seal
for when in ("2024-11-30T23:59:59.999999+00:00", "2025-02-01T00:00:00.000000+00:00"):
    record = build(action="create", resource_type="tests.migration")
    record["timestamp"] = when
    record["mac"] = mac(canonical_text(record))
    insert([record])
insert([build(action="login")])
seal()
"""

AFTER = """
import django; django.setup()
from django.db import connection
from audit.store import insert
from audit.models import AuditLog
from audit.sealing import verify
with connection.cursor() as cursor:
    cursor.execute(
        "SELECT tableoid::regclass::text, count(*) FROM audit_auditlog "
        "WHERE resource_type = 'tests.migration' GROUP BY 1 ORDER BY 1"
    )
    print(cursor.fetchall())
row = AuditLog.objects.filter(resource_type="tests.migration").values().first()
insert([{**row, "id": str(row["id"]), "timestamp": row["timestamp"].isoformat()}])
result = verify()
print(result.ok, result.problems, AuditLog.objects.filter(resource_type="tests.migration").count())
"""


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_migration_moves_existing_records_into_their_months_partitions():
    name = f"partition_{secrets.token_hex(4)}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"{SERVER}/{name}",
        "REDIS_URL": "",
    }
    try:
        _run(["-c", BEFORE], env)  # everything up to 0005, and records
        _run(["manage.py", "migrate", "--noinput", "-v0"], env)
        placed, verified = _run(["-c", AFTER], env).strip().splitlines()[-2:]
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    assert placed == "[('audit_auditlog_p2024_11', 1), ('audit_auditlog_p2025_02', 1)]"
    assert verified == "True [] 2"
