"""Two QA users release (or one releases, one rejects) the same batch at the same
moment: the row lock lets exactly one through; the other gets 409 with the new status."""

import threading

import pytest
from django.db import connection

from accounts.models import ElectronicSignature
from audit.choices import Action
from audit.models import AuditLog
from batches import events as batch_events
from batches.choices import BatchStatus
from batches.models import Batch
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory
from tests.conftest import DEFAULT_PASSWORD, assign
from tests.inspections.factories import InspectionFactory

ROUNDS = 3
RELEASE = {"password": DEFAULT_PASSWORD, "meaning": "approval", "reason": "Race"}
REJECT = {"password": DEFAULT_PASSWORD, "reason": "Race"}


def _quarantined_batch(site):
    """In quarantine, completed by an operator, with one passed inspection."""
    operator = UserFactory()
    assign(operator, "operator", site=site)
    batch = BatchFactory(
        site=site, status=BatchStatus.QUARANTINE, produced_quantity=1_000, completed_by=operator
    )
    InspectionFactory(batch=batch, passed=True)
    return batch


def _together(requests):
    """Send ``(client, url, body)`` requests at once, one thread each; their responses."""
    barrier = threading.Barrier(len(requests))
    responses = [None] * len(requests)
    errors = []

    def send(index, client, url, body):
        try:
            barrier.wait(timeout=10)
            responses[index] = client.post(url, body, format="json")
        except Exception as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=send, args=(i, *request)) for i, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a request did not finish"
    assert not errors, errors
    return responses


@pytest.fixture
def qa_clients(site, auth_client):
    users = [UserFactory(username=f"qa.race{i}") for i in (1, 2)]
    for user in users:
        assign(user, "qa", site=site)
    return users, [auth_client(user) for user in users]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_releases_exactly_one_wins(site, qa_clients):
    users, clients = qa_clients

    for _ in range(ROUNDS):
        batch = _quarantined_batch(site)
        url = f"/api/batches/{batch.pk}/release/"

        responses = _together([(client, url, RELEASE) for client in clients])

        statuses = [r.status_code for r in responses]
        assert sorted(statuses) == [200, 409], [r.content for r in responses]
        winner = statuses.index(200)
        loser = responses[1 - winner].json()
        assert loser["code"] == "invalid_status"
        assert loser["status"] == "released"
        batch.refresh_from_db()
        assert batch.status == BatchStatus.RELEASED
        assert batch.released_by == users[winner]
        [signature] = ElectronicSignature.objects.filter(
            record_type="batches.batch", record_id=str(batch.pk), meaning="approval"
        )
        assert batch.release_signature == signature
        assert signature.signer == users[winner]
        assert responses[winner].json()["release_signature"]["id"] == str(signature.pk)
        releases = AuditLog.objects.filter(
            action=batch_events.BATCH_RELEASE, resource_id=str(batch.pk)
        )
        assert [r.actor_id for r in releases] == [users[winner].pk]
        assert (
            AuditLog.objects.filter(action=Action.ESIGNATURE, resource_id=str(signature.pk)).count()
            == 1
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_release_and_reject_exactly_one_wins(site, qa_clients):
    _, clients = qa_clients

    for _ in range(ROUNDS):
        batch = _quarantined_batch(site)
        base = f"/api/batches/{batch.pk}"

        release, reject = _together(
            [(clients[0], f"{base}/release/", RELEASE), (clients[1], f"{base}/reject/", REJECT)]
        )

        assert sorted([release.status_code, reject.status_code]) == [200, 409]
        final = Batch.objects.get(pk=batch.pk).status
        loser = reject if release.status_code == 200 else release
        assert loser.json()["status"] == final
        assert final == ("released" if release.status_code == 200 else "rejected")
        signatures = ElectronicSignature.objects.filter(
            record_type="batches.batch", record_id=str(batch.pk)
        )
        assert signatures.count() == 1
