"""What an audited write costs: every SQL statement and every Redis round trip of a site
PATCH and of a batch lifecycle action, named, against the real PostgreSQL and Redis.

The access record of each request waits in the process's buffer (``audit.writer``) and
leaves in a batch of up to ``AUDIT_ACCESS_BATCH_SIZE`` (one task published, one Redis
round trip for the batch), so it costs these requests nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis.connection
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit import writer
from audit.models import AuditLog
from batches.events import BATCH_START
from batches.models import BatchStatus
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory
from tests.conftest import assign
from tests.sites.factories import SiteFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),  # real BEGIN and COMMIT, no test transaction
]


class RoundTrips:
    """Every request sent to Redis: one ``send_packed_command`` per round trip (a
    pipeline or MULTI/EXEC is one), named by its first command."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def commands(self) -> list[str]:
        return [packed.split(b"\r\n")[2].decode() for packed in self.sent]


@pytest.fixture
def redis_trips(monkeypatch) -> Iterator[RoundTrips]:
    trips = RoundTrips()
    send = redis.connection.AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):
        trips.sent.append(b"".join(command) if isinstance(command, list) else command)
        return send(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    yield trips


@pytest.fixture
def buffered_access_records(settings, monkeypatch) -> Iterator[None]:
    """Access records as in production: buffered, not written at the end of each
    request (the test settings flush every request). No timer thread: the test flushes."""
    settings.AUDIT_ACCESS_FLUSH_SECONDS = 60.0
    monkeypatch.setattr(writer, "_ensure_timer", lambda: None)
    yield
    writer.flush(force=True)


def statements(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"].split(" ", 2)[0] for query in queries.captured_queries]


@pytest.fixture
def admin_api(auth_client):
    user = UserFactory()
    assign(user, "admin")
    api = auth_client(user)
    api.get("/api/sites/")  # the caller's permissions cached, as on any warm process
    return api


def test_an_audited_site_patch(admin_api, redis_trips, buffered_access_records):
    site = SiteFactory()
    other = SiteFactory()
    url = f"/api/sites/{site.pk}/"
    redis_trips.sent.clear()

    with CaptureQueriesContext(connection) as queries:
        response = admin_api.patch(
            url, {"name": "Renamed"}, format="json", HTTP_X_CHANGE_REASON="Plant renamed"
        )

    assert response.status_code == 200, response.content
    assert statements(queries) == [
        "BEGIN",  # the view's transaction, which the service joins
        "SELECT",  # the site, scoped to the caller and locked: FOR UPDATE OF, read once
        "UPDATE",  # the change
        "INSERT",  # its audit record, in the same transaction
        "COMMIT",
    ]
    assert "FOR UPDATE OF" in queries.captured_queries[1]["sql"]
    assert redis_trips.commands() == [
        "EVALSHA",  # the authentication's one round trip: user, session, permissions, the
        # caller's rate counter (core.cachebackend's script)
        "MULTI",  # the site's cache version moved, inside the transaction (sites.cache)
    ]
    assert AuditLog.objects.filter(resource_id=str(site.pk), action="update").exists()

    # Uniqueness is the database's: a taken code is the same 400 as ever, nothing changed.
    with CaptureQueriesContext(connection) as queries:
        taken = admin_api.patch(url, {"code": other.code}, format="json", HTTP_X_CHANGE_REASON="x")
    assert taken.status_code == 400
    assert taken.json() == {"code": ["Site with this Code already exists."]}
    assert statements(queries) == ["BEGIN", "SELECT", "UPDATE", "ROLLBACK"]
    site.refresh_from_db()
    assert (site.name, site.code) == ("Renamed", site.code)
    taken_gln = admin_api.patch(url, {"gln": other.gln}, format="json", HTTP_X_CHANGE_REASON="x")
    assert taken_gln.json() == {"gln": ["Site with this GLN already exists."]}


def test_a_batch_lifecycle_action(admin_api, redis_trips, buffered_access_records, site):
    batch = BatchFactory(site=site)
    redis_trips.sent.clear()

    with CaptureQueriesContext(connection) as queries:
        response = admin_api.post(f"/api/batches/{batch.pk}/start/", {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == BatchStatus.IN_PRODUCTION
    assert response.json()["started_by"] == str(response.wsgi_request.user.pk)
    assert statements(queries) == [
        "BEGIN",
        "SELECT",  # the batch with its detail's related rows, locked: FOR UPDATE OF
        "UPDATE",  # the transition
        "INSERT",  # the named event's audit record (batch.started)
        "COMMIT",
    ]  # and the answer is drawn from the locked read, not read again
    assert 'FOR UPDATE OF "batches_batch"' in queries.captured_queries[1]["sql"]
    assert redis_trips.commands() == ["EVALSHA"]  # the authentication's round trip
    assert AuditLog.objects.filter(resource_id=str(batch.pk), action=BATCH_START).count() == 1


def test_a_refused_transition_under_the_lock_changes_nothing(admin_api, site):
    batch = BatchFactory(site=site, status=BatchStatus.QUARANTINE)

    response = admin_api.post(f"/api/batches/{batch.pk}/start/", {}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_status"
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUARANTINE
    assert not AuditLog.objects.filter(resource_id=str(batch.pk), action=BATCH_START).exists()


def test_a_pointer_is_written_again_after_commit_only_when_the_transaction_outlived_it(
    redis_trips, monkeypatch
):
    """``core.cache.invalidate_many``: the pointer written inside the transaction stands;
    a transaction longer than half its lifetime writes it again once committed."""
    from django.core.cache import cache
    from django.db import transaction

    from core import cache as core_cache

    clock = [1000.0]
    monkeypatch.setattr(core_cache.time, "monotonic", lambda: clock[0])

    with transaction.atomic():
        core_cache.invalidate_many({"probe:ver:short": 2}, timeout=300)
    assert redis_trips.commands() == ["MULTI"]

    redis_trips.sent.clear()
    with transaction.atomic():
        core_cache.invalidate_many({"probe:ver:long": 2}, timeout=300)
        clock[0] += 151  # the pointer may have expired meanwhile and been seeded anew
        cache.set("probe:ver:long", 1, 300)  # as a reader seeding the old version would
    assert redis_trips.commands() == ["MULTI", "SET", "MULTI"]
    assert cache.get("probe:ver:long") == 2
