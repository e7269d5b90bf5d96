"""Concurrent writes: every committed change has exactly one record, and the recorded old
values follow the order in which the changes committed. Real PostgreSQL, real commits."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from audit.choices import Action
from audit.models import AuditLog
from tests.sites.factories import SiteFactory

SITES = "/api/sites/"
THREADS = 8
PATCHES = 5

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _patch_concurrently(token, plan):
    """``plan``: one list of (site, new name) per thread; all threads start together.

    Returns each thread's responses as (site id, status, request id).
    """
    barrier = threading.Barrier(len(plan))
    results = [[] for _ in plan]
    errors = []

    def run(index, patches):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            barrier.wait(timeout=30)
            for site, name in patches:
                response = client.patch(f"{SITES}{site.pk}/", {"name": name})
                results[index].append((site.pk, response.status_code, response["X-Request-ID"]))
        except Exception as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate(plan)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    return [r for thread_results in results for r in thread_results]


def _updates(sites):
    return AuditLog.objects.filter(
        action=Action.UPDATE,
        resource_type="sites.site",
        resource_id__in=[str(s.pk) for s in sites],
    )


def test_concurrent_patches_on_distinct_sites_each_have_one_record(staff_user, auth_client):
    sites = [SiteFactory() for _ in range(THREADS)]
    token = auth_client(staff_user).tokens["access"]
    plan = [
        [(site, f"Thread {t} patch {n}") for n in range(PATCHES)] for t, site in enumerate(sites)
    ]

    responses = _patch_concurrently(token, plan)

    committed = [r for r in responses if r[1] == 200]
    assert len(responses) == THREADS * PATCHES
    assert len(committed) == THREADS * PATCHES, sorted({r[1] for r in responses})
    assert _updates(sites).count() == len(committed)
    for site_id, _, request_id in committed:
        [record] = _updates(sites).filter(request_id=request_id)
        assert record.resource_id == str(site_id)
        assert record.actor_id == staff_user.pk
    requests = AuditLog.objects.filter(
        action=Action.REQUEST, request_id__in=[r[2] for r in responses]
    )
    assert requests.count() == len(responses)  # the access records too, none lost


def test_concurrent_patches_on_one_site_chain_old_to_new_values(staff_user, auth_client):
    site = SiteFactory(name="start")
    token = auth_client(staff_user).tokens["access"]
    plan = [[(site, f"T{t}-{n}") for n in range(3)] for t in range(THREADS)]

    responses = _patch_concurrently(token, plan)

    committed = [r for r in responses if r[1] == 200]
    records = list(_updates([site]).order_by("timestamp"))
    assert len(records) == len(committed) == THREADS * 3
    names = ["start"] + [r.new_values["name"] for r in records]
    assert [r.old_values["name"] for r in records] == names[:-1]
    site.refresh_from_db()
    assert site.name == names[-1]
