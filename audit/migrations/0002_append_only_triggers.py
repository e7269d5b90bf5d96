from django.db import migrations

FIRST_TABLES = ("audit_auditlog", "audit_auditseal")

# Frozen here (a migration must not import app code): the append-only triggers' SQL.
MESSAGE = "audit tables are append-only"
POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE} (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def postgres_create(tables):
    sql = [POSTGRES_FUNCTION]
    for table in tables:
        sql += [
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_reject_change();",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();",
        ]
    return sql


def postgres_drop(tables, *, function=True):
    sql = []
    for table in tables:
        sql += [
            f"DROP TRIGGER IF EXISTS {table}_no_change ON {table};",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
        ]
    return [*sql, "DROP FUNCTION IF EXISTS audit_reject_change();"] if function else sql


def sqlite_create(tables):
    sql = []
    for table in tables:
        for op in ("UPDATE", "DELETE"):
            sql.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"
            )
    return sql


def sqlite_drop(tables):
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_{op};"
        for table in tables
        for op in ("update", "delete")
    ]


def create_sql(vendor, tables):
    if vendor == "postgresql":
        return postgres_create(tables)
    return sqlite_create(tables) if vendor == "sqlite" else []


def drop_sql(vendor, tables, *, function=True):
    if vendor == "postgresql":
        return postgres_drop(tables, function=function)
    return sqlite_drop(tables) if vendor == "sqlite" else []


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in create_sql(vendor, FIRST_TABLES):
        schema_editor.execute(sql, params=None)
    if vendor == "postgresql":
        for column in ("old_values", "new_values"):
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS audit_auditlog_{column}_gin "
                f"ON audit_auditlog USING gin ({column} jsonb_path_ops);"
            )


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in drop_sql(vendor, FIRST_TABLES):
        schema_editor.execute(sql, params=None)
    if vendor == "postgresql":
        for column in ("old_values", "new_values"):
            schema_editor.execute(f"DROP INDEX IF EXISTS audit_auditlog_{column}_gin;")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
