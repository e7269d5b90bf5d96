"""Database triggers that make the audit tables append-only, for each vendor.

PostgreSQL rejects UPDATE, DELETE and TRUNCATE; SQLite rejects UPDATE and DELETE.
On SQLite, a migration that alters an audit table rebuilds it and drops its triggers:
such a migration must create them again (see 0004).

Only a superuser who disables triggers (``session_replication_role = replica``) gets
past them, and the MACs and the seal chain show what they did.
"""

TABLES = ("audit_auditlog", "audit_auditseal")
MESSAGE = "audit tables are append-only"

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE} (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def postgres_create() -> list[str]:
    sql = [POSTGRES_FUNCTION]
    for table in TABLES:
        sql += [
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_reject_change();",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();",
        ]
    return sql


def postgres_drop() -> list[str]:
    sql = []
    for table in TABLES:
        sql += [
            f"DROP TRIGGER IF EXISTS {table}_no_change ON {table};",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
        ]
    return [*sql, "DROP FUNCTION IF EXISTS audit_reject_change();"]


def sqlite_create() -> list[str]:
    sql = []
    for table in TABLES:
        for op in ("UPDATE", "DELETE"):
            sql.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"
            )
    return sql


def sqlite_drop() -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_{op};"
        for table in TABLES
        for op in ("update", "delete")
    ]


def create_sql(vendor: str) -> list[str]:
    return {"postgresql": postgres_create, "sqlite": sqlite_create}.get(vendor, list)()


def drop_sql(vendor: str) -> list[str]:
    return {"postgresql": postgres_drop, "sqlite": sqlite_drop}.get(vendor, list)()
