"""With the broker unreachable, writes still succeed and nothing goes unrecorded."""

import pytest

from audit.models import AuditLog
from sites.models import Site
from tools.celery_worker import publishing_to

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


@pytest.mark.django_db
def test_change_and_access_records_commit_with_broker_at_closed_port(
    staff_user, auth_client, settings
):
    client = auth_client(staff_user)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    body = {"code": "BRK-01", "name": "Broker down", "gln": "4012345000009", "country": "DE"}

    with publishing_to(CLOSED_PORT_BROKER):
        response = client.post("/api/sites/", body)

    assert response.status_code == 201, response.content
    site = Site.objects.get(code="BRK-01")
    request_id = response["X-Request-ID"]
    records = AuditLog.objects.filter(request_id=request_id)
    assert records.filter(action="create", resource_id=str(site.pk)).count() == 1
    assert records.filter(action="request", status_code=201).count() == 1
