"""rbac.selectors.active_users_holding: who holds a codename or role at a site, the one
question the QA e-mails and a broadcast's audience both ask."""

from __future__ import annotations

from typing import Any

import pytest

from rbac.models import Role
from rbac.selectors import active_users_holding
from tests.conftest import assign, member
from tests.sites.factories import SiteFactory

pytestmark = pytest.mark.django_db


def names(users: Any) -> set[str]:
    return set(users.values_list("username", flat=True))


@pytest.fixture
def plants() -> tuple[Any, Any]:
    return SiteFactory(), SiteFactory()


def test_a_codename_at_a_site_counts_that_site_and_global_assignments(plants):
    here, there = plants
    member("qa", here, "quinn.here")
    member("qa", there, "quinn.there")
    member("operator", here, "olga.here")  # holds no batch.release
    member("qa", None, "quinn.global")

    holders = active_users_holding(codename="batch.release", site_id=here.pk)

    assert names(holders) == {"quinn.here", "quinn.global"}


def test_an_inactive_user_holds_nothing(plants):
    here, _ = plants
    gone = member("qa", here, "quinn.gone")
    gone.is_active = False
    gone.save()

    assert names(active_users_holding(codename="batch.release", site_id=here.pk)) == set()


def test_a_role_anywhere_and_every_active_user(plants):
    here, there = plants
    member("qa", there, "quinn.there")
    olga = member("operator", here, "olga.here")
    assign(olga, "qa", site=there)
    inactive = member("auditor", here, "alex.gone")
    inactive.is_active = False
    inactive.save()

    qa = Role.objects.get(name="qa")
    assert names(active_users_holding(role=qa)) == {"quinn.there", "olga.here"}
    assert names(active_users_holding(role=qa, site_id=here.pk)) == set()
    assert names(active_users_holding(site_id=here.pk)) == {"olga.here"}
    assert names(active_users_holding()) == {"quinn.there", "olga.here"}
