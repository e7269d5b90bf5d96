"""The e-mail outbox: e-mails commit and roll back with their change, survive a dead
broker, and are sent once however often they are published."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction

from core.emails import queue_email
from core.models import OutboxEmail
from core.outbox import send_outbox_email
from core.tasks import dispatch_outbox
from tools.celery_worker import publishing_to

pytestmark = pytest.mark.django_db(transaction=True)


def _queue():
    queue_email(template="welcome", to=["a@example.com"], context={"name": "A", "username": "a"})


def test_a_rolled_back_change_sends_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        _queue()
        raise RuntimeError

    assert not OutboxEmail.objects.exists()
    assert mail.outbox == []


def test_a_committed_change_keeps_its_email_through_a_dead_broker():
    with publishing_to("redis://127.0.0.1:1/0"), transaction.atomic():
        _queue()  # the publish after commit fails: no exception reaches the caller

    [row] = OutboxEmail.objects.all()
    assert row.sent_at is None
    assert mail.outbox == []

    assert dispatch_outbox(min_age=timedelta(0)) == 1  # eager again: sent in-process
    row.refresh_from_db()
    assert row.sent_at is not None and row.dispatched_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["a@example.com"]

    assert send_outbox_email(str(row.pk)) == 0  # published again: not sent again
    assert dispatch_outbox(min_age=timedelta(0)) == 0
    assert len(mail.outbox) == 1


def test_the_beat_job_leaves_fresh_rows_to_their_commit_hook():
    with publishing_to("redis://127.0.0.1:1/0"):
        _queue()

    assert dispatch_outbox() == 0  # younger than a minute
    assert OutboxEmail.objects.get().sent_at is None
