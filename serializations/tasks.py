from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from serializations.jobs import job_failed, job_run, stalled_jobs

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5, record_runs=True)
def run_serial_job(self: Any, job_id: str) -> int:
    """Generate a job's serials. A worker lost mid-job redelivers the task; the rolled
    back attempt left nothing, so the retry writes the full count exactly once."""
    try:
        job = job_run(job_id)
    except (OperationalError, InterfaceError) as exc:
        if self.request.retries >= self.max_retries:
            job_failed(job_id, f"Database unavailable: {exc}")
            return 0
        logger.warning("serial_job_retry", extra={"job_id": job_id, "error": str(exc)})
        raise self.retry(exc=exc, countdown=min(5 * 2**self.request.retries, 60)) from exc
    except Exception as exc:
        job_failed(job_id, f"{type(exc).__name__}: {exc}")
        raise
    return job.generated if job is not None else 0


@shared_task(acks_late=True)
def requeue_stalled_serial_jobs() -> int:
    """Publish again the jobs whose message may be lost: queued but never started (the
    broker was unreachable when the request committed), or running far longer than
    any generation takes (its worker died before the broker redelivers). A second
    delivery of a job that is in fact alive is harmless: it waits for the job's row
    lock and then finds the job finished."""
    ids = stalled_jobs()
    for job_id in ids:
        run_serial_job.delay(str(job_id))
    if ids:
        logger.warning("serial_jobs_requeued", extra={"count": len(ids)})
    return len(ids)
