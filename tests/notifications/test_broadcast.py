"""POST /api/notifications/ and GET /api/notifications/{id}/: a broadcast by e-mail."""

import pytest
from django.core import mail

from audit.models import AuditLog
from notifications.api.serializers import UNKNOWN_ROLE, UNKNOWN_SITE
from notifications.models import Broadcast
from notifications.sending import broadcast_send
from tests.accounts.factories import UserFactory
from tests.conftest import assign
from tests.sites.factories import SiteFactory

URL = "/api/notifications/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def people(staff_user):
    site, other = SiteFactory(code="FRA-01"), SiteFactory(code="BCN-02")
    qa_fra, qa_bcn, qa_global = UserFactory(), UserFactory(), UserFactory()
    op_fra = UserFactory()
    gone = UserFactory(is_active=False)
    assign(qa_fra, "qa", site)
    assign(qa_bcn, "qa", other)
    assign(qa_global, "qa")
    assign(op_fra, "operator", site)
    assign(gone, "qa", site)
    return locals()


def test_broadcast_to_a_role_at_a_site(people, auth_client, django_capture_on_commit_callbacks):
    client = auth_client(people["staff_user"])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL,
            {
                "subject": "Line 3 stop",
                "body": "Line 3 stops at 14:00 & restarts at 16:00.",
                "role": "qa",
                "site": "FRA-01",
            },
            format="json",
        )

    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == body["url"] == f"/api/notifications/{body['id']}/"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [people["qa_fra"].email, people["qa_global"].email]
    )
    message = mail.outbox[0]
    assert message.subject == "[Pharma MES] Line 3 stop"
    assert "Line 3 stops at 14:00 & restarts at 16:00." in message.body
    assert "users with role qa at site FRA-01" in message.body
    assert "&amp;" in message.alternatives[0][0]
    progress = client.get(body["url"]).json()
    assert progress["status"] == "completed"
    assert (progress["total"], progress["sent"], progress["failed"]) == (2, 2, 0)
    actions = list(
        AuditLog.objects.filter(resource_id=body["id"])
        .order_by("timestamp")
        .values_list("action", flat=True)
    )
    assert actions == ["broadcast_create", "broadcast_complete"]


def test_broadcast_to_everyone_in_chunks(people, staff_user, django_capture_on_commit_callbacks):
    everyone = {
        u.email
        for u in [staff_user, *[people[k] for k in ("qa_fra", "qa_bcn", "qa_global", "op_fra")]]
    }
    broadcast = Broadcast.objects.create(subject="All", body="Hello", total=len(everyone))
    mail.outbox.clear()

    done = broadcast_send(broadcast_id=broadcast.pk, chunk_size=2)

    assert {m.to[0] for m in mail.outbox} == everyone
    assert len(mail.outbox) == len(everyone)
    assert done.status == "completed" and done.sent == len(everyone)


def test_site_only_includes_global_holders(people, auth_client, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client(people["staff_user"]).post(
            URL, {"subject": "S", "body": "B", "site": str(people["other"].pk)}, format="json"
        )

    assert response.status_code == 202
    expected = {people["qa_bcn"].email, people["qa_global"].email, people["staff_user"].email}
    assert {m.to[0] for m in mail.outbox} == expected


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"subject": "S", "body": "B", "role": "nobody"}, {"role": [UNKNOWN_ROLE]}),
        ({"subject": "S", "body": "B", "site": "XXX-99"}, {"site": [UNKNOWN_SITE]}),
        (
            {"subject": "S", "body": "B", "site": "00000000-0000-0000-0000-000000000000"},
            {"site": [UNKNOWN_SITE]},
        ),
        ({"subject": "S", "body": "B", "urgent": True}, {"urgent": ["Unknown field."]}),
        ({"body": "B"}, {"subject": ["This field is required."]}),
        ({"subject": "a\nBcc: x@example.com", "body": "B"}, {"subject": None}),
        ({"subject": "S", "body": "x" * 10_001}, {"body": None}),
        ([1, 2], {"non_field_errors": None}),
    ],
)
def test_bad_input_is_400_and_sends_nothing(people, auth_client, payload, errors):
    mail.outbox.clear()
    before = AuditLog.objects.count()

    response = auth_client(people["staff_user"]).post(URL, payload, format="json")

    assert response.status_code == 400
    body = response.json()
    assert set(body) == set(errors)
    for field, messages in errors.items():
        if messages is not None:
            assert body[field] == messages
    assert not Broadcast.objects.exists()
    assert mail.outbox == []
    assert (
        AuditLog.objects.exclude(action__in=["request", "permission_denied"]).count()
        == (AuditLog.objects.exclude(action__in=["request", "permission_denied"]).count())
        and AuditLog.objects.filter(resource_type="notifications.broadcast").count() == 0
    )
    assert AuditLog.objects.count() >= before


def test_unknown_broadcast_is_404(people, auth_client):
    client = auth_client(people["staff_user"])

    assert client.get(f"{URL}00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get(f"{URL}not-a-uuid/").status_code == 404
