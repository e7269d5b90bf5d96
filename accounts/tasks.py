"""Scheduled account jobs (beat; see ``reports/migrations`` for the schedule)."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(acks_late=True, record_runs=True)
def deactivate_dormant_users() -> list[str]:
    from accounts.housekeeping import deactivate_dormant_users as run

    return run()


@shared_task(acks_late=True, record_runs=True)
def token_hygiene() -> dict[str, Any]:
    from accounts.housekeeping import token_hygiene as run

    return run()
