"""A scheduled job through a real Celery worker that is killed mid-job (SIGKILL): the
redelivered job completes once, each site's report queued and sent exactly once."""

from datetime import date

import psycopg
import pytest
from django.db import connection

from core.metrics import task_outcomes
from core.models import JobRun
from reports.models import DailyReportDispatch
from reports.tasks import send_daily_reports
from tests.accounts.factories import UserFactory
from tests.conftest import assign
from tests.sites.factories import SiteFactory
from tools.celery_worker import Worker, publishing_to, wait_for
from tools.redis_server import RedisServer

DAY = date(2026, 3, 10)
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(not RedisServer.available(), reason="needs redis-server"),
]


def _blocked_dispatch_insert(watcher):
    row = watcher.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' "
        "AND query LIKE 'INSERT INTO \"reports_dailyreportdispatch\"%%'"
    ).fetchone()
    return row[0] > 0


@pytest.mark.django_db(transaction=True)
def test_daily_report_job_survives_a_killed_worker(tmp_path):
    first_site, second_site = SiteFactory(code="AAA-01"), SiteFactory(code="BBB-02")
    for site in (first_site, second_site):
        assign(UserFactory(), "qa", site)
    broker = RedisServer(tmp_path)
    broker.start()
    params = connection.get_connection_params()
    conninfo = {k: v for k, v in params.items() if k in ("host", "port", "user", "dbname")}
    # The second site's row, inserted and not committed: the job's insert waits on it.
    holder = psycopg.connect(**conninfo)
    holder.execute(
        "INSERT INTO reports_dailyreportdispatch (day, site_id, recipients, queued_at) "
        "VALUES (%s, %s, 0, now())",
        [DAY, second_site.pk],
    )
    watcher = psycopg.connect(**conninfo, autocommit=True)
    first = Worker(broker.url, tmp_path / "worker1.log")
    second = Worker(broker.url, tmp_path / "worker2.log")
    try:
        first.start()
        with publishing_to(broker.url):
            result = send_daily_reports.apply_async(args=[DAY.isoformat()])
        assert wait_for(lambda: _blocked_dispatch_insert(watcher), 90), first.log()
        assert DailyReportDispatch.objects.filter(site=first_site).exists()

        first.kill()  # mid-job: the first site done, the second waiting
        holder.rollback()
        run = JobRun.objects.get(task_id=result.id)
        assert (run.state, run.attempts) == ("started", 1)

        second.start()
        assert wait_for(
            lambda: JobRun.objects.filter(task_id=result.id, state="succeeded").exists(), 90
        ), second.log()
        sent = ("core.tasks.send_templated_email", "succeeded")
        assert wait_for(lambda: task_outcomes().get(sent, 0) >= 2, 60), second.log()
    finally:
        holder.close()
        watcher.close()
        first.kill()
        second.stop()
        broker.stop()

    run = JobRun.objects.get(task_id=result.id)
    assert (run.state, run.attempts) == ("succeeded", 2)
    assert sorted(DailyReportDispatch.objects.values_list("site__code", flat=True)) == [
        "AAA-01",
        "BBB-02",
    ]
    # One message per site: the first site's was not queued again after the restart.
    assert task_outcomes()[sent] == 2
    assert task_outcomes()[("reports.tasks.send_daily_reports", "succeeded")] == 1
