"""Scheduled account jobs (beat; see ``reports/migrations`` for the schedule)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from accounts import housekeeping


@shared_task(acks_late=True, record_runs=True)
def deactivate_dormant_users() -> list[str]:
    return housekeeping.deactivate_dormant_users()


@shared_task(acks_late=True, record_runs=True)
def token_hygiene() -> dict[str, Any]:
    return housekeeping.token_hygiene()
