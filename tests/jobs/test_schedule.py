"""Beat's schedule exists after migrate (django-celery-beat's database scheduler)."""

from django_celery_beat.models import PeriodicTask

from config.celery import app

EXPECTED = {
    "audit: seal new records": "audit.tasks.seal_audit_trail",
    "reports: daily QA report": "reports.tasks.send_daily_reports",
    "reports: weekly operations digest": "reports.tasks.send_weekly_digest",
    "accounts: deactivate dormant users": "accounts.tasks.deactivate_dormant_users",
    "accounts: token and session hygiene": "accounts.tasks.token_hygiene",
}


def test_every_job_is_scheduled_and_enabled(db):
    tasks = {t.name: t for t in PeriodicTask.objects.filter(name__in=EXPECTED)}

    assert {name: t.task for name, t in tasks.items()} == EXPECTED
    assert all(t.enabled for t in tasks.values())
    assert tasks["audit: seal new records"].interval.every == 60
    daily = tasks["reports: daily QA report"].crontab
    assert (daily.minute, daily.hour, str(daily.timezone)) == ("0", "5", "UTC")
    assert tasks["reports: weekly operations digest"].crontab.day_of_week == "1"


def test_scheduled_task_names_are_registered():
    app.loader.import_default_modules()

    assert set(EXPECTED.values()) <= set(app.tasks)
