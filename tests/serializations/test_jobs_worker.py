"""Large generations as Celery jobs, through a real worker on a private Redis broker,
including a worker SIGKILLed mid-job: the job completes once, with exactly the count."""

import pytest
from rest_framework.test import APIClient

from audit.models import AuditLog
from batches.choices import BatchStatus
from core import reasons
from serializations import events as serial_events
from serializations.models import SerialJob, SerialNumber
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory
from tests.conftest import assign
from tests.sites.factories import SiteFactory
from tools.celery_worker import Worker, publishing_to, wait_for
from tools.redis_server import RedisServer

COUNT = 200_000

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def broker(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def setup(auth_client):
    site = SiteFactory()
    operator = UserFactory()
    assign(operator, "operator", site=site)
    batch = BatchFactory(site=site, status=BatchStatus.IN_PRODUCTION)
    return auth_client(operator), batch, operator


def _queue(client: APIClient, batch, broker, count=COUNT):
    with publishing_to(broker):
        response = client.post(f"/api/batches/{batch.pk}/serials/", {"count": count}, format="json")
    assert response.status_code == 202, response.content
    return response.json()["url"]


def _job(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.json()


def _assert_exactly_once(batch, operator, job):
    serials = list(SerialNumber.objects.filter(batch=batch).values_list("serial", flat=True))
    assert len(serials) == COUNT
    assert len(set(serials)) == COUNT
    assert all(len(s) == 12 for s in serials)
    [record] = AuditLog.objects.filter(
        action=serial_events.SERIAL_GENERATE, resource_id=str(batch.pk)
    )
    assert record.new_values["touched"]["count"] == COUNT
    assert record.new_values["touched"]["job"] == str(job.pk)
    assert record.actor_id == operator.pk


def test_a_200k_job_runs_on_a_real_worker(setup, broker, tmp_path):
    client, batch, operator = setup
    worker = Worker(broker, tmp_path / "worker.log")
    worker.start()
    try:
        url = _queue(client, batch, broker)
        assert wait_for(lambda: _job(client, url)["status"] == "succeeded", 180), worker.log()
    finally:
        worker.stop()

    body = _job(client, url)
    assert body["generated"] == COUNT
    assert body["attempts"] == 1
    assert body["error"] == ""
    assert body["serials"].endswith(f"?id_min={body['first_id']}&id_max={body['last_id']}")
    _assert_exactly_once(batch, operator, SerialJob.objects.get())


def test_a_worker_killed_mid_job_leaves_nothing_and_the_retry_writes_the_count_once(
    setup, broker, tmp_path
):
    client, batch, operator = setup
    first = Worker(broker, tmp_path / "worker1.log")
    second = Worker(broker, tmp_path / "worker2.log")
    first.start()
    try:
        url = _queue(client, batch, broker)
        # Progress is published per chunk while the serials are not yet committed.
        assert wait_for(lambda: _job(client, url)["generated"] > 0, 120), first.log()
        assert _job(client, url)["status"] == "running"

        first.kill()

        # The killed attempt's transaction is gone with its connection.
        assert wait_for(lambda: not SerialNumber.objects.filter(batch=batch).exists(), 30)
        second.start()
        assert wait_for(lambda: _job(client, url)["status"] == "succeeded", 180), second.log()
    finally:
        first.kill()
        second.stop()

    body = _job(client, url)
    assert body["generated"] == COUNT
    assert body["attempts"] == 2
    _assert_exactly_once(batch, operator, SerialJob.objects.get())


def test_a_job_whose_batch_moved_on_fails_with_the_reason(setup, broker, tmp_path):
    client, batch, _ = setup
    url = _queue(client, batch, broker)  # no worker yet: the job waits in the queue
    Batch = type(batch)
    with reasons.given("test set-up: the batch moves on behind the job's back"):
        Batch.objects.filter(pk=batch.pk).update(status=BatchStatus.QUARANTINE)
    worker = Worker(broker, tmp_path / "worker.log")
    worker.start()
    try:
        assert wait_for(lambda: _job(client, url)["status"] == "failed", 120), worker.log()
    finally:
        worker.stop()

    body = _job(client, url)
    assert "quarantine" in body["error"]
    assert body["generated"] == 0
    assert not SerialNumber.objects.filter(batch=batch).exists()
