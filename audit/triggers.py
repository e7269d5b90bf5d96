"""Database triggers that make the audit tables append-only, for each vendor.

PostgreSQL rejects UPDATE, DELETE and TRUNCATE; SQLite rejects UPDATE and DELETE.
On SQLite, a migration that alters an audit table rebuilds it and drops its triggers:
such a migration must create them again (see 0004).

``audit_auditlog`` is partitioned by month on PostgreSQL (audit/partitions.py): the row
trigger on it is cloned onto every partition, the TRUNCATE trigger is made per partition.

Only a superuser who disables triggers (``session_replication_role = replica``) gets
past them, and the MACs and the seal chain show what they did.
"""

TABLES = ("audit_auditlog", "audit_auditseal", "audit_auditarchive", "audit_auditcheckpoint")
# The tables of migration 0002, which must keep making exactly these; later tables get
# their triggers from their own migrations.
FIRST_TABLES = ("audit_auditlog", "audit_auditseal")
MESSAGE = "audit tables are append-only"

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE} (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def postgres_create(tables: tuple[str, ...] = TABLES) -> list[str]:
    sql = [POSTGRES_FUNCTION]
    for table in tables:
        sql += [
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_reject_change();",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();",
        ]
    return sql


def postgres_drop(tables: tuple[str, ...] = TABLES, *, function: bool = True) -> list[str]:
    sql = []
    for table in tables:
        sql += [
            f"DROP TRIGGER IF EXISTS {table}_no_change ON {table};",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
        ]
    return [*sql, "DROP FUNCTION IF EXISTS audit_reject_change();"] if function else sql


def sqlite_create(tables: tuple[str, ...] = TABLES) -> list[str]:
    sql = []
    for table in tables:
        for op in ("UPDATE", "DELETE"):
            sql.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"
            )
    return sql


def sqlite_drop(tables: tuple[str, ...] = TABLES) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_{op};"
        for table in tables
        for op in ("update", "delete")
    ]


def create_sql(vendor: str, tables: tuple[str, ...] = TABLES) -> list[str]:
    if vendor == "postgresql":
        return postgres_create(tables)
    return sqlite_create(tables) if vendor == "sqlite" else []


def drop_sql(vendor: str, tables: tuple[str, ...] = TABLES, *, function: bool = True) -> list[str]:
    """``function=False`` keeps the shared trigger function (other tables use it)."""
    if vendor == "postgresql":
        return postgres_drop(tables, function=function)
    return sqlite_drop(tables) if vendor == "sqlite" else []
