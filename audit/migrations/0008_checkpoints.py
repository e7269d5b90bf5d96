import django.utils.timezone
from django.db import migrations, models

from audit import triggers

TABLE = ("audit_auditcheckpoint",)
# Every record, from the first seal, once a day: what an incremental run cannot see.
FULL_VERIFICATION = "audit: full verification"


def create_triggers(apps, schema_editor):
    for sql in triggers.create_sql(schema_editor.connection.vendor, TABLE):
        schema_editor.execute(sql, params=None)


def drop_triggers(apps, schema_editor):
    for sql in triggers.drop_sql(schema_editor.connection.vendor, TABLE, function=False):
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
