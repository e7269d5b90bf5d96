"""Access records through a real Celery worker that is killed mid-task."""

import psycopg
import pytest
from django.db import connection

from audit.capture import build
from audit.models import AuditLog
from audit.tasks import write_access_records
from tools.celery_worker import Worker, flush_redis_db, publishing_to, wait_for

BROKER = "redis://127.0.0.1:6379/14"


def _stored(ids):
    return AuditLog.objects.filter(id__in=ids).count()


def _blocked_insert_waiting(admin):
    row = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO \"audit_auditlog\"%%'"
    ).fetchone()
    return row[0] > 0


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_task_records_arrive_exactly_once(tmp_path):
    flush_redis_db(BROKER)
    records = [build(action="request", status_code=201, duration_ms=1.5) for _ in range(25)]
    ids = [r["id"] for r in records]
    params = connection.get_connection_params()
    conninfo = {k: v for k, v in params.items() if k in ("host", "port", "user", "dbname")}
    holder = psycopg.connect(**conninfo)
    holder.execute("LOCK TABLE audit_auditlog IN EXCLUSIVE MODE")  # inserts now wait
    watcher = psycopg.connect(**conninfo, autocommit=True)
    first = Worker(BROKER, tmp_path / "worker1.log")
    second = Worker(BROKER, tmp_path / "worker2.log")
    try:
        first.start()
        with publishing_to(BROKER):
            write_access_records.apply_async(args=[records])
        assert wait_for(lambda: _blocked_insert_waiting(watcher), 60), first.log()

        first.kill()  # SIGKILL while its insert waits: the message was never acked
        holder.rollback()
        assert _stored(ids) == 0

        second.start()
        assert wait_for(lambda: _stored(ids) == len(ids), 90), second.log()
        with publishing_to(BROKER):  # the same batch delivered once more
            write_access_records.apply_async(args=[records])
        assert wait_for(lambda: second.log().count("succeeded") >= 2, 60), second.log()
    finally:
        holder.close()
        watcher.close()
        first.kill()
        second.stop()

    assert _stored(ids) == len(ids)
