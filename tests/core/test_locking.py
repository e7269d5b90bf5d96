"""Rows read locked once per transaction, and uniqueness left to the database
(``core.locking``)."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core import locking
from sites import services
from sites.models import Site
from tests.sites.factories import SiteFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_instance_read_locked_is_recognised_in_its_transaction_only():
    site = SiteFactory()
    with transaction.atomic():
        locked = locking.read_locked(Site.objects.all(), pk=site.pk)
        assert locking.is_locked(locked)
        assert not locking.is_locked(site)  # another instance of the same row
        assert locking.relock(locked) is locked
        assert locking.relock(site) is not site
    assert not locking.is_locked(locked)  # committed: the lock is gone, and so is the mark


def test_a_rolled_back_savepoint_forgets_what_was_locked_inside_it():
    site = SiteFactory()
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            locked = locking.read_locked(Site.objects.all(), pk=site.pk)
            raise RuntimeError
        assert not locking.is_locked(locked)


def test_a_rollback_forgets_it_too():
    site = SiteFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        locked = locking.read_locked(Site.objects.all(), pk=site.pk)
        raise RuntimeError
    assert not locking.is_locked(locked)
    with transaction.atomic():  # the same object in a new transaction is read again
        assert locking.relock(locked) is not locked


def test_outside_a_transaction_nothing_is_remembered():
    site = SiteFactory()
    assert locking.mark_locked(site) is site
    assert not locking.is_locked(site)


def test_a_service_joins_the_transaction_that_locked_its_row_without_a_savepoint():
    site = SiteFactory()
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        locked = locking.read_locked(Site.objects.all(), pk=site.pk)
        services.site_update(site=locked, data={"name": "Joined"})
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [q for q in sql if q.startswith("SAVEPOINT")]
    assert len([q for q in sql if q.startswith("SELECT") and 'FROM "sites_site"' in q]) == 1


def test_a_service_given_any_other_instance_reads_it_again_locked():
    site = SiteFactory()
    stale = Site.objects.get(pk=site.pk)
    Site.objects.filter(pk=site.pk).update(address="Changed meanwhile")

    with CaptureQueriesContext(connection) as queries:
        updated = services.site_update(site=stale, data={"name": "Read again"})

    assert updated.address == "Changed meanwhile"  # the row, not the stale copy
    if connection.features.has_select_for_update:  # SQLite locks the whole database
        assert any("FOR UPDATE" in q["sql"] for q in queries.captured_queries)


def test_an_error_in_a_joined_service_ends_the_whole_transaction():
    site, other = SiteFactory(), SiteFactory()
    with pytest.raises(ValidationError), transaction.atomic():
        locked = locking.read_locked(Site.objects.all(), pk=site.pk)
        services.site_update(site=locked, data={"code": other.code})
    site.refresh_from_db()
    assert site.code != other.code


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("code", "Site with this Code already exists."),
        ("gln", "Site with this GLN already exists."),
    ],
)
def test_a_unique_violation_is_the_validation_error_validate_unique_raises(field, message):
    site, other = SiteFactory(), SiteFactory()
    setattr(site, field, getattr(other, field))
    with pytest.raises(ValidationError) as raised:
        site.validate_unique()
    expected = raised.value.message_dict

    with pytest.raises(ValidationError) as saved, transaction.atomic():
        locking.save_unique(site)

    assert saved.value.message_dict == expected == {field: [message]}
    assert isinstance(saved.value.__cause__, IntegrityError)


def test_an_integrity_error_that_is_not_a_unique_field_is_left_alone():
    site = SiteFactory()
    site.name = None  # NOT NULL
    with pytest.raises(IntegrityError), transaction.atomic():
        locking.save_unique(site)


@pytest.mark.postgres  # SQLite's in-memory test database refuses a second writer
def test_two_patches_of_one_site_wait_for_each_other(admin_api_factory):
    """The locked read serialises writers: both land, in turn, each audited."""
    site = SiteFactory()
    api_a, api_b = admin_api_factory(), admin_api_factory()
    results: list[int] = []
    barrier = threading.Barrier(2)

    def patch(api, name):
        barrier.wait()
        response = api.patch(
            f"/api/sites/{site.pk}/", {"name": name}, format="json", HTTP_X_CHANGE_REASON="race"
        )
        results.append(response.status_code)
        connection.close()

    threads = [
        threading.Thread(target=patch, args=(api, name))
        for api, name in ((api_a, "From A"), (api_b, "From B"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert results == [200, 200]
    site.refresh_from_db()
    assert site.name in {"From A", "From B"}
    from audit.models import AuditLog

    names = {
        record.new_values["name"]
        for record in AuditLog.objects.filter(resource_id=str(site.pk), action="update")
    }
    assert names == {"From A", "From B"}


@pytest.fixture
def admin_api_factory(auth_client):
    from tests.accounts.factories import UserFactory
    from tests.conftest import assign

    def make():
        user = UserFactory()
        assign(user, "admin")
        return auth_client(user)

    return make
