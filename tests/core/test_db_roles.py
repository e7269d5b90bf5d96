"""Least-privilege database roles: migrations run as the owner of the tables
(DATABASE_MIGRATE_URL), the service connects as a role that owns nothing; with the
service's credentials the audit trail can be read and appended to, nothing else."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import sql

from audit.partitions import partition_name
from tools.harness import ROOT, pg_server_url

pytestmark = pytest.mark.postgres

SERVER = pg_server_url("TEST_PG_SERVER_URL")
CURRENT_PARTITION = partition_name(datetime.now(UTC).date())


def _admin() -> psycopg.Connection:
    return psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=5)


@pytest.fixture(scope="module")
def roles() -> Iterator[dict[str, str]]:
    """A fresh database owned by a non-superuser owner, migrated as that owner, and an
    application role; all dropped afterwards."""
    suffix = secrets.token_hex(4)
    names = {"db": f"roles_{suffix}", "owner": f"owner_{suffix}", "app": f"app_{suffix}"}
    with _admin() as admin:
        for role in (names["owner"], names["app"]):
            admin.execute(
                sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE").format(
                    sql.Identifier(role)
                )
            )
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(names["db"]), sql.Identifier(names["owner"])
            )
        )
    base = SERVER.rsplit("@", 1)[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{names['app']}@{base}/{names['db']}",
        "DATABASE_MIGRATE_URL": f"postgres://{names['owner']}@{base}/{names['db']}",
        "REDIS_URL": "",
    }
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        yield {**names, "base": base}
    finally:
        with _admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(names["db"])
                )
            )
            for role in (names["app"], names["owner"]):
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _connect(roles: dict[str, str], who: str) -> psycopg.Connection:
    return psycopg.connect(
        f"postgres://{roles[who]}@{roles['base']}/{roles['db']}", autocommit=True
    )


def test_migrations_ran_as_the_owner_and_the_app_role_owns_nothing(roles):
    with _connect(roles, "app") as app:
        owners = dict(
            app.execute(
                "SELECT tableowner, count(*) FROM pg_tables WHERE schemaname = 'public' "
                "GROUP BY tableowner"
            ).fetchall()
        )
        superuser = app.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")

        assert set(owners) == {roles["owner"]}
        assert superuser.fetchone() == (False,)


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE audit_auditlog DISABLE TRIGGER ALL",
        "ALTER TABLE audit_auditlog DISABLE TRIGGER audit_auditlog_no_change",
        "DROP TRIGGER audit_auditlog_no_change ON audit_auditlog",
        "SET session_replication_role = replica",
        "UPDATE audit_auditlog SET action = 'login'",
        "DELETE FROM audit_auditlog",
        "TRUNCATE audit_auditlog",
        "UPDATE audit_auditseal SET hash = hash",
        "DELETE FROM audit_auditseal",
        "TRUNCATE audit_auditseal",
        "DROP TABLE audit_auditlog",
        "CREATE TABLE intruder (id int)",
        # Every monthly partition, present and made later, is append-only too.
        f"UPDATE {CURRENT_PARTITION} SET action = 'login'",
        f"DELETE FROM {CURRENT_PARTITION}",
        f"TRUNCATE {CURRENT_PARTITION}",
        "TRUNCATE audit_auditlog_default",
        f"ALTER TABLE audit_auditlog DETACH PARTITION {CURRENT_PARTITION}",
        "SELECT audit_create_partition('2031-01-01')",
        "SELECT audit_protect_partition('audit_auditlog_default')",
        "UPDATE audit_auditarchive SET sha256 = sha256",
        "DELETE FROM audit_auditarchive",
    ],
)
def test_the_app_role_cannot_touch_the_audit_trail(roles, statement):
    with _connect(roles, "app") as app, pytest.raises(psycopg.errors.InsufficientPrivilege):
        app.execute(statement)


def test_the_app_role_reads_writes_rows_and_appends_audit_records(roles):
    with _connect(roles, "app") as app:
        app.execute("SELECT count(*) FROM audit_auditlog").fetchone()
        app.execute("UPDATE accounts_user SET first_name = first_name")
        app.execute("DELETE FROM accounts_usersession")
        privileges = app.execute(
            "SELECT privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = current_user AND table_name LIKE 'audit\\_auditlog%%'"
        ).fetchall()

    assert {p for (p,) in privileges} == {"SELECT", "INSERT"}


def test_the_app_role_makes_partitions_ahead_that_are_append_only(roles):
    # The beat job's call, as the service: partitions owned by the owner, with the
    # parent's privileges for the service and the TRUNCATE trigger of their own.
    with _connect(roles, "app") as app:
        made = [name for (name,) in app.execute("SELECT audit_ensure_partitions(8)")]
        again = app.execute("SELECT audit_ensure_partitions(8)").fetchall()
        owners = app.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE tablename = ANY(%s)", [made]
        ).fetchall()
        privileges = app.execute(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = current_user AND table_name = ANY(%s)",
            [made],
        ).fetchall()
        triggers = app.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid::regclass::text = ANY(%s) "
            "AND tgname LIKE '%%no_truncate'",
            [made],
        ).fetchone()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute(f"TRUNCATE {made[-1]}")

    assert made and again == []
    assert owners == [(roles["owner"],)]
    assert sorted(privileges) == sorted((t, p) for t in made for p in ("INSERT", "SELECT"))
    assert triggers == (len(made),)


def test_the_service_signs_in_and_audits_as_the_app_role(roles):
    # A whole request path as the service: create a user through the service layer and
    # sign in, which writes change and access records to the audit trail.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{roles['app']}@{roles['base']}/{roles['db']}",
        "REDIS_URL": "",
    }
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "from accounts.services import user_create\n"
        "from audit.models import AuditLog\n"
        "user_create(username='role.check', email='role.check@example.com',"
        " password='Role-check-pass-2026')\n"
        "r = Client(HTTP_HOST='127.0.0.1').post('/api/auth/token/',"
        " {'username': 'role.check', 'password': 'Role-check-pass-2026'},"
        " content_type='application/json')\n"
        "assert r.status_code == 200, r.content\n"
        "print(AuditLog.objects.count())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert int(result.stdout.strip().splitlines()[-1]) >= 2


def test_settings_select_the_owner_for_migrate_and_archiving_only():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": "postgres://app_role@127.0.0.1:5432/pharma",
        "DATABASE_MIGRATE_URL": "postgres://owner_role@127.0.0.1:5432/pharma",
    }
    script = (
        "import sys; sys.argv = ['manage.py', sys.argv[1]]\n"
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "print(settings.DATABASES['default']['USER'], settings.DATABASE_APP_ROLE)\n"
    )
    users = {}
    for command in ("migrate", "archive_audit", "runserver"):
        result = subprocess.run(
            [sys.executable, "-c", script, command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        users[command] = result.stdout.split()

    assert users == {
        "migrate": ["owner_role", "app_role"],
        "archive_audit": ["owner_role", "app_role"],  # detaches partitions: DDL
        "runserver": ["app_role", "app_role"],
    }
