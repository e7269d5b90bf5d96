"""A broadcast whose message was lost is published again; two deliveries of one
broadcast never send a chunk twice."""

import datetime as dt

import psycopg
import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from notifications.models import Broadcast, BroadcastStatus
from notifications.sending import broadcast_send, stalled_broadcasts
from notifications.tasks import requeue_stalled_broadcasts
from tests.accounts.factories import UserFactory
from tools.celery_worker import publishing_to
from tools.harness import free_port

URL = "/api/notifications/"


@pytest.mark.django_db
def test_the_requeue_job_is_scheduled_every_minute():
    task = PeriodicTask.objects.get(name="notifications: requeue stalled broadcasts")

    assert task.task == "notifications.tasks.requeue_stalled_broadcasts"
    assert task.enabled and task.interval.every == 60


@pytest.mark.django_db
def test_created_while_the_broker_is_down_it_is_sent_once_requeued(
    staff_user, auth_client, django_capture_on_commit_callbacks
):
    UserFactory(email="reader@example.com")
    client = auth_client(staff_user)
    mail.outbox.clear()

    with publishing_to(f"redis://127.0.0.1:{free_port()}/0"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(URL, {"subject": "Stop", "body": "Line 3"}, format="json")

    assert response.status_code == 202, response.content
    broadcast = Broadcast.objects.get()
    assert broadcast.status == BroadcastStatus.QUEUED
    assert not mail.outbox
    assert stalled_broadcasts() == []  # just created: its message may still come

    Broadcast.objects.filter(pk=broadcast.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=2)
    )
    assert requeue_stalled_broadcasts() == 1  # eager here: sent at once
    assert requeue_stalled_broadcasts() == 0

    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.COMPLETED
    assert sorted(m.to[0] for m in mail.outbox) == sorted([staff_user.email, "reader@example.com"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_delivery_leaves_a_broadcast_being_sent_to_the_first():
    UserFactory()
    broadcast = Broadcast.objects.create(subject="All", body="Hello", total=1)
    params = connection.get_connection_params()
    conninfo = {k: v for k, v in params.items() if k in ("host", "port", "user", "dbname")}
    mail.outbox.clear()
    with psycopg.connect(**conninfo) as first_delivery:  # holds the row, as a sender does
        first_delivery.execute(
            "SELECT 1 FROM notifications_broadcast WHERE id = %s FOR UPDATE", [broadcast.pk]
        )

        second = broadcast_send(broadcast_id=broadcast.pk)

        assert second.status == BroadcastStatus.QUEUED
        assert not mail.outbox
        first_delivery.rollback()

    done = broadcast_send(broadcast_id=broadcast.pk)

    assert done.status == BroadcastStatus.COMPLETED
    assert len(mail.outbox) == done.sent == 1
