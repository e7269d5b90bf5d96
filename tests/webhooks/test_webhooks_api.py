"""/api/webhooks/: subscriptions, their secrets, tests, deliveries and redeliveries,
held to ``webhook.manage`` and to what each creator may read."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook

from audit.models import AuditLog
from tests.accounts.factories import UserFactory
from tests.conftest import assign, member
from tests.sites.factories import SiteFactory
from webhooks.models import Delivery, DeliveryStatus, OutboxEvent, Subscription

URL = "/api/webhooks/"
pytestmark = pytest.mark.django_db


def _create(client, url, **extra):
    body = {"url": url, "events": ["batch.released"], **extra}
    return client.post(URL, body, format="json")


def test_the_secret_is_shown_once_and_never_again(admin, receiver):
    response = _create(admin, receiver.url, description="ERP")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    Webhook(body["secret"])  # a secret the Standard Webhooks library takes
    assert body["events"] == ["batch.released"]
    assert body["created_by"] == "staff.admin"
    assert body["is_active"] is True

    listed = admin.get(URL).json()["results"]
    shown = admin.get(f"{URL}{body['id']}/").json()
    assert "secret" not in listed[0] and "secret" not in shown
    records = AuditLog.objects.filter(action="webhook_create", resource_id=body["id"])
    assert records.count() == 1
    assert body["secret"] not in str(records.get().new_values)


def test_only_holders_of_webhook_manage_see_or_make_subscriptions(
    admin, qa, operator, site, receiver, auth_client
):
    made = _create(admin, receiver.url).json()
    for client in (qa, operator):
        assert _create(client, receiver.url).status_code == 403
        assert client.get(URL).status_code == 403
        assert client.get(f"{URL}{made['id']}/").status_code == 403
        assert client.delete(f"{URL}{made['id']}/").status_code == 403
        assert client.post(f"{URL}{made['id']}/rotate-secret/").status_code == 403
    # A site admin holds every codename at that site, but webhook.manage is global.
    site_admin = member("admin", site, "sam.siteadmin")
    assert _create(auth_client(site_admin), receiver.url).status_code == 403
    assert Subscription.objects.count() == 1


@pytest.mark.parametrize(
    "events, message",
    [
        (["batch.exploded"], "batch.exploded: unknown event type."),
        ([], "This list may not be empty."),
        (["x" * 65], "Ensure this field has no more than 64 characters."),
    ],
)
def test_unknown_or_malformed_event_types_are_refused(admin, receiver, events, message):
    response = admin.post(URL, {"url": receiver.url, "events": events}, format="json")
    assert response.status_code == 400
    assert message in str(response.json()["events"])
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"url": 5, "events": ["batch.released"]},
        {"url": "http://127.0.0.1/hook", "events": "batch.released"},
        {"url": "http://127.0.0.1/hook", "events": [None]},
        {"url": "http://127.0.0.1/hook", "events": [{"a": 1}]},
        {"url": "http://127.0.0.1/" + "a" * 2100, "events": ["batch.released"]},
        {"url": "http://127.0.0.1/hook", "events": ["batch.released"], "secret": "whsec_x"},
        {"url": "http://127.0.0.1/hook", "events": ["batch.released"], "site": "nope"},
        {"url": "\x00", "events": ["batch.released"]},
        {"url": "http://[::1", "events": ["batch.released"]},
        {"url": "http://127.0.0.1:99999/", "events": ["batch.released"]},
        {"url": "http://127.0.0.1/hook", "events": ["batch.released"] * 51},
    ],
)
def test_hostile_bodies_are_a_400_and_change_nothing(admin, body):
    response = admin.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    assert not Subscription.objects.exists()


def test_a_creator_cannot_subscribe_to_what_they_may_not_read(auth_client, receiver, site):
    # webhook.manage globally, but batches only at one site and no user accounts.
    manager = UserFactory(username="wanda.webhooks")
    assign(manager, "operator", site)
    from rbac.models import Permission, Role

    role = Role.objects.create(name="integrations")
    role.permissions.add(Permission.objects.get(codename="webhook.manage"))
    assign(manager, "integrations")
    client = auth_client(manager)

    assert _create(client, receiver.url).status_code == 201  # some batches it may read
    other = SiteFactory(code="OTH-01")
    bound = _create(client, receiver.url, site=str(other.pk))
    assert bound.status_code == 400
    assert "batch.released: you may not read these events (batch.view)." in str(bound.json())
    users = client.post(URL, {"url": receiver.url, "events": ["user.created"]}, format="json")
    assert users.status_code == 400


def test_patch_changes_what_may_change_and_is_audited(admin, receiver):
    made = _create(admin, receiver.url).json()
    response = admin.patch(
        f"{URL}{made['id']}/",
        {"events": ["batch.released", "batch.rejected"], "description": "QA decisions"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["events"] == ["batch.rejected", "batch.released"]
    for body in ({"secret": "whsec_mine"}, {"created_by": "mallory"}, {"url": "ftp://x/"}):
        assert admin.patch(f"{URL}{made['id']}/", body, format="json").status_code == 400
    record = AuditLog.objects.get(action="webhook_update")
    assert record.old_values["events"] == ["batch.released"]
    assert record.changed_fields == ["description", "events"]


def test_rotating_the_secret_keeps_the_old_one_signing_for_a_while(admin, receiver):
    made = _create(admin, receiver.url).json()
    response = admin.post(f"{URL}{made['id']}/rotate-secret/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["secret"] != made["secret"]
    subscription = Subscription.objects.get(pk=made["id"])
    assert subscription.previous_secret == made["secret"]
    assert subscription.previous_secret_expires_at.isoformat().startswith(
        body["previous_secret_expires_at"][:16]
    )
    assert AuditLog.objects.filter(action="webhook_rotate_secret").count() == 1
    assert (
        admin.post(f"{URL}{made['id']}/rotate-secret/", {"x": 1}, format="json").status_code == 400
    )


def test_delete_removes_the_subscription_and_is_audited(admin, receiver):
    made = _create(admin, receiver.url).json()
    assert admin.delete(f"{URL}{made['id']}/").status_code == 204
    assert not Subscription.objects.exists()
    assert AuditLog.objects.filter(action="webhook_delete", resource_id=made["id"]).exists()
    assert admin.get(f"{URL}{made['id']}/").status_code == 404


def test_the_event_catalogue_lists_every_type(admin):
    response = admin.get(f"{URL}event-types/")
    assert response.status_code == 200
    types = {row["type"]: row for row in response.json()}
    for name in (
        "batch.planned",
        "batch.started",
        "batch.completed",
        "batch.released",
        "batch.rejected",
        "inspection.completed",
        "serials.generated",
        "serials.status_changed",
        "container.shipped",
        "site.updated",
        "user.created",
        "user.deactivated",
        "webhook.test",
    ):
        assert types[name]["version"] == 1
    assert types["batch.released"]["permission"] == "batch.view"
    assert types["user.created"]["permission"] == "user.view"


def test_a_test_event_goes_to_that_subscription_only(
    admin, receiver, receivers, django_capture_on_commit_callbacks
):
    from tests.webhooks.receiver import Receiver

    other = Receiver().start()
    receivers.append(other)
    made = _create(admin, receiver.url).json()
    _create(admin, other.url)
    receiver.secrets = [made["secret"]]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"{URL}{made['id']}/test/")
    assert response.status_code == 202, response.content
    [got] = receiver.got()
    assert got.webhook_id == response.json()["event_id"]
    assert got.verified_with == [made["secret"]]
    assert got.payload["type"] == "webhook.test"
    assert got.payload["data"]["subscription"] == made["id"]
    assert other.got() == []
    assert AuditLog.objects.filter(action="webhook_test").count() == 1


def test_deliveries_list_every_try_and_redeliver_sends_the_same_id_again(
    admin, receiver, django_capture_on_commit_callbacks
):
    made = _create(admin, receiver.url).json()
    receiver.status = 503
    with django_capture_on_commit_callbacks(execute=True):
        event_id = admin.post(f"{URL}{made['id']}/test/").json()["event_id"]
    page = admin.get(f"{URL}{made['id']}/deliveries/").json()
    [row] = page["results"]
    assert row["event_id"] == event_id and row["event_type"] == "webhook.test"
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["response_status"] == 503 and row["error"] == "HTTP 503"
    assert row["next_retry_at"] is not None
    assert row["tries"][0]["succeeded"] is False and row["tries"][0]["duration_ms"] >= 0

    receiver.status = 204
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"{URL}{made['id']}/deliveries/{row['id']}/redeliver/")
    assert response.status_code == 202, response.content
    delivered = Delivery.objects.get(pk=row["id"])
    assert delivered.status == DeliveryStatus.SUCCEEDED and delivered.attempts == 2
    assert [r.webhook_id for r in receiver.got()] == [event_id, event_id]
    assert AuditLog.objects.filter(action="webhook_redeliver").count() == 1

    assert admin.get(f"{URL}{made['id']}/deliveries/?status=failed").json()["results"] == []
    assert admin.get(f"{URL}{made['id']}/deliveries/?status=bogus").status_code == 400
    assert admin.get(f"{URL}{made['id']}/deliveries/?cursor=%00").status_code == 400
    missing = f"{URL}{made['id']}/deliveries/00000000-0000-0000-0000-000000000000/redeliver/"
    assert admin.post(missing).status_code == 404
    not_an_id = f"{URL}{made['id']}/deliveries/{'-' * 36}/redeliver/"
    assert admin.post(not_an_id).status_code == 404
    assert (
        admin.post(f"{URL}{made['id']}/deliveries/{row['id']}/redeliver/", {"x": 1}).status_code
        == 400
    )


def test_a_disabled_subscription_takes_no_test_and_no_redelivery(admin, receiver):
    made = _create(admin, receiver.url).json()
    Subscription.objects.filter(pk=made["id"]).update(is_active=False)
    response = admin.post(f"{URL}{made['id']}/test/")
    assert response.status_code == 409
    assert response.json()["code"] == "subscription_disabled"
    assert not OutboxEvent.objects.exists()
