"""Each scheduled job and a broadcast, run by a real Celery worker against Redis."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import services
from accounts.models import User, UserSession
from accounts.tasks import deactivate_dormant_users, token_hygiene
from core.metrics import task_outcomes
from core.models import JobRun
from notifications.models import Broadcast
from notifications.tasks import send_broadcast
from reports.tasks import send_weekly_digest
from tests.accounts.factories import UserFactory
from tools.celery_worker import Worker, publishing_to, wait_for
from tools.redis_server import RedisServer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(not RedisServer.available(), reason="needs redis-server"),
]


@pytest.mark.django_db(transaction=True)
def test_jobs_run_on_a_real_worker(tmp_path):
    dormant = UserFactory(last_login=timezone.now() - timedelta(days=400))
    UserFactory(is_staff=True)
    everyone = User.objects.filter(is_active=True).exclude(pk=dormant.pk).count()
    session, _ = services.session_start(user=UserFactory(), ip=None, user_agent="t")
    UserSession.objects.filter(pk=session.pk).update(
        last_seen_at=timezone.now() - timedelta(days=30)
    )
    OutstandingToken.objects.filter(jti=session.refresh_jti).update(
        expires_at=timezone.now() - timedelta(days=23)
    )
    broker = RedisServer(tmp_path)
    broker.start()
    worker = Worker(broker.url, tmp_path / "worker.log")
    try:
        worker.start()
        with publishing_to(broker.url):
            ids = [deactivate_dormant_users.delay().id, token_hygiene.delay().id]
        assert wait_for(
            lambda: JobRun.objects.filter(task_id__in=ids, state="succeeded").count() == 2, 90
        ), worker.log()
        # After the deactivation: the broadcast goes to the users still active.
        broadcast = Broadcast.objects.create(subject="Hello", body="World", total=everyone + 1)
        with publishing_to(broker.url):
            ids += [send_broadcast.delay(str(broadcast.pk)).id, send_weekly_digest.delay().id]
        assert wait_for(
            lambda: JobRun.objects.filter(task_id__in=ids, state="succeeded").count() == 4, 90
        ), worker.log()
        sent = ("core.tasks.send_templated_email", "succeeded")
        assert wait_for(lambda: task_outcomes().get(sent, 0) >= 1, 60), worker.log()
    finally:
        worker.stop()
        broker.stop()

    dormant.refresh_from_db()
    session.refresh_from_db()
    broadcast.refresh_from_db()
    assert not dormant.is_active
    assert session.end_reason == "expired"
    assert broadcast.status == "completed"
    assert broadcast.sent == everyone + 1  # the session's user is active too
    assert JobRun.objects.filter(task_id__in=ids, attempts=1).count() == 4
