"""Scheduled report jobs (beat; the schedule is created by this app's migrations)."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from reports.selectors import default_day
from reports.services import DigestSent, daily_report_send, weekly_digest_send


@shared_task(acks_late=True, record_runs=True)
def send_daily_reports(day: str | None = None) -> dict[str, int]:
    """The daily QA report of ``day`` (ISO date; default yesterday, UTC) to each site's QA."""
    return daily_report_send(day=date.fromisoformat(day) if day else default_day())


@shared_task(acks_late=True, record_runs=True)
def send_weekly_digest() -> DigestSent:
    return weekly_digest_send()
