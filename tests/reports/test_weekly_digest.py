"""The weekly operations digest e-mail: content and recipients."""

import pytest
from django.core import mail
from django.utils import timezone

from audit.sealing import seal, verify
from core.models import JobRun
from reports.tasks import send_weekly_digest
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_digest_goes_to_administrators(staff_user, django_capture_on_commit_callbacks):
    root = UserFactory(is_superuser=True)
    UserFactory(is_staff=True, is_active=False)
    UserFactory()  # not an administrator
    seal()
    verify()
    JobRun.objects.create(
        task_id="t-1",
        task_name="core.tasks.send_templated_email",
        state=JobRun.State.FAILED,
        attempts=1,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        error="SMTPServerDisconnected: Connection unexpectedly closed\ntraceback...",
    )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        result = send_weekly_digest.delay().get()

    # The digest's own run is recorded after it was written.
    assert result == {"recipients": 2, "failed_jobs": 1}
    [message] = mail.outbox
    assert sorted(message.to) == sorted([staff_user.email, root.email])
    assert message.subject.startswith("[Pharma MES] Weekly operations digest: 1 failed job,")
    assert "Database size: " in message.body and "MB" in message.body
    assert "Audit records: " in message.body
    assert "chain intact" in message.body
    assert "core.tasks.send_templated_email t-1" in message.body
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in message.body
    assert "traceback" not in message.body
    assert message.alternatives[0][1] == "text/html"
