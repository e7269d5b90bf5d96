"""Generating serial numbers under the batch's lock, and the Celery job that does it for
large counts: what the worker runs (``job_run``, ``job_failed``), what the beat job
requeues (``stalled_jobs``) and the progress a running job reports. The request side,
``serials_generate``, is in ``serializations.services``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from batches.choices import EDITABLE
from batches.models import Batch
from batches.services import lock_batch, require_status
from core.context import bind_actor, system_username
from core.exceptions import StateConflict
from core.metrics import SERIALS_GENERATED
from serializations import epcis, events
from serializations.choices import JobStatus, Strategy
from serializations.generation import DEFAULT_LENGTH, Written, write_serials
from serializations.models import SerialJob, SerialNumber

WRONG_BATCH_STATUS = (
    "Serial numbers can be generated only while the batch is planned or in production; "
    "it is {status}."
)


@dataclass(frozen=True)
class GenerationRequest:
    count: int
    strategy: str = Strategy.RANDOM
    length: int = DEFAULT_LENGTH
    prefix: str = ""


def lock_batch_for_generation(batch_id: Any) -> Batch:
    """The batch locked FOR NO KEY UPDATE (lifecycle actions wait for the generation to
    finish, rows that only refer to the batch can still be written), and still planned
    or in production."""
    batch = lock_batch(batch_id, no_key=True)
    require_status(batch, EDITABLE, message=WRONG_BATCH_STATUS)
    return batch


def generate_locked(
    batch: Batch, req: GenerationRequest, on_progress: Any = None, job: SerialJob | None = None
) -> Written:
    now = timezone.now()
    written = write_serials(
        batch=batch,
        count=req.count,
        strategy=req.strategy,
        length=req.length,
        prefix=req.prefix,
        now=now,
        on_progress=on_progress,
    )
    _state_commissioning(batch, written, req.prefix, now)
    events.serials_generated(
        batch=batch,
        written=written,
        strategy=req.strategy,
        length=req.length,
        prefix=req.prefix,
        job=job,
    )
    transaction.on_commit(lambda: SERIALS_GENERATED.inc(written.count))
    return written


def _state_commissioning(batch: Batch, written: Written, prefix: str, at: dt.datetime) -> None:
    """The generation's EPCIS commissioning events: on PostgreSQL, for serials that need
    no percent-encoding (random ones, digits after a letters-and-digits prefix), built by
    the database; otherwise read back from the rows it wrote in id order, a bounded
    number of rows at a time."""
    if written.first_id is None or written.last_id is None:
        return
    site, gtin = batch.site, batch.product.gtin
    if (not prefix or (prefix.isascii() and prefix.isalnum())) and (
        epcis.store_commissioned_in_database(
            site=site,
            batch=batch,
            gtin=gtin,
            first_id=written.first_id,
            last_id=written.last_id,
            at=at,
        )
    ):
        return
    rows = SerialNumber.objects.filter(batch=batch, id__lte=written.last_id).order_by("id")
    after = written.first_id - 1
    step = max(int(settings.EPCIS_EPCS_PER_EVENT), 1) * 10
    while True:
        chunk = list(rows.filter(id__gt=after).values_list("id", "serial")[:step])
        if not chunk:
            return
        epcis.store(epcis.commissioned(site=site, batch=batch, gtin=gtin, rows=chunk, at=at))
        after = chunk[-1][0]


def stalled_jobs() -> list[Any]:
    """Ids of jobs queued longer than ``SERIAL_JOB_QUEUED_STALL_SECONDS`` or running
    longer than ``SERIAL_JOB_RUNNING_STALL_SECONDS``."""
    now = timezone.now()
    queued_before = now - dt.timedelta(seconds=settings.SERIAL_JOB_QUEUED_STALL_SECONDS)
    running_before = now - dt.timedelta(seconds=settings.SERIAL_JOB_RUNNING_STALL_SECONDS)
    return list(
        SerialJob.objects.filter(
            Q(status=JobStatus.QUEUED, created_at__lt=queued_before)
            | Q(status=JobStatus.RUNNING, started_at__lt=running_before)
        ).values_list("id", flat=True)
    )


def _progress_key(job_id: Any) -> str:
    return f"serial-job:{job_id}:progress"


def job_progress(job: SerialJob) -> int:
    """Serials written so far by the running attempt (they commit together at the end)."""
    if job.status != JobStatus.RUNNING:
        return job.generated
    return int(cache.get(_progress_key(job.pk)) or 0)


def job_run(job_id: Any) -> SerialJob | None:
    """Run a queued job; a redelivered job that already succeeded does nothing.

    Serials, audit record and the job's success commit together; a failure rolls the
    serials back and leaves the job ``failed`` with the error.
    """
    with transaction.atomic():
        job = SerialJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
            return job
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = timezone.now()
        job.error = ""
        job.save(update_fields=["status", "attempts", "started_at", "error", "updated_at"])
    actor = job.requested_by
    req = GenerationRequest(
        count=job.count, strategy=job.strategy, length=job.length, prefix=job.prefix
    )
    with bind_actor(
        user_id=str(actor.pk) if actor else None,
        username=actor.get_username() if actor else system_username("serial-job"),
        change_reason=job.reason,
    ):
        try:
            with transaction.atomic():
                job = SerialJob.objects.select_for_update().get(pk=job.pk)
                if job.status != JobStatus.RUNNING:
                    return job  # another delivery finished it meanwhile
                batch = lock_batch_for_generation(job.batch_id)
                key = _progress_key(job.pk)
                written = generate_locked(
                    batch, req, on_progress=lambda n: cache.set(key, n, 86_400), job=job
                )
                job.status = JobStatus.SUCCEEDED
                job.generated = written.count
                job.first_id, job.last_id = written.first_id, written.last_id
                job.finished_at = timezone.now()
                job.save()
        except StateConflict as exc:
            return job_failed(job.pk, exc.message)
    cache.delete(_progress_key(job.pk))
    _refresh_statistics(job.batch_id)
    return job


def _refresh_statistics(batch_id: Any) -> None:
    """After a job's bulk insert, tell the planner the table's new shape at once rather
    than when autovacuum gets to it: without statistics, a page of a batch's serials
    (lists, export chunks) is planned as a scan and sort of the whole batch. Only the
    partition the batch's rows went to (its product's GTIN's), whose statistics plan
    its scans; not every partition of the table."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tableoid::regclass::text FROM {SerialNumber._meta.db_table}"  # noqa: S608
            " WHERE batch_id = %s LIMIT 1",
            [batch_id],
        )
        found = cursor.fetchone()
        if found is not None:  # regclass's text: quoted and qualified as it must be
            cursor.execute(f"ANALYZE {found[0]}")


def job_failed(job_id: Any, error: str) -> SerialJob:
    """Mark the job failed with ``error`` (a state conflict, or the task giving up)."""
    with transaction.atomic():
        job = SerialJob.objects.select_for_update().get(pk=job_id)
        job.status = JobStatus.FAILED
        job.error = error[:2000]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at", "updated_at"])
    cache.delete(_progress_key(job_id))
    return job
