"""The beat schedule of the periodic jobs (django-celery-beat's database scheduler).

Created once; an administrator may change times or disable a job in the admin, and a
later migrate keeps those changes (get_or_create by name). The audit sealing job is
created by the audit app's migrations.
"""

from django.db import migrations

# name: (task, crontab minute, hour, day_of_week, description). The account jobs, once
# created here too, are created by accounts' own migration 0005; a database migrated
# before it already has them, and get_or_create by name keeps them as they are.
JOBS = {
    "reports: daily QA report": (
        "reports.tasks.send_daily_reports",
        "0",
        "5",
        "*",
        "Yesterday's (UTC) QA report per site to the site's QA users.",
    ),
    "reports: weekly operations digest": (
        "reports.tasks.send_weekly_digest",
        "0",
        "6",
        "1",
        "Database size, audit trail, seals and failed jobs to the administrators.",
    ),
}


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, (task, minute, hour, day_of_week, description) in JOBS.items():
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week=day_of_week,
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={"task": task, "crontab": crontab, "description": description},
        )


def drop(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=list(JOBS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, drop)]
