from django.db import migrations

from core.schedules import every_minute


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only_triggers"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [every_minute("audit: seal new records", "audit.tasks.seal_audit_trail")]
