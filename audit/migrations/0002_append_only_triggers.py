from django.db import migrations

from audit import triggers


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in triggers.create_sql(vendor, triggers.FIRST_TABLES):
        schema_editor.execute(sql, params=None)
    if vendor == "postgresql":
        for column in ("old_values", "new_values"):
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS audit_auditlog_{column}_gin "
                f"ON audit_auditlog USING gin ({column} jsonb_path_ops);"
            )


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in triggers.drop_sql(vendor, triggers.FIRST_TABLES):
        schema_editor.execute(sql, params=None)
    if vendor == "postgresql":
        for column in ("old_values", "new_values"):
            schema_editor.execute(f"DROP INDEX IF EXISTS audit_auditlog_{column}_gin;")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
