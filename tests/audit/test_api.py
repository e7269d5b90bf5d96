"""The read-only audit API: cursor pages, filters, site scoping, constant query count."""

import datetime as dt
import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.canonical import canonical_text, mac
from audit.capture import build
from audit.choices import Action
from audit.models import AuditLog
from audit.store import insert
from tests.accounts.factories import UserFactory
from tests.conftest import assign
from tests.sites.factories import SiteFactory

LOGS = "/api/audit-logs/"
ACTOR_A, ACTOR_B = str(uuid.uuid4()), str(uuid.uuid4())
SITE_A, SITE_B = str(uuid.uuid4()), str(uuid.uuid4())


def _at(year, month=1, day=1, hour=12):
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC).isoformat()


def _record(**fields):
    """A stored record; ``fields`` replace what build() made, and the MAC is redone."""
    record = build(action=Action.UPDATE, resource_type="tests.thing", resource_id="1")
    record.update(fields)
    record["mac"] = mac(canonical_text(record))
    with transaction.atomic():
        insert([record])
    return record["id"]


def _ids(response):
    assert response.status_code == 200, response.content
    return [r["id"] for r in response.json()["results"]]


# --- listing --------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_pages_by_cursor_without_a_count(admin):
    made = [_record(resource_type="tests.paged", timestamp=_at(2030, 1, d)) for d in range(1, 6)]

    first = admin.get(LOGS, {"resource_type": "tests.paged", "page_size": 2})
    pages = [first.json()]
    while pages[-1]["next"]:
        pages.append(admin.get(pages[-1]["next"]).json())

    assert set(pages[0]) == {"next", "previous", "results"}
    assert pages[0]["previous"] is None
    assert pages[1]["previous"] is not None
    assert len(pages) == 3
    listed = [r["id"] for page in pages for r in page["results"]]
    assert listed == list(reversed(made))  # newest first, each once


@pytest.mark.django_db
def test_list_shows_the_record_fields(admin):
    record_id = _record(
        actor_id=ACTOR_A, actor_username="alice", site_id=SITE_A, reason="CAPA-1", ip="10.0.0.1"
    )

    [row] = admin.get(LOGS, {"resource_type": "tests.thing"}).json()["results"]

    assert row["id"] == record_id
    assert (row["actor_id"], row["actor_username"]) == (ACTOR_A, "alice")
    assert (row["site_id"], row["reason"], row["ip"]) == (SITE_A, "CAPA-1", "10.0.0.1")
    assert "mac" not in row


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "wanted", "other"),
    [
        ({"actor": ACTOR_A}, {"actor_id": ACTOR_A}, {"actor_id": ACTOR_B}),
        ({"action": "login"}, {"action": Action.LOGIN}, {"action": Action.LOGOUT}),
        ({"resource_type": "tests.wanted"}, {"resource_type": "tests.wanted"}, {}),
        ({"resource_id": "42"}, {"resource_id": "42"}, {"resource_id": "43"}),
        ({"site": SITE_A}, {"site_id": SITE_A}, {"site_id": SITE_B}),
        ({"request_id": "req-wanted"}, {"request_id": "req-wanted"}, {"request_id": "req-2"}),
        ({"since": _at(2031)}, {"timestamp": _at(2031, 6)}, {"timestamp": _at(2030, 12)}),
        ({"until": _at(2001)}, {"timestamp": _at(2000, 6)}, {"timestamp": _at(2001, 6)}),
        (
            {"since": _at(2040), "until": _at(2041)},
            {"timestamp": _at(2040, 6)},
            {"timestamp": _at(2041, 1, 1, 12)},
        ),
    ],
    ids=["actor", "action", "resource_type", "resource_id", "site", "request_id", "since",
         "until", "since+until"],
)  # fmt: skip
def test_each_filter_keeps_matching_records_only(admin, params, wanted, other):
    wanted_id = _record(**wanted)
    other_id = _record(**other)

    listed = _ids(admin.get(LOGS, {**params, "page_size": 500}))

    assert wanted_id in listed
    assert other_id not in listed


@pytest.mark.django_db
def test_action_filter_takes_several_actions(admin):
    login, logout, update = (_record(action=a) for a in ("login", "logout", "update"))

    listed = _ids(admin.get(f"{LOGS}?action=login&action=logout&page_size=500"))

    assert {login, logout} <= set(listed)
    assert update not in listed


@pytest.mark.django_db
def test_bad_filter_values_are_refused(admin):
    response = admin.get(LOGS, {"actor": "not-a-uuid", "since": "yesterday"})

    assert response.status_code == 400


# --- scoping --------------------------------------------------------------------------


@pytest.fixture
def two_sites_and_global():
    site_a, site_b = SiteFactory(), SiteFactory()
    records = {
        "a": _record(site_id=str(site_a.pk)),
        "b": _record(site_id=str(site_b.pk)),
        "global": _record(site_id=None),
    }
    return site_a, site_b, records


@pytest.mark.django_db
def test_site_auditor_sees_only_that_sites_records(auth_client, two_sites_and_global):
    site_a, _, records = two_sites_and_global
    auditor = UserFactory()
    assign(auditor, "auditor", site=site_a)
    client = auth_client(auditor)

    response = client.get(LOGS, {"page_size": 500})

    listed = response.json()["results"]
    assert records["a"] in [r["id"] for r in listed]
    assert {r["site_id"] for r in listed} == {str(site_a.pk)}


@pytest.mark.django_db
def test_site_auditor_cannot_retrieve_other_or_siteless_records(auth_client, two_sites_and_global):
    site_a, _, records = two_sites_and_global
    auditor = UserFactory()
    assign(auditor, "auditor", site=site_a)
    client = auth_client(auditor)

    own = client.get(f"{LOGS}{records['a']}/")
    other = client.get(f"{LOGS}{records['b']}/")
    siteless = client.get(f"{LOGS}{records['global']}/")

    assert own.status_code == 200
    assert own.json()["id"] == records["a"]
    assert other.status_code == 404
    assert siteless.status_code == 404


@pytest.mark.django_db
def test_global_auditor_sees_every_record(auth_client, two_sites_and_global):
    _, _, records = two_sites_and_global
    auditor = UserFactory()
    assign(auditor, "auditor")
    client = auth_client(auditor)

    listed = _ids(client.get(LOGS, {"page_size": 500}))

    assert set(records.values()) <= set(listed)
    assert len(listed) == AuditLog.objects.count()


@pytest.mark.django_db
def test_user_without_audit_view_is_refused(auth_client):
    site = SiteFactory()
    operator = UserFactory()
    assign(operator, "operator", site=site)

    response = auth_client(operator).get(LOGS)

    assert response.status_code == 403


# --- read-only ------------------------------------------------------------------------


@pytest.mark.django_db
def test_no_write_methods(admin):
    record_id = _record(reason="original")
    detail = f"{LOGS}{record_id}/"

    responses = [
        admin.post(LOGS, {"action": "login"}),
        admin.put(detail, {"reason": "changed"}),
        admin.patch(detail, {"reason": "changed"}),
        admin.delete(detail),
    ]

    assert [r.status_code for r in responses] == [405, 405, 405, 405]
    assert AuditLog.objects.get(pk=record_id).reason == "original"


# --- query count --------------------------------------------------------------------


@pytest.mark.django_db
def test_list_query_count_does_not_grow_with_rows(admin):
    for _ in range(3):
        _record(resource_type="tests.counted")
    admin.get(LOGS)  # warms the cached user, session and permissions
    with CaptureQueriesContext(connection) as few:
        small = admin.get(LOGS, {"resource_type": "tests.counted"})
    for _ in range(40):
        _record(resource_type="tests.counted")

    with CaptureQueriesContext(connection) as many:
        large = admin.get(LOGS, {"resource_type": "tests.counted"})

    assert len(_ids(small)) == 3
    assert len(_ids(large)) == 43
    # 1. SELECT ... FROM audit_auditlog WHERE resource_type = ... ORDER BY timestamp DESC,
    #    id DESC LIMIT 51 (the page and one more, for "next"). Authentication and
    #    permissions come from the cache; cursor pages need no COUNT(*).
    assert len(few) == 1, [q["sql"] for q in few.captured_queries]
    assert len(many) == 1, [q["sql"] for q in many.captured_queries]
