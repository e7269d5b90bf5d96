"""The beat schedule of the account jobs (django-celery-beat's database scheduler).

Created once, by name: an administrator may change times or disable a job in the admin,
and a later migrate keeps those changes. Frozen here: a migration imports no app code.
"""

from django.db import migrations

# name: (task, crontab minute, hour, day_of_week, description)
JOBS = {
    "accounts: deactivate dormant users": (
        "accounts.tasks.deactivate_dormant_users",
        "30",
        "2",
        "*",
        "Deactivates users with no sign-in for DORMANT_ACCOUNT_DAYS days.",
    ),
    "accounts: token and session hygiene": (
        "accounts.tasks.token_hygiene",
        "15",
        "*",
        "*",
        "Ends sessions whose refresh token expired; flushes expired tokens.",
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
        ("accounts", "0004_username_unique_constraints"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, drop)]
