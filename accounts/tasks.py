"""Scheduled account jobs (beat; see ``reports/migrations`` for the schedule)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from accounts import housekeeping


# Celery ships no type information.
@shared_task(acks_late=True, record_runs=True)  # type: ignore[untyped-decorator]
def deactivate_dormant_users() -> list[str]:
    return housekeeping.deactivate_dormant_users()


# Celery ships no type information.
@shared_task(acks_late=True, record_runs=True)  # type: ignore[untyped-decorator]
def token_hygiene() -> dict[str, Any]:
    return housekeeping.token_hygiene()
