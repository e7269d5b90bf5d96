from django.db import migrations

from core.schedules import every_minute


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        every_minute(
            "notifications: requeue stalled broadcasts",
            "notifications.tasks.requeue_stalled_broadcasts",
            "Publishes again broadcasts whose message was lost.",
        )
    ]
