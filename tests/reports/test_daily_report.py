"""GET /api/reports/daily/ and the daily report e-mail."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from batches.choices import BatchStatus
from reports.api.serializers import DATE_IN_FUTURE
from reports.models import DailyReportDispatch
from reports.services import daily_report_send
from reports.tasks import send_daily_reports
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory
from tests.conftest import assign
from tests.inspections.factories import InspectionFactory
from tests.sites.factories import SiteFactory

URL = "/api/reports/daily/"
DAY = datetime(2026, 3, 10, tzinfo=UTC)


def at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


@pytest.fixture
def plant(db):
    """Two sites; at A on 2026-03-10: one release, one rejection, one failed inspection,
    one batch waiting since the 9th; events of the 9th and 11th that must not count."""
    a, b = SiteFactory(code="AAA-01"), SiteFactory(code="BBB-02")
    released = BatchFactory(
        site=a, status=BatchStatus.RELEASED, completed_at=at(-30), released_at=at(9)
    )
    rejected = BatchFactory(
        site=a, status=BatchStatus.REJECTED, completed_at=at(-3), rejected_at=at(15)
    )
    waiting = BatchFactory(site=a, status=BatchStatus.QUARANTINE, completed_at=at(-12))
    # Released the day after: still in quarantine at the end of the 10th.
    later = BatchFactory(
        site=a, status=BatchStatus.RELEASED, completed_at=at(20), released_at=at(30)
    )
    BatchFactory(site=a, status=BatchStatus.RELEASED, completed_at=at(-50), released_at=at(-2))
    failed = InspectionFactory(
        batch=waiting,
        failed=True,
        completed_at=at(11),
        results=[{"parameter": "assay", "in_spec": False}],
    )
    other = BatchFactory(site=b, status=BatchStatus.RELEASED, completed_at=at(1), released_at=at(2))
    return {
        "a": a,
        "b": b,
        "released": released,
        "rejected": rejected,
        "waiting": waiting,
        "later": later,
        "failed": failed,
        "other": other,
    }


def _section(body, site):
    [section] = [s for s in body["sites"] if s["site"]["id"] == str(site.pk)]
    return section


def test_report_counts_one_utc_day(plant, auth_client):
    qa = UserFactory()
    assign(qa, "qa")

    response = auth_client(qa).get(URL, {"date": "2026-03-10"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["date"] == "2026-03-10"
    assert body["from"] == "2026-03-10T00:00:00Z"
    assert body["to"] == "2026-03-11T00:00:00Z"
    a = _section(body, plant["a"])
    assert [b["id"] for b in a["released"]] == [str(plant["released"].pk)]
    assert [b["id"] for b in a["rejected"]] == [str(plant["rejected"].pk)]
    assert [b["id"] for b in a["quarantine"]] == [
        str(plant["waiting"].pk),
        str(plant["later"].pk),
    ]
    assert a["quarantine"][0]["waiting_hours"] == 36.0  # since the 9th, 12:00
    assert a["quarantine"][1]["waiting_hours"] == 4.0
    assert [i["id"] for i in a["failed_inspections"]] == [str(plant["failed"].pk)]
    assert a["failed_inspections"][0]["failing_parameters"] == ["assay"]
    assert a["totals"] == {
        "released": 1,
        "rejected": 1,
        "quarantine": 2,
        "quarantine_longest_hours": 36.0,
        "failed_inspections": 1,
    }
    assert _section(body, plant["b"])["totals"]["released"] == 1


def test_report_is_scoped_to_the_callers_sites(plant, auth_client):
    qa_at_b = UserFactory()
    assign(qa_at_b, "qa", site=plant["b"])

    body = auth_client(qa_at_b).get(URL, {"date": "2026-03-10"}).json()

    assert [s["site"]["code"] for s in body["sites"]] == ["BBB-02"]


def test_report_needs_audit_view(plant, auth_client):
    operator = UserFactory()
    assign(operator, "operator")

    assert auth_client(operator).get(URL).status_code == 403


@pytest.mark.parametrize(
    "value", ["2026-13-01", "yesterday", "10.03.2026", "2026-03-10T00", "0000-01-01"]
)
def test_bad_date_is_400(plant, auth_client, value):
    qa = UserFactory()
    assign(qa, "qa")

    response = auth_client(qa).get(URL, {"date": value})

    assert response.status_code == 400
    assert list(response.json()) == ["date"]


def test_future_date_is_400(plant, auth_client):
    qa = UserFactory()
    assign(qa, "qa")
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()

    response = auth_client(qa).get(URL, {"date": tomorrow})

    assert response.status_code == 400
    assert response.json() == {"date": [DATE_IN_FUTURE]}


def test_default_is_yesterday(plant, auth_client):
    qa = UserFactory()
    assign(qa, "qa")

    body = auth_client(qa).get(URL).json()

    assert body["date"] == (timezone.now() - timedelta(days=1)).date().isoformat()


def test_report_query_count(plant, auth_client):
    qa = UserFactory()
    assign(qa, "qa")
    client = auth_client(qa)
    client.get(URL)  # warm the authentication cache

    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"date": "2026-03-10"})

    assert response.status_code == 200
    # sites, released, rejected, quarantine, failed inspections (auth from the cache)
    assert len(queries) == 5, [q["sql"] for q in queries]


def test_daily_email_goes_to_each_sites_qa_once(plant, django_capture_on_commit_callbacks):
    qa_a, qa_b, qa_global, operator = UserFactory(), UserFactory(), UserFactory(), UserFactory()
    assign(qa_a, "qa", site=plant["a"])
    assign(qa_b, "qa", site=plant["b"])
    assign(qa_global, "qa")
    assign(operator, "operator", site=plant["a"])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        result = send_daily_reports.delay("2026-03-10").get()
    with django_capture_on_commit_callbacks(execute=True):
        again = daily_report_send(day=DAY.date())

    assert result == {"sites_sent": 2, "sites_skipped": 0}
    assert again == {"sites_sent": 0, "sites_skipped": 2}
    assert DailyReportDispatch.objects.count() == 2
    by_site = {m.subject.split()[5]: m for m in mail.outbox}
    assert set(by_site) == {"AAA-01", "BBB-02"}
    message = by_site["AAA-01"]
    assert sorted(message.to) == sorted([qa_a.email, qa_global.email])
    assert sorted(by_site["BBB-02"].to) == sorted([qa_b.email, qa_global.email])
    assert message.subject == (
        "[Pharma MES] Daily QA report AAA-01 2026-03-10: 1 released, 1 rejected, "
        "2 in quarantine, 1 failed inspections"
    )
    assert plant["released"].batch_number in message.body
    assert plant["rejected"].batch_number in message.body
    assert "waiting 36.0 h" in message.body
    assert "out of spec assay" in message.body
    assert plant["other"].batch_number not in message.body
    html, mime = message.alternatives[0]
    assert mime == "text/html" and plant["released"].batch_number in html
