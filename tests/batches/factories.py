from datetime import date

import factory
from stdnum import ean

from batches.choices import BatchStatus
from batches.models import Batch, Product
from tests.sites.factories import SiteFactory


def gtin14(n: int) -> str:
    """A GTIN-14 with a valid GS1 check digit: indicator 0, prefix 4012345, item ``n``."""
    body = f"04012345{n:05d}"
    return body + ean.calc_check_digit(body)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    gtin = factory.Sequence(gtin14)
    name = factory.Sequence(lambda n: f"Paracetamol {n}")
    strength = "500 mg"
    dosage_form = "tablet"


class BatchFactory(factory.django.DjangoModelFactory):
    """A planned batch; pass ``status`` (and the matching ``*_by``) for later states."""

    class Meta:
        model = Batch

    product = factory.SubFactory(ProductFactory)
    site = factory.SubFactory(SiteFactory)
    batch_number = factory.Sequence(lambda n: f"LOT-{n:05d}")
    planned_quantity = 10_000
    manufacturing_date = date(2025, 3, 1)
    expiry_date = date(2027, 3, 1)
    status = BatchStatus.PLANNED
