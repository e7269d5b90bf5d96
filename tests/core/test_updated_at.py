"""``updated_at`` moves with every write of a tracked model, bulk ones included."""

from __future__ import annotations

import pytest

from batches.models import Product
from core import reasons
from tests.batches.factories import ProductFactory


@pytest.fixture(autouse=True)
def change_reason():
    """Product is a GMP record: its writes need a reason for change, bound here."""
    with reasons.given("Bulk write under test"):
        yield


@pytest.mark.django_db
def test_bulk_update_moves_updated_at() -> None:
    products = [ProductFactory(), ProductFactory()]
    before = {p.pk: p.updated_at for p in products}

    Product.objects.filter(pk__in=before).update(name="Renamed")

    for product in Product.objects.filter(pk__in=before):
        assert product.name == "Renamed"
        assert product.updated_at > before[product.pk]


@pytest.mark.django_db
def test_bulk_update_keeps_an_updated_at_it_is_given() -> None:
    product = ProductFactory()

    Product.objects.filter(pk=product.pk).update(updated_at=product.created_at)

    product.refresh_from_db()
    assert product.updated_at == product.created_at


@pytest.mark.django_db
def test_bulk_update_of_objects_moves_updated_at() -> None:
    product = ProductFactory()
    before = product.updated_at
    product.name = "Bulk renamed"

    Product.objects.bulk_update([product], ["name"])

    product.refresh_from_db()
    assert product.updated_at > before


@pytest.mark.django_db
def test_save_of_some_fields_writes_updated_at_too() -> None:
    product = ProductFactory()
    before = product.updated_at
    product.name = "Partly saved"

    product.save(update_fields=["name"])

    product.refresh_from_db()
    assert product.name == "Partly saved"
    assert product.updated_at > before


@pytest.mark.django_db
def test_save_of_no_fields_writes_nothing() -> None:
    product = ProductFactory()
    before = product.updated_at
    product.name = "Never saved"

    product.save(update_fields=[])

    product.refresh_from_db()
    assert product.name != "Never saved"
    assert product.updated_at == before
