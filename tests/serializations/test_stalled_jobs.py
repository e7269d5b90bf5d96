"""A job whose message was lost (broker down at commit, worker dead) is published again."""

import datetime as dt

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from batches.choices import BatchStatus
from config.celery import app
from serializations import jobs
from serializations.choices import JobStatus
from serializations.models import SerialJob, SerialNumber
from serializations.tasks import requeue_stalled_serial_jobs
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory
from tests.conftest import assign
from tests.sites.factories import SiteFactory
from tools.celery_worker import publishing_to
from tools.redis_server import free_port

pytestmark = pytest.mark.django_db


def _job(status=JobStatus.QUEUED, age_seconds=0, started_age=None):
    batch = BatchFactory(status=BatchStatus.IN_PRODUCTION)
    job = SerialJob.objects.create(batch=batch, count=40, strategy="random", length=12)
    SerialJob.objects.filter(pk=job.pk).update(
        status=status,
        created_at=timezone.now() - dt.timedelta(seconds=age_seconds),
        started_at=None
        if started_age is None
        else timezone.now() - dt.timedelta(seconds=started_age),
    )
    return job


def test_the_requeue_job_is_scheduled_every_minute():
    task = PeriodicTask.objects.get(name="serials: requeue stalled generation jobs")

    assert task.task == "serializations.tasks.requeue_stalled_serial_jobs"
    assert task.enabled and task.interval.every == 60
    app.loader.import_default_modules()
    assert task.task in app.tasks


def test_stalled_means_queued_a_minute_or_running_a_quarter_hour():
    old_queued = _job(age_seconds=120)
    _job(age_seconds=5)  # just queued
    old_running = _job(JobStatus.RUNNING, age_seconds=2000, started_age=1000)
    _job(JobStatus.RUNNING, age_seconds=2000, started_age=30)  # still working
    _job(JobStatus.SUCCEEDED, age_seconds=5000, started_age=5000)
    _job(JobStatus.FAILED, age_seconds=5000, started_age=5000)

    assert sorted(jobs.stalled_jobs()) == sorted([old_queued.pk, old_running.pk])


def test_a_job_queued_while_the_broker_was_down_runs_once_requeued(
    auth_client, settings, django_capture_on_commit_callbacks
):
    settings.SERIAL_SYNC_MAX = 10
    site = SiteFactory()
    operator = UserFactory()
    assign(operator, "operator", site=site)
    batch = BatchFactory(site=site, status=BatchStatus.IN_PRODUCTION)
    client = auth_client(operator)

    dead_broker = f"redis://127.0.0.1:{free_port()}/0"
    with publishing_to(dead_broker), django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/batches/{batch.pk}/serials/", {"count": 25}, format="json")

    assert response.status_code == 202, response.content
    job = SerialJob.objects.get()
    assert job.status == JobStatus.QUEUED
    assert not SerialNumber.objects.exists()

    SerialJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    assert requeue_stalled_serial_jobs() == 1  # eager here: the job runs at once
    assert requeue_stalled_serial_jobs() == 0

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert SerialNumber.objects.filter(batch=batch).count() == 25


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_finished_job_refreshes_the_planner_statistics():
    """A page of a batch's serials is planned from statistics; without them (a fresh
    bulk load) PostgreSQL scans and sorts the whole batch for every page. Only the
    batch's partition is analysed, not every partition of a table of billions."""
    from django.db import connection

    job = _job()
    SerialJob.objects.filter(pk=job.pk).update(count=37)

    jobs.job_run(job.pk)

    with connection.cursor() as cursor:
        # The relation the batch's rows are in: on PostgreSQL, its product's hash
        # partition of the table, which is what a page of the batch is planned from.
        cursor.execute(
            f"SELECT tableoid FROM {SerialNumber._meta.db_table} WHERE batch_id = %s LIMIT 1",
            [job.batch_id],
        )
        (relation,) = cursor.fetchone()
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s", [relation])
        assert cursor.fetchone()[0] == 37
