"""Change records share the change's transaction: no record without the change and
no committed change without its record. Real commits (``transaction=True``)."""

import pytest
from django.db import transaction

from audit.choices import Action
from audit.models import AuditLog
from rbac.models import Permission, Role
from sites.models import Site
from tests.accounts.factories import UserFactory
from tests.conftest import assign
from tests.sites.factories import SiteFactory

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


def _records_of(model, pk=None):
    records = AuditLog.objects.filter(resource_type=model._meta.label_lower)
    return records.filter(resource_id=str(pk)) if pk is not None else records


def test_rolled_back_create_leaves_no_record():
    with pytest.raises(Boom), transaction.atomic():
        site = Site.objects.create(code="RB-01", name="Gone", gln="4012345000009", country="DE")
        assert _records_of(Site, site.pk).count() == 1  # written, not yet committed
        raise Boom

    assert not Site.objects.exists()
    assert not _records_of(Site).exists()


def test_rolled_back_update_and_delete_leave_no_record():
    site = SiteFactory(name="Kept")
    committed = _records_of(Site, site.pk).count()

    with pytest.raises(Boom), transaction.atomic():
        site.name = "Renamed"
        site.save()
        Site.objects.get(pk=site.pk).delete()
        raise Boom

    assert Site.objects.get(pk=site.pk).name == "Kept"
    assert _records_of(Site, site.pk).count() == committed
    assert not _records_of(Site, site.pk).filter(action__in=["update", "delete"]).exists()


def test_rolled_back_savepoint_drops_only_its_own_record():
    with transaction.atomic():
        kept = Site.objects.create(code="RB-02", name="Kept", gln="4012345000009", country="DE")
        with pytest.raises(Boom), transaction.atomic():
            gone = Site.objects.create(code="RB-03", name="Gone", gln="4012345000016", country="DE")
            raise Boom

    assert _records_of(Site, kept.pk).filter(action=Action.CREATE).count() == 1
    assert not _records_of(Site, gone.pk).exists()


def test_committed_changes_always_have_their_record():
    with transaction.atomic():
        site = Site.objects.create(code="CM-01", name="One", gln="4012345000009", country="DE")
    site.name = "Two"
    site.save()
    site_id = site.pk
    site.delete()

    actions = list(
        _records_of(Site, site_id).order_by("timestamp").values_list("action", flat=True)
    )
    assert actions == [Action.CREATE, Action.UPDATE, Action.DELETE]


def test_request_that_fails_after_saving_keeps_no_change_record(auth_client):
    manager = UserFactory()
    limited = Role.objects.create(name="role-manager")
    limited.permissions.set(Permission.objects.filter(codename__in=["role.view", "role.manage"]))
    assign(manager, "role-manager")
    target = Role.objects.create(name="packers")
    client = auth_client(manager)

    # role_update saves the new name, then refuses a permission the caller lacks.
    response = client.patch(
        f"/api/roles/{target.pk}/", {"name": "packers-renamed", "permissions": ["site.delete"]}
    )

    assert response.status_code == 400, response.content
    assert Role.objects.get(pk=target.pk).name == "packers"
    records = AuditLog.objects.filter(request_id=response["X-Request-ID"])
    assert list(records.values_list("action", "status_code")) == [(Action.REQUEST, 400)]
