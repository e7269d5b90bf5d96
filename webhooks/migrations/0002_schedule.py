from django.db import migrations


# Frozen here (a migration must not import app code): the every-N-seconds beat job.
# Created once, by name, so that an administrator's later change in the admin stays.
def schedule(seconds, name, task, description=""):
    def create(apps, schema_editor):
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval, "description": description}
        )

    def drop(apps, schema_editor):
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()

    return migrations.RunPython(create, drop)


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        schedule(
            10,
            "webhooks: sweep",
            "webhooks.tasks.sweep",
            "Fans out events the commit hook could not, serves subscriptions whose retry is due, prunes old deliveries.",
        )
    ]
