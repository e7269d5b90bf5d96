from django.db import migrations

from core.schedules import every_minute


class Migration(migrations.Migration):
    dependencies = [
        ("serializations", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        every_minute(
            "serials: requeue stalled generation jobs",
            "serializations.tasks.requeue_stalled_serial_jobs",
            "Publishes again generation jobs whose message was lost or whose worker died.",
        )
    ]
