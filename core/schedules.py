"""Periodic jobs created by data migrations, for django-celery-beat's database scheduler.

A job is created once, by name: an administrator may change or disable it in the admin,
and a later migrate keeps those changes.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def every_minute(name: str, task: str, description: str = "") -> migrations.RunPython:
    """The migration operation that schedules ``task`` every minute as ``name`` (and
    removes it when the migration is reversed)."""
    return every(60, name, task, description)


def every(seconds: int, name: str, task: str, description: str = "") -> migrations.RunPython:
    """The migration operation that schedules ``task`` every ``seconds`` as ``name``."""

    def create(apps: Any, schema_editor: Any) -> None:
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval, "description": description}
        )

    def drop(apps: Any, schema_editor: Any) -> None:
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()

    return migrations.RunPython(create, drop)
