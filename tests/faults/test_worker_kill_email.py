"""A worker killed with SIGKILL in the middle of sending an e-mail: after a restart the
message is delivered exactly once, and its outbox row is marked sent.

The same guarantee for the other kinds of task is proved elsewhere: access records in
``tests/audit/test_worker_redelivery.py``, serial generation jobs in
``tests/serializations/test_jobs_worker.py``, scheduled jobs in
``tests/jobs/test_worker_kill.py``.
"""

from __future__ import annotations

import time

import pytest

from core.emails import queue_email
from core.models import OutboxEmail
from tests.faults.conftest import needs_redis_server, worker_env
from tests.faults.smtp_sink import SmtpSink
from tools.celery_worker import Worker, publishing_to, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    needs_redis_server,
    pytest.mark.django_db(transaction=True),
]


def test_email_task_killed_mid_send_is_delivered_once(redis_servers, tmp_path):
    broker, cache = redis_servers(), redis_servers()
    with SmtpSink() as sink:
        env = worker_env(broker_url=broker.url, redis_url=cache.url, email_url=sink.url)
        first = Worker(broker.url, tmp_path / "worker1.log", env)
        second = Worker(broker.url, tmp_path / "worker2.log", env)
        try:
            sink.hold()  # the first delivery stops at DATA
            first.start()
            with publishing_to(broker.url):
                queue_email(
                    template="welcome",
                    to=["killed.mid.send@example.com"],
                    context={"name": "Kim Kill", "username": "kim"},
                )
            [row] = OutboxEmail.objects.all()
            assert sink.receiving(60), first.log()[-3000:]

            first.kill()  # SIGKILL between MAIL/RCPT and the message body
            sink.release()
            time.sleep(0.5)
            assert sink.recipients() == []
            row.refresh_from_db()
            assert row.sent_at is None

            second.start()  # the unacknowledged task is redelivered to it
            assert wait_for(lambda: sink.recipients() != [], 60), second.log()[-3000:]
            assert wait_for(
                lambda: OutboxEmail.objects.filter(pk=row.pk, sent_at__isnull=False).exists(), 10
            )
            time.sleep(2)  # nothing else arrives
        finally:
            first.kill()
            second.stop()

    assert sink.recipients() == ["killed.mid.send@example.com"]
