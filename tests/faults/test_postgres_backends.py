"""PostgreSQL backends of the service terminated under write traffic.

``pg_terminate_backend`` on every connection of the gunicorn service (found in
``pg_stat_activity`` by this test database and the service's ``application_name``), three
times. The service recovers by itself: no 500, 503 at most for requests in flight at a
termination or just after it, and every request after the last one succeeds. Nothing is
half-written: every site in the database has exactly its create record, every update
that was answered 200 has its update record, and every write that got an answer has its
access record.
"""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import connection
from stdnum import ean

from audit.choices import Action
from audit.models import AuditLog
from sites.models import Site
from tests.conftest import assign
from tests.faults.conftest import (
    APPLICATION_NAME,
    Traffic,
    needs_redis_server,
    server_errors,
    service_env,
    summary,
)
from tests.sites.factories import SiteFactory
from tools.celery_worker import wait_for

pytestmark = [pytest.mark.postgres, needs_redis_server]

ROUNDS = 3
# A request answered 503 must have been running at a termination or started this soon after.
GRACE = 2.0


def _gln(n: int) -> str:
    body = f"47{n:010d}"
    return body + ean.calc_check_digit(body)


def _terminate(admin: psycopg.Connection, database: str) -> int:
    rows = admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND application_name = %s",
        [database, APPLICATION_NAME],
    ).fetchall()
    return sum(1 for (ok,) in rows if ok)


def test_terminated_backends_under_traffic(services, redis_servers, make_user):
    patched = SiteFactory(code="PGP-01")
    admin = make_user(username="fault.admin")
    assign(admin, "admin")
    operator = make_user(username="fault.operator")
    assign(operator, "operator", patched)

    service = services(service_env(redis_url=redis_servers().url))
    admin_token = service.login("fault.admin")
    operator_token = service.login("fault.operator")

    def create(thread: int):
        def step(n: int):
            number = thread * 10_000 + n
            body = {
                "code": f"PG{thread}-{n:04d}",
                "name": f"Fault plant {number}",
                "gln": _gln(number),
                "country": "DE",
                "timezone": "Europe/Berlin",
            }
            return service.call("POST", "/api/sites/", body, admin_token, kind="create")

        return step

    traffic = Traffic()
    traffic.add(create(1))
    traffic.add(create(2))
    traffic.add(
        lambda n: service.call(
            "PATCH", f"/api/sites/{patched.pk}/", {"name": f"Patched {n}"}, admin_token, "patch"
        )
    )
    traffic.add(lambda n: service.call("GET", "/api/sites/", token=operator_token, kind="list"))
    traffic.add(lambda n: service.call("GET", "/api/batches/", token=operator_token, kind="list"))

    database = connection.settings_dict["NAME"]
    params = connection.get_connection_params()
    conninfo = {k: v for k, v in params.items() if k in ("host", "port", "user", "password")}
    terminations: list[tuple[float, int]] = []
    try:
        with psycopg.connect(**conninfo, dbname=database, autocommit=True) as admin_conn:
            time.sleep(1.5)
            for _ in range(ROUNDS):
                terminations.append((time.monotonic(), _terminate(admin_conn, database)))
                time.sleep(1.5)
        recovered_from = time.monotonic() + GRACE
        time.sleep(GRACE + 2)
    finally:
        results = traffic.stop()

    report = summary(results) + "\n" + service.log()[-3000:]
    assert all(count > 0 for _, count in terminations), terminations

    def near_termination(r):
        return any(r.started <= at + GRACE and r.ended >= at for at, _ in terminations)

    assert server_errors(results, lambda r: r.status == 503 and near_termination(r)) == [], report
    late = [r for r in results if r.started >= recovered_from]
    assert late, report
    assert {r.status for r in late} <= {200, 201}, report

    # No partial writes: a site exists with its create record or not at all.
    created = [r for r in results if r.kind == "create"]
    answered = {r.body["code"]: r for r in created if r.status == 201}
    assert len(answered) > 10, report
    sites = dict(Site.objects.filter(code__startswith="PG").values_list("code", "pk"))
    assert set(answered) <= set(sites)
    creates = AuditLog.objects.filter(action=Action.CREATE, resource_type="sites.site")
    recorded = dict(creates.values_list("resource_id", "request_id"))
    assert set(recorded) >= {str(pk) for pk in sites.values()}
    for code, result in answered.items():
        assert recorded[str(sites[code])] == result.request_id
    assert creates.count() == len(set(creates.values_list("resource_id", flat=True)))

    # Every answered update has its change record, in the same request.
    updated = AuditLog.objects.filter(action=Action.UPDATE, resource_id=str(patched.pk))
    update_ids = set(updated.values_list("request_id", flat=True))
    ok_patches = {r.request_id for r in results if r.kind == "patch" and r.status == 200}
    assert ok_patches and ok_patches <= update_ids
    patched.refresh_from_db()
    assert updated.filter(new_values__name=patched.name).exists()

    # Every write that got an answer has its access record, 503s included.
    writes = {r.request_id for r in results if r.kind in ("create", "patch") and r.status}
    access = AuditLog.objects.filter(action=Action.REQUEST, request_id__in=writes)
    assert wait_for(lambda: access.count() >= len(writes), 10), len(writes) - access.count()
