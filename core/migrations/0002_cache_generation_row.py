from django.db import migrations


def create_row(apps, schema_editor):
    CacheGeneration = apps.get_model("core", "CacheGeneration")
    CacheGeneration.objects.get_or_create(name="auth", defaults={"value": 1})


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
