"""Two PostgreSQL roles: the owner, which runs migrations and owns every table, and the
application's role, which owns nothing and may only read and write rows.

The application's role cannot alter a table (and so cannot disable a trigger), cannot
set ``session_replication_role`` (superuser only) and has no UPDATE, DELETE or TRUNCATE
on the audit tables and their monthly partitions (the partitions the service's beat job
makes later copy the parent's privileges, see audit/partitions.py). ``grant_app_role``
is idempotent; ``migrate`` runs it after every
migration when ``DATABASE_MIGRATE_URL`` names the owner (see config/settings/base.py),
and ``manage.py grant_app_role ROLE`` runs it by hand.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connections

from audit.triggers import TABLES as AUDIT_TABLES

TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
AUDIT_PRIVILEGES_REFUSED = "UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER"


def grant_sql(role: str, quote: Any, *, partitions: tuple[str, ...] = ()) -> list[str]:
    """The statements, for the current user as owner of the tables in ``public``;
    ``partitions`` are the audit trail's monthly tables, append-only like it."""
    who = quote(role)
    audit = ", ".join(quote(table) for table in (*AUDIT_TABLES, *partitions))
    return [
        f"GRANT USAGE ON SCHEMA public TO {who}",
        f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO {who}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {who}",
        # Tables and sequences the owner creates later (new migrations) follow.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {TABLE_PRIVILEGES} ON TABLES TO {who}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {who}",
        # Append-only: the audit trail is read and inserted into, nothing else.
        f"REVOKE {AUDIT_PRIVILEGES_REFUSED} ON {audit} FROM {who}",
        # The beat job makes next months' partitions through the owner's function.
        *(
            [f"GRANT EXECUTE ON FUNCTION audit_ensure_partitions(integer) TO {who}"]
            if partitions
            else []
        ),
    ]


def grant_app_role(role: str, using: str = "default") -> None:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # Attached or detached by archiving (audit/archive.py): append-only either way.
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = "
            "'public'::regnamespace AND (relname LIKE 'audit\\_auditlog\\_p%%' "
            "OR relname = 'audit_auditlog_default') ORDER BY relname"
        )
        partitions = tuple(name for (name,) in cursor.fetchall())
        for sql in grant_sql(role, connection.ops.quote_name, partitions=partitions):
            cursor.execute(sql)


def grant_after_migrate(using: str = "default", **kwargs: Any) -> None:
    """post_migrate: grant the application's role when migrations ran as the owner."""
    role = getattr(settings, "DATABASE_APP_ROLE", "")
    if role and role != connections[using].settings_dict.get("USER"):
        grant_app_role(role, using=using)
