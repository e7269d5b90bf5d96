"""Bulk writes (``QuerySet.update``, ``bulk_create``, ``bulk_update``) of every audited
model are one record naming what they touched; none goes unrecorded."""

import datetime as dt
import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import ElectronicSignature, User, UserSession
from audit import registry
from audit.capture import MAX_ID_LIST, record_bulk
from audit.choices import Action
from audit.models import AuditLog
from batches.models import Batch, Product
from core.models import AuditedModel, TrackedQuerySet
from core.signals import bulk_write
from inspections.choices import InspectionKind
from inspections.models import Inspection
from rbac.models import Permission, Role, RoleAssignment
from serializations.models import Container, SerialJob, SerialNumber
from sites.models import Site
from tests.accounts.factories import UserFactory
from tests.sites.factories import SiteFactory

# Some models here are GMP records: their bulk writes need a reason for change.
pytestmark = pytest.mark.usefixtures("change_reason")

# Our own audited models: third-party ones (a TOTP device) are never bulk-written here.
AUDITED = [m for m in registry.audited_models() if issubclass(m, AuditedModel)]


def _label(model):
    return model._meta.label_lower


def _signature(n):
    signer = UserFactory()
    return ElectronicSignature(
        signer=signer,
        printed_name=signer.printed_name,
        signed_at=timezone.now(),
        meaning="approval",
        record_type="sites.site",
        record_id=f"bulk-{n}",
        content_hash="0" * 64,
    )


def _product(n):
    return Product(gtin=f"{uuid.uuid4().int % 10**14:014d}", name=f"Bulk product {n}")


def _batch(n):
    return Batch(
        product=_saved_one(_product(n)),
        site=SiteFactory(),
        batch_number=f"BULK{n:04d}",
        planned_quantity=1000,
        manufacturing_date=dt.date(2030, 1, 1),
        expiry_date=dt.date(2032, 1, 1),
    )


def _inspection(n):
    return Inspection(
        batch=_saved_one(_batch(n)), kind=InspectionKind.values[0], performed_by=UserFactory()
    )


def _serial(n):
    batch = _saved_one(_batch(n))
    now = timezone.now()
    return SerialNumber(
        batch=batch,
        gtin=batch.product.gtin,
        serial=f"BULK{n}",
        status_changed_at=now,
        created_at=now,
    )


def _serial_job(n):
    return SerialJob(batch=_saved_one(_batch(n)), count=20_000, strategy="random", length=12)


def _container(n):
    return Container(site=_saved_one(SiteFactory.build()), kind="case", sscc=f"{n:017d}0")


def _saved_one(obj):
    obj.save()
    return obj


def _session(n):
    return UserSession(
        user=UserFactory(),
        refresh_jti=f"jti-{n}",
        expires_at=timezone.now() + dt.timedelta(days=1),
    )


# How to build one unsaved instance of each audited model (n makes it unique), and a
# non-excluded field to change with QuerySet.update / bulk_update. An audited model
# missing here fails the tests below: add it.
BUILD = {
    "sites.site": lambda n: SiteFactory.build(),
    "rbac.permission": lambda n: Permission(codename=f"bulk.perm{n}"),
    "rbac.role": lambda n: Role(name=f"bulk-role-{n}"),
    "rbac.roleassignment": lambda n: RoleAssignment(
        user=UserFactory(), role=Role.objects.get(name="qa")
    ),
    "accounts.user": lambda n: UserFactory.build(),
    "accounts.usersession": _session,
    "accounts.electronicsignature": _signature,
    "batches.product": _product,
    "batches.batch": _batch,
    "inspections.inspection": _inspection,
    "serializations.serialnumber": _serial,
    "serializations.serialjob": _serial_job,
    "serializations.container": _container,
}
CHANGE = {
    "rbac.permission": ("description", lambda: "Described in bulk"),
    "sites.site": ("name", lambda: "Bulk renamed"),
    "rbac.role": ("description", lambda: "Changed in bulk"),
    "rbac.roleassignment": ("role", lambda: Role.objects.get(name="auditor")),
    "accounts.user": ("first_name", lambda: "Bulk"),
    "accounts.usersession": ("user_agent", lambda: "bulk-agent/1.0"),
    "batches.product": ("name", lambda: "Renamed in bulk"),
    "batches.batch": ("planned_quantity", lambda: 999),
    "inspections.inspection": ("notes", lambda: "Noted in bulk"),
    "serializations.serialnumber": ("status", lambda: "packed"),
    "serializations.serialjob": ("error", lambda: "Failed in bulk"),
    "serializations.container": ("shipping_reference", lambda: "DN-BULK"),
}


# Models whose rows can never change: bulk updates are refused outright.
IMMUTABLE = {"accounts.electronicsignature"}


def _refused_if_immutable(model):
    if _label(model) not in IMMUTABLE:
        return False
    objs = _saved(model)
    with pytest.raises(PermissionError):
        model._default_manager.filter(pk__in=[o.pk for o in objs]).update(reason="changed")
    return True


def _build(model, count=3):
    label = _label(model)
    if label not in BUILD:
        pytest.fail(f"{label} is audited: add it to BUILD and CHANGE in {__name__}")
    return [BUILD[label](n) for n in range(count)]


def _saved(model, count=3):
    objs = _build(model, count)
    for obj in objs:
        obj.save()
    return objs


def _assert_tracked(model):
    queryset = model._default_manager.all()
    assert isinstance(queryset, TrackedQuerySet), (
        f"{_label(model)}'s default manager returns {type(queryset).__name__}, not a "
        "core.models.TrackedQuerySet: its bulk writes would go unrecorded"
    )


def _bulk_record(model, action):
    [record] = AuditLog.objects.filter(action=action, resource_type=_label(model))
    return record


def test_every_audited_model_is_covered():
    assert {_label(m) for m in AUDITED} >= {
        "sites.site",
        "rbac.role",
        "rbac.roleassignment",
        "accounts.user",
        "accounts.usersession",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("model", AUDITED, ids=_label)
def test_queryset_update_recorded_naming_ids_and_count(model):
    _assert_tracked(model)
    if _refused_if_immutable(model):
        return
    objs = _saved(model)
    ids = [obj.pk for obj in objs]
    field, value = CHANGE[_label(model)][0], CHANGE[_label(model)][1]()

    updated = model._default_manager.filter(pk__in=ids).update(**{field: value})

    assert updated == 3
    record = _bulk_record(model, Action.BULK_UPDATE)
    touched = record.new_values["touched"]
    assert touched["count"] == 3
    assert sorted(touched["ids"]) == sorted(str(pk) for pk in ids)
    assert field in record.new_values["values"]
    assert record.changed_fields == [field]


@pytest.mark.django_db
@pytest.mark.parametrize("model", AUDITED, ids=_label)
def test_bulk_create_recorded_naming_ids_and_count(model):
    _assert_tracked(model)
    objs = _build(model)

    created = model._default_manager.bulk_create(objs)

    record = _bulk_record(model, Action.BULK_CREATE)
    touched = record.new_values["touched"]
    assert touched["count"] == 3
    assert touched["ids"] == [str(obj.pk) for obj in created]
    assert model._default_manager.filter(pk__in=touched["ids"]).count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("model", AUDITED, ids=_label)
def test_bulk_update_recorded_naming_ids_and_fields(model):
    _assert_tracked(model)
    if _label(model) in IMMUTABLE:
        signatures = _saved(model)
        for signature in signatures:
            signature.reason = "changed"
        with pytest.raises(PermissionError):
            model._default_manager.bulk_update(signatures, ["reason"])
        return
    objs = _saved(model)
    field, value = CHANGE[_label(model)][0], CHANGE[_label(model)][1]()
    for obj in objs:
        setattr(obj, field, value)

    model._default_manager.bulk_update(objs, [field])

    # One event, not one per internal UPDATE statement.
    record = _bulk_record(model, Action.BULK_UPDATE)
    touched = record.new_values["touched"]
    assert touched["count"] == 3
    assert sorted(touched["ids"]) == sorted(str(obj.pk) for obj in objs)
    assert record.changed_fields == [field]


@pytest.mark.django_db
def test_bulk_update_announcement_records_the_columns_as_changed_fields():
    sites = _saved(Site)

    with transaction.atomic():
        # What TrackedQuerySet.bulk_update announces after writing.
        bulk_write.send(
            sender=Site,
            action="update",
            ids=[s.pk for s in sites],
            count=3,
            values={"fields": ["name", "address"]},
        )

    record = _bulk_record(Site, Action.BULK_UPDATE)
    assert record.changed_fields == ["address", "name"]
    assert record.new_values["values"] == {"fields": ["name", "address"]}


@pytest.mark.django_db
def test_update_of_bookkeeping_columns_only_is_not_recorded():
    users = _saved(User)

    User.objects.filter(pk__in=[u.pk for u in users]).update(auth_version=7)

    assert not AuditLog.objects.filter(action=Action.BULK_UPDATE).exists()


@pytest.mark.django_db
def test_rolled_back_bulk_update_leaves_no_record():
    sites = _saved(Site)

    with pytest.raises(RuntimeError), transaction.atomic():
        Site.objects.filter(pk__in=[s.pk for s in sites]).update(is_active=False)
        raise RuntimeError

    assert not AuditLog.objects.filter(action=Action.BULK_UPDATE).exists()


# --- record_bulk, as services that take a bulk path call it ---------------------------


@pytest.mark.django_db
def test_record_bulk_stores_one_record_with_ids_count_and_range():
    ids = ["a1", "a2", "a3"]

    with transaction.atomic():
        stored = record_bulk(
            action=Action.BULK_UPDATE,
            model=Site,
            ids=ids,
            id_range=("a1", "a3"),
            count=3,
            values={"is_active": False},
        )

    [record] = AuditLog.objects.filter(action=Action.BULK_UPDATE)
    assert str(record.id) == stored["id"]
    assert record.resource_type == "sites.site"
    assert record.new_values == {
        "touched": {"count": 3, "ids": ids, "id_range": ["a1", "a3"]},
        "values": {"is_active": False},
    }
    assert record.changed_fields == ["is_active"]


@pytest.mark.django_db
def test_record_bulk_with_many_ids_names_first_last_and_count():
    ids = [f"SN{n:06d}" for n in range(MAX_ID_LIST + 500)]

    with transaction.atomic():
        record_bulk(action=Action.BULK_CREATE, model=Site, ids=ids, count=len(ids))

    [record] = AuditLog.objects.filter(action=Action.BULK_CREATE)
    assert record.new_values["touched"] == {
        "count": MAX_ID_LIST + 500,
        "first_id": "SN000000",
        "last_id": f"SN{MAX_ID_LIST + 499:06d}",
    }


@pytest.mark.django_db
def test_record_bulk_with_a_range_only():
    with transaction.atomic():
        record_bulk(
            action=Action.BULK_CREATE,
            model=Site,
            id_range=("SN000001", "SN100000"),
            count=100_000,
            summary={"batch": "B-1"},
        )

    [record] = AuditLog.objects.filter(action=Action.BULK_CREATE)
    assert record.new_values == {
        "touched": {"count": 100_000, "id_range": ["SN000001", "SN100000"], "batch": "B-1"}
    }
