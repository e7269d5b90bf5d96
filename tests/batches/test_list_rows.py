"""The list's fast path renders exactly what the list serializer would."""

import pytest

from batches.api.serializers import BatchListOutputSerializer
from batches.selectors import LIST_VALUES, batch_list, batch_rows
from tests.batches.factories import BatchFactory


@pytest.mark.django_db
def test_fast_rows_equal_serializer_output():
    batches = [BatchFactory(), BatchFactory(produced_quantity=9_500, status="quarantine")]

    rows = batch_rows(
        batch_list()
        .filter(pk__in=[b.pk for b in batches])
        .order_by("batch_number")
        .values(*LIST_VALUES)
    )

    expected = [
        dict(BatchListOutputSerializer(b).data)
        for b in batch_list().filter(pk__in=[b.pk for b in batches]).order_by("batch_number")
    ]
    assert [dict(r, product=dict(r["product"])) for r in rows] == [
        dict(e, product=dict(e["product"])) for e in expected
    ]
