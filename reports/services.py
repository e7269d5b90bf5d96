"""Sending the reports: the daily QA report per site, the weekly operations digest."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any, TypedDict, cast

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from audit.models import AuditLog, AuditSeal, SealState
from audit.sealing import backlog
from batches.choices import BatchStatus
from batches.models import Batch
from batches.services import qa_recipients
from core.emails import queue_email
from core.exceptions import StateConflict
from core.models import JobRun
from reports import certificates, events, pdf
from reports.models import DailyReportDispatch
from reports.selectors import daily_report

logger = logging.getLogger(__name__)

DIGEST_DAYS = 7
DIGEST_FAILED_JOBS_MAX = 50


def daily_report_send(*, day: date) -> dict[str, int]:
    """E-mail each site's section of the report to its QA users, once per site and day.

    One transaction per site: the dispatch row and the queued e-mail (sent after commit)
    commit together, so a run that dies half-way and starts again skips the sites done.
    """
    report = daily_report(day=day)
    done = {
        str(pk)
        for pk in DailyReportDispatch.objects.filter(day=day).values_list("site_id", flat=True)
    }
    sent = skipped = 0
    for section in report["sites"]:
        site_id = section["site"]["id"]
        if site_id in done:
            skipped += 1
            continue
        recipients = qa_recipients(site_id)
        try:
            with transaction.atomic():
                DailyReportDispatch.objects.create(
                    day=day, site_id=site_id, recipients=len(recipients)
                )
                queue_email(
                    template="daily_report",
                    to=recipients,
                    context={
                        "date": report["date"],
                        "from": report["from"],
                        "to": report["to"],
                        **section,
                    },
                )
        except IntegrityError:
            skipped += 1  # another run did this site meanwhile
            continue
        sent += 1
    logger.info("daily_report_sent", extra={"day": day.isoformat(), "sites": sent})
    return {"sites_sent": sent, "sites_skipped": skipped}


def database_size_bytes() -> int | None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA page_count")
            pages = cursor.fetchone()[0]
            cursor.execute("PRAGMA page_size")
            return int(pages) * int(cursor.fetchone()[0])
    return None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


class FailedJob(TypedDict):
    task: str
    task_id: str
    at: str | None
    error: str


class JobCounts(TypedDict):
    task_name: str
    total: int
    succeeded: int
    failed: int
    redelivered: int


class OperationsDigest(TypedDict):
    """The weekly operations digest, as mailed to the administrators."""

    since: str
    database_size_bytes: int | None
    database_size_mb: float | None
    audit_rows: int
    audit_unsealed: int
    audit_oldest_unsealed_age_seconds: float | None
    last_seal_run_at: str | None
    last_record_sealed_at: str | None
    last_verification_at: str | None
    last_verification_ok: bool | None
    failed_jobs_count: int
    failed_jobs: list[FailedJob]
    jobs: list[JobCounts]


class DigestSent(TypedDict):
    recipients: int
    failed_jobs: int


def operations_digest() -> OperationsDigest:
    """Database size, audit rows, sealing and verification, and the week's jobs."""
    since = timezone.now() - timedelta(days=DIGEST_DAYS)
    state = SealState.objects.filter(id=1).first()
    last_seal = AuditSeal.objects.order_by("-seq").values_list("sealed_at", flat=True).first()
    failed = JobRun.objects.filter(state=JobRun.State.FAILED, finished_at__gte=since)
    runs = (
        JobRun.objects.filter(Q(started_at__gte=since) | Q(finished_at__gte=since))
        .values("task_name")
        .annotate(
            total=Count("id"),
            succeeded=Count("id", filter=Q(state=JobRun.State.SUCCEEDED)),
            failed=Count("id", filter=Q(state=JobRun.State.FAILED)),
            redelivered=Count("id", filter=Q(attempts__gt=1)),
        )
        .order_by("task_name")
    )
    waiting = backlog()
    size = database_size_bytes()
    return {
        "since": since.isoformat(),
        "database_size_bytes": size,
        "database_size_mb": round(size / 1_048_576, 1) if size is not None else None,
        "audit_rows": AuditLog.objects.count(),
        "audit_unsealed": waiting["unsealed"],
        "audit_oldest_unsealed_age_seconds": waiting["oldest_unsealed_age_seconds"],
        "last_seal_run_at": _iso(state.last_sealed_at if state else None),
        "last_record_sealed_at": _iso(last_seal),
        "last_verification_at": _iso(state.last_verified_at if state else None),
        "last_verification_ok": state.last_verification_ok if state else None,
        "failed_jobs_count": failed.count(),
        "failed_jobs": [
            {
                "task": run.task_name,
                "task_id": run.task_id,
                "at": _iso(run.finished_at),
                "error": run.error.splitlines()[0][:300] if run.error else "",
            }
            for run in failed.order_by("-finished_at")[:DIGEST_FAILED_JOBS_MAX]
        ],
        "jobs": cast("list[JobCounts]", list(runs)),
    }


def administrator_emails() -> list[str]:
    """Active staff and superusers: the people who run the service in the admin."""
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_staff=True) | Q(is_superuser=True))
    )
    return sorted({email for email in users.values_list("email", flat=True) if email})


def weekly_digest_send() -> DigestSent:
    digest = operations_digest()
    recipients = administrator_emails()
    with transaction.atomic():
        queue_email(template="weekly_digest", to=recipients, context=dict(digest))
    return {"recipients": len(recipients), "failed_jobs": digest["failed_jobs_count"]}


NOT_RELEASED = (
    "A certificate of analysis is issued for released batches only; {number} is {status}."
)


def certificate_issue(*, batch: Batch) -> tuple[bytes, str]:
    """The PDF of ``batch``'s certificate of analysis and its document hash; the issue
    is an audit record naming that hash. 409 unless the batch is released.

    No lock: a released batch and its current inspections no longer change, so the PDF
    is drawn outside any transaction and only the record is written in one."""
    batch = Batch.objects.select_related("product", "site", "release_signature").get(pk=batch.pk)
    if batch.status != BatchStatus.RELEASED:
        raise StateConflict(
            NOT_RELEASED.format(number=batch.batch_number, status=batch.status),
            code="batch_not_released",
        )
    certificate = certificates.content(batch)
    digest = pdf.document_hash(certificate)
    document = certificates.render(certificate, digest)
    with transaction.atomic():
        events.certificate_issued(batch=batch, document_hash=digest)
    return document, digest
