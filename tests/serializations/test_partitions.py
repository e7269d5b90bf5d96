"""The serial table hash-partitioned by GTIN on PostgreSQL (migration 0004): one
product's packs in one partition, the uniqueness key a constraint across all, and
verification reading one partition."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.expressions import RawSQL

from serializations.models import SerialNumber
from tests.batches.factories import BatchFactory, ProductFactory
from tests.serializations.factories import generate, make_serials

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
TABLE = SerialNumber._meta.db_table


def rows_per_partition() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text, count(*) FROM {TABLE} GROUP BY 1")
        return dict(cursor.fetchall())


def test_the_table_has_the_configured_hash_partitions():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partstrat, pg_get_partkeydef(partrelid) FROM pg_partitioned_table"
            " WHERE partrelid = %s::regclass",
            [TABLE],
        )
        assert cursor.fetchone() == ("h", "HASH (gtin)")
        cursor.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = %s::regclass", [TABLE])
        assert cursor.fetchone()[0] == settings.SERIAL_PARTITIONS == 16


def test_one_products_packs_share_a_partition_and_products_spread():
    batches = [BatchFactory(product=ProductFactory()) for _ in range(8)]
    for batch in batches:
        generate(batch, 50)

    placed = {
        batch.product.gtin: {
            part
            for part in SerialNumber.objects.filter(batch=batch)
            .annotate(part=RawSQL("tableoid::regclass::text", []))
            .values_list("part", flat=True)
        }
        for batch in batches
    }
    assert all(len(parts) == 1 for parts in placed.values())  # a GTIN's rows: one partition
    assert len({next(iter(parts)) for parts in placed.values()}) > 1  # GTINs: several
    assert sum(rows_per_partition().values()) == 8 * 50


def test_gtin_and_serial_stay_unique_across_partitions():
    batch = BatchFactory()
    make_serials(batch, ["A1", "A2"])
    other_batch = BatchFactory(product=batch.product)  # the same GTIN
    with pytest.raises(IntegrityError), transaction.atomic():
        make_serials(other_batch, ["A2"])
    assert SerialNumber.objects.filter(gtin=batch.product.gtin).count() == 2


def test_ids_keep_coming_from_the_tables_sequence():
    batch = BatchFactory()
    first, second = make_serials(batch, ["S1", "S2"])
    assert first.pk and second.pk and second.pk > first.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
        assert cursor.fetchone()[0] == f"public.{TABLE}_id_seq"


def test_verification_reads_one_partition():
    batch = BatchFactory()
    make_serials(batch, ["V1"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN SELECT id FROM {TABLE} WHERE gtin = %s AND serial = %s",
            [batch.product.gtin, "V1"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    scanned = set(re.findall(rf"\bon ({TABLE}_p\d+)\b", plan))  # the relations scanned
    assert len(scanned) == 1, plan
