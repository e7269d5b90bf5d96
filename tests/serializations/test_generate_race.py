"""Two generations for the same GTIN (two batches of one product) at the same moment."""

import threading

import pytest
from django.db import connection

from batches.choices import BatchStatus
from serializations.models import SerialNumber
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory
from tests.conftest import assign
from tests.sites.factories import SiteFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _together(calls):
    barrier = threading.Barrier(len(calls))
    responses, errors = [None] * len(calls), []

    def send(index, client, url, body):
        try:
            barrier.wait(timeout=10)
            responses[index] = client.post(url, body, format="json")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i, *c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
    return responses


@pytest.fixture
def two_batches_of_one_product(auth_client):
    site = SiteFactory()
    operator = UserFactory()
    assign(operator, "operator", site=site)
    first = BatchFactory(site=site, status=BatchStatus.IN_PRODUCTION)
    second = BatchFactory(site=site, status=BatchStatus.IN_PRODUCTION, product=first.product)
    return [auth_client(operator), auth_client(operator)], first, second


@pytest.mark.parametrize("rounds", range(3))
def test_sequential_generations_of_one_gtin_never_collide(two_batches_of_one_product, rounds):
    clients, first, second = two_batches_of_one_product
    body = {"count": 5_000, "strategy": "sequential", "prefix": "R", "length": 10}

    responses = _together(
        [
            (clients[0], f"/api/batches/{first.pk}/serials/", body),
            (clients[1], f"/api/batches/{second.pk}/serials/", body),
        ]
    )

    assert [r.status_code for r in responses] == [201, 201], [r.content for r in responses]
    serials = list(
        SerialNumber.objects.filter(gtin=first.product.gtin).values_list("serial", flat=True)
    )
    assert len(serials) == len(set(serials)) == 10_000
    # One ran after the other: together they number R000000001 .. R000010000.
    assert sorted(serials) == [f"R{n:09d}" for n in range(1, 10_001)]
    for batch in (first, second):
        assert SerialNumber.objects.filter(batch=batch).count() == 5_000


def test_random_generations_of_one_gtin_never_collide(two_batches_of_one_product):
    clients, first, second = two_batches_of_one_product
    body = {"count": 10_000}

    responses = _together(
        [
            (clients[0], f"/api/batches/{first.pk}/serials/", body),
            (clients[1], f"/api/batches/{second.pk}/serials/", body),
        ]
    )

    assert [r.status_code for r in responses] == [201, 201]
    serials = SerialNumber.objects.filter(gtin=first.product.gtin).values_list("serial", flat=True)
    assert len(set(serials)) == 20_000
