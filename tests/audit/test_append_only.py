"""The audit tables are append-only: the models refuse updates and deletes, and so does
the database itself (triggers), whatever client talks to it."""

import pytest
from django.db import Error, connection, transaction

from audit import sealing
from audit.capture import record_event
from audit.choices import Action
from audit.models import AuditLog, AuditSeal

TABLES = ("audit_auditlog", "audit_auditseal")


@pytest.fixture
def sealed_records(db):
    """Two records and their seals, committed as far as the test transaction goes."""
    with transaction.atomic():
        first = record_event(action=Action.CREATE, resource_type="sites.site", resource_id="a")
        second = record_event(action=Action.UPDATE, resource_type="sites.site", resource_id="a")
    sealing.seal()
    ids = [first["id"], second["id"]]
    assert AuditSeal.objects.filter(log_id__in=ids).count() == 2
    return ids


def _counts():
    return AuditLog.objects.count(), AuditSeal.objects.count()


def _refused_by_database(sql):
    # The savepoint keeps the test's transaction usable after the refusal.
    with pytest.raises(Error) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    return str(caught.value)


# --- the models ---------------------------------------------------------------------


@pytest.mark.django_db
def test_saving_an_existing_record_is_refused(sealed_records):
    record = AuditLog.objects.get(pk=sealed_records[0])
    record.reason = "edited"

    with pytest.raises(PermissionError):
        record.save()

    assert AuditLog.objects.get(pk=record.pk).reason == ""


@pytest.mark.django_db
def test_deleting_a_record_is_refused(sealed_records):
    record = AuditLog.objects.get(pk=sealed_records[0])

    with pytest.raises(PermissionError):
        record.delete()

    assert AuditLog.objects.filter(pk=record.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "changes"),
    [(AuditLog, {"reason": "x"}), (AuditSeal, {"text": "x"})],
    ids=["AuditLog", "AuditSeal"],
)
def test_queryset_update_and_delete_are_refused(sealed_records, model, changes):
    before = _counts()

    with pytest.raises(PermissionError):
        model.objects.update(**changes)
    with pytest.raises(PermissionError):
        model.objects.filter(pk__isnull=False).update(**changes)
    with pytest.raises(PermissionError):
        model.objects.all().delete()
    with pytest.raises(PermissionError):
        model.objects.filter(pk__isnull=False).delete()

    assert _counts() == before


@pytest.mark.django_db
def test_seal_save_and_delete_are_refused(sealed_records):
    link = AuditSeal.objects.first()
    link.text = "forged"

    with pytest.raises(PermissionError):
        link.save()
    with pytest.raises(PermissionError):
        link.delete()

    assert AuditSeal.objects.get(pk=link.pk).text != "forged"


# --- the database -----------------------------------------------------------------


@pytest.mark.django_db
def test_raw_update_of_records_refused_by_the_database(sealed_records):
    message = _refused_by_database("UPDATE audit_auditlog SET reason = 'x'")

    assert "append-only" in message
    assert set(AuditLog.objects.values_list("reason", flat=True)) == {""}


@pytest.mark.django_db
def test_raw_update_of_seals_refused_by_the_database(sealed_records):
    texts = list(AuditSeal.objects.values_list("text", flat=True))

    message = _refused_by_database("UPDATE audit_auditseal SET text = 'x'")

    assert "append-only" in message
    assert list(AuditSeal.objects.values_list("text", flat=True)) == texts


@pytest.mark.django_db
@pytest.mark.parametrize("table", TABLES)
def test_raw_delete_refused_by_the_database(sealed_records, table):
    before = _counts()

    message = _refused_by_database(f"DELETE FROM {table}")

    assert "append-only" in message
    assert _counts() == before


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("table", TABLES)
def test_truncate_refused_by_postgresql(sealed_records, table):
    before = _counts()

    message = _refused_by_database(f"TRUNCATE {table}")

    assert "append-only" in message
    assert _counts() == before


@pytest.mark.django_db
def test_inserting_new_records_still_works(sealed_records):
    records, _ = _counts()

    with transaction.atomic():
        record_event(action=Action.DELETE, resource_type="sites.site", resource_id="a")

    assert AuditLog.objects.count() == records + 1
    assert sealing.seal() == 1
    assert sealing.verify().ok
