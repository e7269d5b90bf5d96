import django.utils.timezone
from django.db import migrations, models

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


TABLE = ("audit_auditcheckpoint",)
# Every record, from the first seal, once a day: what an incremental run cannot see.
FULL_VERIFICATION = "audit: full verification"


def create_triggers(apps, schema_editor):
    for sql in create_sql(schema_editor.connection.vendor, TABLE):
        schema_editor.execute(sql, params=None)


def drop_triggers(apps, schema_editor):
    for sql in drop_sql(schema_editor.connection.vendor, TABLE, function=False):
        schema_editor.execute(sql, params=None)


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="3",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    PeriodicTask.objects.get_or_create(
        name=FULL_VERIFICATION,
        defaults={
            "task": "audit.tasks.verify_audit_trail",
            "crontab": crontab,
            "kwargs": '{"full": true}',
            "description": "Verifies the whole audit trail from the first seal.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name=FULL_VERIFICATION
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0007_partition_by_month"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("seq", models.BigIntegerField()),
                ("hash", models.CharField(max_length=64)),
                (
                    "records",
                    models.BigIntegerField(help_text="Sealed records checked, in all, up to seq."),
                ),
                ("window_start", models.DateTimeField()),
                ("verified_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("signature", models.CharField(max_length=64)),
            ],
            options={"ordering": ["-id"]},
        ),
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.RunPython(schedule, unschedule),
    ]
