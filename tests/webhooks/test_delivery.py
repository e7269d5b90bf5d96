"""Published events reach the subscribers that may read them, signed (Standard
Webhooks, checked by the receiver with the ``standardwebhooks`` package), retried with
backoff, given up on, and a failing subscription disabled; one event, one change.

Tasks run in-process here (the commit hooks run at the end of each captured block); the
same flow through a real broker and worker, with faults, is in ``test_delivery_faults``.
"""

from __future__ import annotations

import socket
import time
from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditLog
from batches import services as batch_services
from batches.choices import BatchStatus
from core import atcommit
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.batches.factories import BatchFactory, ProductFactory
from tests.conftest import assign
from tests.inspections.factories import InspectionFactory
from tests.sites.factories import SiteFactory
from tests.webhooks.receiver import Receiver
from webhooks import delivery, interest, outbox, sending, services, tasks
from webhooks.models import Delivery, DeliveryStatus, OutboxEvent, Subscription

pytestmark = pytest.mark.django_db


def subscribe(creator, url, types=("batch.released",), site=None):
    subscription, secret = services.subscription_create(
        actor=creator, url=url, types=list(types), site=site
    )
    return subscription, secret


@pytest.fixture
def quarantined(site, operator_user):
    batch = BatchFactory(
        site=site,
        status=BatchStatus.QUARANTINE,
        produced_quantity=9_500,
        completed_by=operator_user,
    )
    InspectionFactory(batch=batch, performed_by=UserFactory(), passed=True)
    return batch


def release(client, batch):
    return client.post(
        f"/api/batches/{batch.pk}/release/",
        {"password": DEFAULT_PASSWORD, "meaning": "approval"},
        format="json",
    )


def test_a_release_is_delivered_signed_with_the_batch_as_the_api_shows_it(
    staff_user, qa, quarantined, receiver, django_capture_on_commit_callbacks
):
    subscription, secret = subscribe(staff_user, receiver.url)
    receiver.secrets = [secret]
    with django_capture_on_commit_callbacks(execute=True):
        response = release(qa, quarantined)
    assert response.status_code == 200, response.content

    [got] = receiver.got()
    assert got.verified_with == [secret]
    assert got.path == "/hook"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-signature"].startswith("v1,")
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 60
    payload = got.payload
    assert list(payload) == ["type", "version", "id", "occurred_at", "site", "data"]
    assert payload["type"] == "batch.released" and payload["version"] == 1
    assert payload["id"] == got.webhook_id and payload["id"].startswith("evt_")
    assert payload["site"] == str(quarantined.site_id)
    assert payload["data"] == response.json()  # the resource as GET/POST show it
    [row] = Delivery.objects.all()
    assert row.status == DeliveryStatus.SUCCEEDED and row.attempts == 1
    assert row.response_status == 200 and row.delivered_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_sends_nothing(staff_user, site, receiver):
    subscribe(staff_user, receiver.url, types=["batch.planned"])
    with pytest.raises(RuntimeError), transaction.atomic():
        batch_services.batch_create(
            actor=staff_user,
            product=ProductFactory(),
            site=site,
            batch_number="RB-1",
            planned_quantity=10,
            manufacturing_date=date(2026, 11, 1),
            expiry_date=date(2028, 11, 1),
        )
        if getattr(connection, "writes_with_commit", False):
            # The event waits for the change's COMMIT (core.atcommit), which never comes.
            [queued] = atcommit.queued(connection)
            assert "batch.planned" in queued.params
        else:
            assert OutboxEvent.objects.count() == 1  # SQLite: written at once, in it
        raise RuntimeError("the change fails after the event was published")
    assert not OutboxEvent.objects.exists()
    tasks.fan_out()
    assert receiver.got() == []


def test_a_site_bound_subscription_receives_only_its_sites_events(
    staff_user, receivers, django_capture_on_commit_callbacks
):
    here, there = SiteFactory(code="HER-01"), SiteFactory(code="THR-02")
    bound, everywhere = Receiver().start(), Receiver().start()
    receivers += [bound, everywhere]
    subscribe(staff_user, bound.url, types=["batch.started"], site=here)
    subscribe(staff_user, everywhere.url, types=["batch.started"])
    with django_capture_on_commit_callbacks(execute=True):
        for site in (here, there):
            batch_services.batch_start(actor=staff_user, batch=BatchFactory(site=site))
    assert [r.payload["site"] for r in bound.got()] == [str(here.pk)]
    assert sorted(r.payload["site"] for r in everywhere.got()) == sorted(
        [str(here.pk), str(there.pk)]
    )


def test_a_subscriber_never_receives_what_its_creator_could_not_read(
    staff_user, receiver, django_capture_on_commit_callbacks
):
    here, there = SiteFactory(code="HER-01"), SiteFactory(code="THR-02")
    creator = UserFactory(username="ivy.integrations")
    assign(creator, "operator", here)
    from rbac.models import Permission, Role

    role = Role.objects.create(name="integrations")
    role.permissions.add(Permission.objects.get(codename="webhook.manage"))
    assign(creator, "integrations")
    subscribe(creator, receiver.url, types=["batch.started"])
    with django_capture_on_commit_callbacks(execute=True):
        for site in (here, there):
            batch_services.batch_start(actor=staff_user, batch=BatchFactory(site=site))
    assert [r.payload["site"] for r in receiver.got()] == [str(here.pk)]

    # Once the creator is gone, nothing more is delivered.
    creator.is_active = False
    creator.save()
    with django_capture_on_commit_callbacks(execute=True):
        batch_services.batch_start(actor=staff_user, batch=BatchFactory(site=here))
    assert len(receiver.got()) == 1


def test_a_failed_attempt_is_retried_after_a_backoff_and_pauses_the_subscription(
    staff_user, site, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.3
    subscription, _ = subscribe(staff_user, receiver.url, types=["batch.started"])
    receiver.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            batch_services.batch_start(actor=staff_user, batch=BatchFactory(site=site))
    # The first fails; the two behind it wait for its retry instead of hammering.
    assert len(receiver.got()) == 1
    first = Delivery.objects.get(attempts=1)
    assert first.status == DeliveryStatus.PENDING and first.error == "HTTP 500"
    assert first.next_attempt_at > timezone.now() - timedelta(seconds=1)
    subscription.refresh_from_db()
    assert subscription.paused_until == first.next_attempt_at
    assert tasks.drain(str(subscription.pk)) == 0  # still paused: nothing is sent

    receiver.status = 200
    time.sleep(0.35)
    assert tasks.drain(str(subscription.pk)) == 3
    ids = [r.webhook_id for r in receiver.got()]
    assert ids[0] == ids[1] and len(set(ids)) == 3  # the retry carries the same id
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}
    subscription.refresh_from_db()
    assert subscription.paused_until is None and subscription.consecutive_failures == 0


@pytest.mark.parametrize("attempts", [1, 2, 5, 10, 30])
def test_backoff_doubles_with_jitter_and_is_capped(settings, attempts):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 5
    settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS = 3600
    expected = min(3600, 5 * 2 ** (attempts - 1))
    delays = {delivery.backoff(attempts) for _ in range(50)}
    assert all(expected / 2 <= d <= expected for d in delays)
    assert len(delays) > 1  # jitter


def test_retries_end_and_repeated_failures_disable_the_subscription_and_tell_its_creator(
    staff_user, site, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_HOURS = 0  # every failed attempt is the last one
    settings.WEBHOOK_DISABLE_AFTER = 2
    subscription, _ = subscribe(staff_user, receiver.url, types=["batch.started"])
    receiver.status = 404
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        batch_services.batch_start(actor=staff_user, batch=BatchFactory(site=site))
    with django_capture_on_commit_callbacks(execute=True):
        batch_services.batch_start(actor=staff_user, batch=BatchFactory(site=site))
        batch_services.batch_start(actor=staff_user, batch=BatchFactory(site=site))
    subscription.refresh_from_db()
    assert subscription.is_active is False
    assert subscription.consecutive_failures == 2
    assert "2 deliveries in a row failed" in subscription.disabled_reason
    statuses = sorted(Delivery.objects.values_list("status", flat=True))
    assert statuses == ["failed", "failed", "pending"]  # the third waits for re-enabling
    assert len(receiver.got()) == 2
    [message] = mail.outbox
    assert message.to == [staff_user.email]
    assert receiver.url in message.body
    assert AuditLog.objects.filter(action="webhook_disable").count() == 1

    receiver.status = 200
    with django_capture_on_commit_callbacks(execute=True):
        services.subscription_update(
            actor=staff_user, subscription=subscription, data={"is_active": True}
        )
    assert len(receiver.got()) == 3
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0 and subscription.disabled_at is None


def test_redirects_are_not_followed(
    staff_user, site, receivers, django_capture_on_commit_callbacks
):
    target, elsewhere = Receiver().start(), Receiver().start()
    receivers += [target, elsewhere]
    target.status, target.location = 307, elsewhere.url
    subscribe(staff_user, target.url, types=["batch.started"])
    with django_capture_on_commit_callbacks(execute=True):
        batch_services.batch_start(actor=staff_user, batch=BatchFactory(site=site))
    assert len(target.got()) == 1 and elsewhere.got() == []
    assert Delivery.objects.get().error == "HTTP 307"


def test_a_hanging_receiver_is_cut_off_at_the_timeout(
    staff_user, site, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    receiver.delay = 5
    subscribe(staff_user, receiver.url, types=["batch.started"])
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        batch_services.batch_start(actor=staff_user, batch=BatchFactory(site=site))
    assert time.monotonic() - started < 3
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.PENDING and row.response_status is None
    assert "ReadTimeoutError" in row.error or "timed out" in row.error


def test_during_a_rotation_both_secrets_sign_then_only_the_new_one(
    staff_user, site, receiver, django_capture_on_commit_callbacks
):
    subscription, old = subscribe(staff_user, receiver.url, types=["batch.started"])
    subscription, new = services.secret_rotate(actor=staff_user, subscription=subscription)
    receiver.secrets = [old, new]
    with django_capture_on_commit_callbacks(execute=True):
        batch_services.batch_start(actor=staff_user, batch=BatchFactory(site=site))
    [during] = receiver.got()
    assert during.verified_with == [old, new]  # a receiver with either secret accepts it
    assert len(during.headers["webhook-signature"].split(" ")) == 2

    Subscription.objects.filter(pk=subscription.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        batch_services.batch_start(actor=staff_user, batch=BatchFactory(site=site))
    after = receiver.got()[1]
    assert after.verified_with == [new]


def test_a_name_that_resolves_elsewhere_at_delivery_is_refused(
    staff_user, site, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    """DNS rebinding: public when the subscription was saved, private when sent."""
    real = socket.getaddrinfo
    answers = {"hooks.partner.example": "93.184.216.34"}

    def resolve(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    url = f"http://hooks.partner.example:{receiver.port}/hook"
    subscribe(staff_user, url, types=["batch.started"])
    answers["hooks.partner.example"] = "10.1.2.3"
    with django_capture_on_commit_callbacks(execute=True):
        batch_services.batch_start(actor=staff_user, batch=BatchFactory(site=site))
    row = Delivery.objects.get()
    assert row.error.startswith("refused: The host hooks.partner.example resolves to 10.1.2.3")
    assert receiver.got() == []

    # Resolving to an allowed address, the request goes to the checked address, with
    # the name in Host.
    answers["hooks.partner.example"] = "127.0.0.1"
    Subscription.objects.update(paused_until=None)
    Delivery.objects.update(next_attempt_at=timezone.now())
    tasks.drain(str(row.subscription_id))
    [got] = receiver.got()
    assert got.headers["host"] == f"hooks.partner.example:{receiver.port}"


def test_an_event_nobody_subscribed_to_is_not_written(staff_user, site, receiver):
    subscribe(staff_user, receiver.url, types=["batch.released"])
    batch_services.batch_start(actor=staff_user, batch=BatchFactory(site=site))
    assert not OutboxEvent.objects.exists()


def test_a_subscription_saved_by_another_process_is_seen_within_the_refresh(
    staff_user, site, receiver, settings, django_capture_on_commit_callbacks
):
    assert interest.wanted("batch.started") is False  # read now: nobody wants it
    Subscription.objects.create(  # as another process saves it: this one is not told
        url=receiver.url, events=["batch.started"], secret="whsec_x", created_by=staff_user
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        batch_services.batch_start(actor=staff_user, batch=BatchFactory(site=site))
    assert not OutboxEvent.objects.exists() and not callbacks
    settings.WEBHOOK_INTEREST_REFRESH_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        batch_services.batch_start(actor=staff_user, batch=BatchFactory(site=site))
    assert OutboxEvent.objects.count() == 1


def test_commits_ring_the_fan_out_doorbell_once_until_the_fan_out_runs(monkeypatch):
    requested = []
    monkeypatch.setattr(tasks, "request_fan_out", lambda: requested.append(1))
    outbox.ring()
    outbox.ring()
    outbox.ring()
    assert len(requested) == 1  # one Celery message for three commits
    tasks.fan_out()  # clears the doorbell before it reads the outbox
    outbox.ring()
    assert len(requested) == 2


def test_a_subscription_deleted_while_being_served_ends_its_drain(
    staff_user, site, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    subscription, _ = subscribe(staff_user, receiver.url, types=["batch.started"])
    receiver.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            batch_services.batch_start(actor=staff_user, batch=BatchFactory(site=site))
    Subscription.objects.update(paused_until=None)
    Delivery.objects.update(next_attempt_at=timezone.now())
    real_send = sending.Sender.send

    def send_then_delete(self, **kwargs):
        outcome = real_send(self, **kwargs)
        Subscription.objects.filter(pk=subscription.pk).delete()  # meanwhile, by an admin
        return outcome

    monkeypatch.setattr(sending.Sender, "send", send_then_delete)
    receiver.status = 200
    assert delivery.drain(str(subscription.pk)) == 0  # its deliveries went with it
    assert not Delivery.objects.exists()
    assert delivery.drain(str(subscription.pk)) is None  # nothing left to serve


def test_a_stored_url_the_guard_now_refuses_is_a_failed_attempt_not_a_crash(
    staff_user, site, receiver, django_capture_on_commit_callbacks
):
    subscription, _ = subscribe(staff_user, receiver.url, types=["batch.started"])
    Subscription.objects.filter(pk=subscription.pk).update(url=receiver.url + "/\u00e9")
    with django_capture_on_commit_callbacks(execute=True):
        batch_services.batch_start(actor=staff_user, batch=BatchFactory(site=site))
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 1
    assert row.error.startswith("refused: Write the URL in printable ASCII")
    assert receiver.got() == []


def test_an_account_made_by_any_door_is_published_once(
    staff_user, receiver, django_capture_on_commit_callbacks
):
    from accounts import services as account_services

    subscribe(staff_user, receiver.url, types=["user.created"])
    with django_capture_on_commit_callbacks(execute=True):
        type(staff_user).objects.create_user(  # createsuperuser and scripts come this way
            username="script.made", email="script.made@example.com", password="x-long-pass-2026"
        )
        account_services.user_create(
            username="api.made", email="api.made@example.com", password="a-long-enough-pass-2026"
        )
    bodies = [row.body for row in OutboxEvent.objects.filter(type="user.created")]
    assert len(bodies) == 2
    assert '"username":"script.made"' in bodies[0] and '"username":"api.made"' in bodies[1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_publishing_costs_the_change_no_round_trip_of_its_own(admin, staff_user, site, receiver):
    if connection.vendor != "postgresql":
        pytest.skip("the COMMIT that carries the outbox row is the PostgreSQL backend's")

    def patch(name: str) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            response = admin.patch(f"/api/sites/{site.pk}/", {"name": name}, format="json")
        assert response.status_code == 200, response.content
        sql = [query["sql"] for query in queries.captured_queries]
        # Up to the change's COMMIT: the fan-out runs after it (eager in tests).
        return sql[: next(n for n, s in enumerate(sql) if s.endswith("COMMIT")) + 1]

    patch("Warm caches")
    unpublished = patch("Nobody listens")
    subscribe(staff_user, receiver.url, types=["site.updated"])
    patch("Interest read again")
    published = patch("Somebody listens")
    assert len(published) == len(unpublished)
    assert published[-1].startswith("INSERT INTO webhooks_outboxevent")
    assert published[-1].endswith("; COMMIT")
    assert OutboxEvent.objects.filter(type="site.updated").count() == 2
