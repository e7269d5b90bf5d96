"""Webhooks through a real broker and real Celery workers, with faults: every committed
event is delivered at least once, none is lost, a duplicate always carries the same
``webhook-id``, and one hanging receiver does not hold up another.

The receivers are real HTTP servers on 127.0.0.1 that verify each signature with the
``standardwebhooks`` package. The test plays beat's tick by publishing the sweep.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import pytest

from batches import services as batch_services
from tests.batches.factories import BatchFactory
from tests.faults.conftest import needs_redis_server
from tests.webhooks.receiver import Receiver
from tools.celery_worker import Worker, publishing_to, wait_for
from tools.harness import free_port
from webhooks import services, tasks
from webhooks.models import Delivery, DeliveryStatus, OutboxEvent

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    needs_redis_server,
    pytest.mark.django_db(transaction=True),
]

TIMEOUT = 2


def _worker(broker, cache, path):
    return Worker(
        broker.url,
        path,
        {
            # The cache this process uses too (fan-out clears the doorbell rung here).
            "REDIS_URL": os.environ.get("REDIS_URL") or cache.url,
            "WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT),
            "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
            "WEBHOOK_RETRY_MAX_DELAY_SECONDS": "1",
            "WEBHOOK_LEASE_MARGIN_SECONDS": "1",
            "LOG_LEVEL": "INFO",
        },
    )


def _ready(worker, starts=1):
    """The worker (started ``starts`` times into its log) takes tasks."""
    assert wait_for(lambda: worker.log().count(" ready.") >= starts, 60), worker.log()[-3000:]


def _subscribe(creator, receiver):
    subscription, secret = services.subscription_create(
        actor=creator, url=receiver.url, types=["batch.started"]
    )
    receiver.secrets = [secret]
    return subscription


def _start_batches(actor, site, n):
    batches = [BatchFactory(site=site) for _ in range(n)]
    for batch in batches:
        batch_services.batch_start(actor=actor, batch=batch)  # commits: publishes
    return {str(b.pk) for b in batches}


def _delivered(receiver):
    return {r.payload["data"]["id"] for r in receiver.got()}


def _check_no_loss(receiver, expected):
    got = receiver.got()
    assert all(r.verified_with == receiver.secrets for r in got), "a signature did not verify"
    by_id = {}
    for r in got:
        by_id.setdefault(r.webhook_id, set()).add(r.body)
    # A duplicate is the same event: same id, same body.
    assert all(len(bodies) == 1 for bodies in by_id.values())
    assert _delivered(receiver) == expected
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}


def test_broker_down_at_commit_and_receiver_down_for_a_while(
    redis_servers, staff_user, site, tmp_path
):
    broker, cache = redis_servers(), redis_servers()
    receiver = Receiver(port=free_port())  # not listening yet: connection refused
    _subscribe(staff_user, receiver)
    worker = _worker(broker, cache, tmp_path / "worker.log")
    worker.start()
    try:
        _ready(worker)
        with publishing_to(broker.url):
            expected = _start_batches(staff_user, site, 3)
            # Tried, refused, retried with backoff while the receiver is down.
            assert wait_for(lambda: Delivery.objects.filter(attempts__gte=2).exists(), 30), (
                worker.log()[-3000:]
            )

            broker.kill()
            expected |= _start_batches(staff_user, site, 3)  # commits; the publish fails
            assert OutboxEvent.objects.filter(fanned_out_at=None).count() == 3

            receiver.start()
            broker.start()
            # Celery's Redis transport may exit ("Unrecoverable error") when the broker
            # it lost comes back; a supervisor restarts it. Here the test does, always.
            worker.kill()
            worker.start()
            _ready(worker, starts=2)

            # Beat's ticks: the events left behind are fanned out, the retries lost with
            # the broker's memory are due again.
            def swept():
                tasks.sweep.apply_async(kwargs={"min_age_seconds": 0})
                return _delivered(receiver) == expected

            assert wait_for(swept, 60, interval=1), (worker.log()[-3000:], receiver.types())
            time.sleep(1)
    finally:
        worker.stop()
        receiver.stop()
    _check_no_loss(receiver, expected)


def test_a_worker_killed_mid_delivery_loses_nothing(redis_servers, staff_user, site, tmp_path):
    broker, cache = redis_servers(), redis_servers()
    receiver = Receiver().start()
    _subscribe(staff_user, receiver)
    first = _worker(broker, cache, tmp_path / "worker1.log")
    second = _worker(broker, cache, tmp_path / "worker2.log")
    try:
        receiver.hold()  # the first request waits, unanswered
        first.start()
        _ready(first)
        with publishing_to(broker.url):
            expected = _start_batches(staff_user, site, 3)
            assert wait_for(lambda: len(receiver.got()) == 1, 30), first.log()[-3000:]
            first.kill()  # SIGKILL while the request is in flight
            receiver.release()
            assert Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 0

            second.start()
            _ready(second)

            def swept():
                tasks.sweep.apply_async(kwargs={"min_age_seconds": 0})
                return (
                    _delivered(receiver) == expected
                    and not Delivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).exists()
                )

            assert wait_for(swept, 60, interval=1), (second.log()[-3000:], receiver.types())
    finally:
        first.kill()
        second.stop()
        receiver.stop()
    _check_no_loss(receiver, expected)
    # The event in flight at the kill arrived twice, with one webhook-id.
    counts = Counter(r.webhook_id for r in receiver.got())
    assert sorted(counts.values())[-1] <= 2


def test_a_hanging_receiver_does_not_hold_up_another(redis_servers, staff_user, site, tmp_path):
    broker, cache = redis_servers(), redis_servers()
    hanging, healthy = Receiver().start(), Receiver().start()
    hanging.hold()  # never answers: every attempt runs into the timeout
    _subscribe(staff_user, hanging)
    _subscribe(staff_user, healthy)
    workers = [_worker(broker, cache, tmp_path / f"worker{n}.log") for n in range(2)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            _ready(worker)
        with publishing_to(broker.url):
            started = time.monotonic()
            expected = _start_batches(staff_user, site, 5)
            assert wait_for(lambda: _delivered(healthy) == expected, 30)
            took = time.monotonic() - started
            # Bounded by one timeout of the hanging one at most, not five.
            assert took < TIMEOUT + 3, took
            assert wait_for(
                lambda: Delivery.objects.filter(
                    subscription__url=hanging.url, attempts__gte=1
                ).exists(),
                30,
            )
            # The hanging subscription is paused after its failure: one attempt per
            # retry, not one per pending event.
            attempts = sum(
                Delivery.objects.filter(subscription__url=hanging.url).values_list(
                    "attempts", flat=True
                )
            )
            assert attempts <= 3
    finally:
        for worker in workers:
            worker.stop()
        hanging.stop()
        healthy.stop()
