"""The Celery broker unreachable: writes still succeed, access records are written in the
request, and the e-mails of those writes are delivered once the broker is back.

E-mails go through the outbox (``core.emails``): a row written in the transaction of the
change, published after commit, and republished by the ``core: e-mail outbox`` beat job
when the broker could not take it. The test plays beat's tick by publishing the job.
"""

from __future__ import annotations

import time

import pytest

from audit.choices import Action
from audit.models import AuditLog
from core.models import OutboxEmail
from core.tasks import dispatch_email_outbox, send_templated_email
from tests.conftest import assign
from tests.faults.conftest import (
    Traffic,
    needs_redis_server,
    server_errors,
    service_env,
    summary,
    worker_env,
)
from tests.faults.smtp_sink import SmtpSink
from tests.sites.factories import SiteFactory
from tools.celery_worker import Worker, publishing_to, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, needs_redis_server]


def _new_user(n: int) -> dict[str, str]:
    return {
        "username": f"outage.user{n}",
        "email": f"outage.user{n}@example.com",
        "password": "a-long-enough-password-2026",
        "first_name": "Out",
        "last_name": f"Age{n}",
    }


def test_writes_succeed_and_emails_arrive_after_the_broker_is_back(
    services, redis_servers, make_user, tmp_path
):
    site = SiteFactory(code="BRK-01")
    admin = make_user(username="fault.admin")
    assign(admin, "admin")
    cache, broker = redis_servers(), redis_servers()
    with SmtpSink() as sink:
        service = services(service_env(redis_url=cache.url, broker_url=broker.url))
        worker = Worker(
            broker.url,
            tmp_path / "worker.log",
            worker_env(broker_url=broker.url, redis_url=cache.url, email_url=sink.url),
        )
        worker.start()
        try:
            token = service.login("fault.admin")
            before = service.call("POST", "/api/users/", _new_user(0), token)
            assert before.status == 201, before.body
            assert wait_for(lambda: sink.recipients() == ["outage.user0@example.com"], 60), (
                worker.log()[-3000:]
            )

            broker.kill()
            traffic = Traffic()
            traffic.add(
                lambda n: service.call(
                    "PATCH", f"/api/sites/{site.pk}/", {"name": f"Outage {n}"}, token, "patch"
                ),
                pause=0.1,
            )
            created = [
                service.call("POST", "/api/users/", _new_user(n), token, "create")
                for n in range(1, 4)
            ]
            time.sleep(1)
            results = traffic.stop() + created
            report = summary(results) + "\n" + service.log()[-3000:]
            assert server_errors(results, lambda r: False) == [], report
            assert [r.status for r in created] == [201] * 3, report
            assert {r.status for r in results if r.kind == "patch"} == {200}, report

            # Access records were written in the request, with no broker to take them.
            ids = [r.request_id for r in results]
            stored = AuditLog.objects.filter(action=Action.REQUEST, request_id__in=ids)
            assert stored.count() == len(ids)
            # The e-mails wait in the outbox; nothing was sent while the broker was down.
            assert OutboxEmail.objects.filter(sent_at=None).count() == 3
            assert sink.recipients() == ["outage.user0@example.com"]

            broker.start()
            with publishing_to(broker.url):
                dispatch_email_outbox.apply_async(kwargs={"min_age_seconds": 0})
            expected = [f"outage.user{n}@example.com" for n in range(4)]
            assert wait_for(lambda: sorted(sink.recipients()) == expected, 60), (
                sink.recipients(),
                worker.log()[-3000:],
            )
            # Beat's next tick, and the same message published twice: nothing is sent again.
            with publishing_to(broker.url):
                dispatch_email_outbox.apply_async(kwargs={"min_age_seconds": 0})
                for row in OutboxEmail.objects.all():
                    send_templated_email.apply_async(kwargs={"outbox_id": str(row.pk)})
            assert wait_for(lambda: "dispatch_email_outbox" in worker.log(), 10)
            time.sleep(2)
        finally:
            worker.stop()

    assert sorted(sink.recipients()) == expected
    assert OutboxEmail.objects.filter(sent_at=None).count() == 0


def test_publishing_to_a_dead_broker_fails_fast(redis_servers):
    """A refused connection costs milliseconds, not kombu's default 2 s retry interval."""
    broker = redis_servers()
    with publishing_to(broker.url):
        dispatch_email_outbox.apply_async(retry=False)  # connected; no worker takes it
        broker.kill()
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(Exception):  # noqa: B017 - kombu's OperationalError
                dispatch_email_outbox.apply_async(retry=False)
            assert time.monotonic() - started < 1.0
