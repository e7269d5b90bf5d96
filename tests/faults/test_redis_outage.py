"""Redis (cache and broker) killed under mixed API traffic, then restarted.

The service keeps answering: no 5xx except for requests in flight at the moment of the
kill; every permission check stays right (a refused user stays refused, an assignment
revoked during the outage takes effect at once and stays in effect after Redis comes
back with its pre-outage data); failed sign-ins during the outage still lock the account
out (django-axes counts in the database).
"""

from __future__ import annotations

import time

import pytest
from axes.models import AccessAttempt

from audit.choices import Action
from audit.models import AuditLog
from rbac.models import RoleAssignment
from tests.conftest import assign
from tests.faults.conftest import (
    PASSWORD,
    Traffic,
    needs_redis_server,
    server_errors,
    service_env,
    summary,
)
from tests.sites.factories import SiteFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, needs_redis_server]


def test_redis_killed_and_restarted_under_traffic(services, redis_servers, make_user):
    site_a, site_b = SiteFactory(code="RDA-01"), SiteFactory(code="RDB-02")
    admin = make_user(username="fault.admin")
    assign(admin, "admin")
    operator = make_user(username="fault.operator")
    assign(operator, "operator", site_a)
    revokee = make_user(username="fault.revokee")
    revoked = assign(revokee, "operator", site_a)
    victim = make_user(username="fault.victim")
    assign(victim, "operator", site_a)

    redis = redis_servers()
    broker_url = redis.url[: -len("/0")] + "/1"
    service = services(service_env(redis_url=redis.url, broker_url=broker_url))
    admin_token = service.login("fault.admin")
    operator_token = service.login("fault.operator")
    revokee_token = service.login("fault.revokee")
    a, b = f"/api/sites/{site_a.pk}/", f"/api/sites/{site_b.pk}/"

    traffic = Traffic()
    traffic.add(lambda n: service.call("GET", a, token=operator_token, kind="own site"))
    traffic.add(lambda n: service.call("GET", "/api/batches/", token=operator_token, kind="list"))
    traffic.add(
        lambda n: service.call("PATCH", a, {"name": f"x{n}"}, operator_token, kind="no permission")
    )
    traffic.add(lambda n: service.call("GET", b, token=operator_token, kind="other site"))
    traffic.add(lambda n: service.call("PATCH", b, {"name": f"B {n}"}, admin_token, kind="admin"))
    traffic.add(lambda n: service.call("GET", a, token=revokee_token, kind="revokee"))
    try:
        time.sleep(2)  # warm caches
        assert redis.command("SAVE").startswith(b"+OK")  # it comes back with this data
        killed_at = time.monotonic()
        redis.kill()
        time.sleep(1)

        revocation = service.call(
            "DELETE", f"/api/role-assignments/{revoked.pk}/", token=admin_token, kind="revoke"
        )
        revoked_at = revocation.ended
        failures = [
            service.call("POST", "/api/auth/token/", {"username": "fault.victim", "password": "no"})
            for _ in range(5)
        ]
        locked = service.call(
            "POST", "/api/auth/token/", {"username": "fault.victim", "password": PASSWORD}
        )
        time.sleep(1)

        redis.start()
        restarted_at = time.monotonic()
        time.sleep(3)
        locked_after = service.call(
            "POST", "/api/auth/token/", {"username": "fault.victim", "password": PASSWORD}
        )
    finally:
        results = traffic.stop()

    report = summary(results) + "\n" + service.log()[-2000:]
    assert revocation.status == 204, revocation.body
    assert not RoleAssignment.objects.filter(pk=revoked.pk).exists()

    def in_flight_at_kill(r):
        return r.started <= killed_at <= r.ended

    assert server_errors(results, in_flight_at_kill) == [], report

    def statuses(kind, since=0.0, until=float("inf")):
        return {r.status for r in results if r.kind == kind and since <= r.started <= until}

    during = {"since": killed_at + 0.5, "until": restarted_at}
    after = {"since": restarted_at}
    for window in (during, after):
        # Every kind was exercised in each window, and answered as the permissions say.
        assert statuses("own site", **window) == {200}, report
        assert statuses("list", **window) == {200}
        assert statuses("no permission", **window) == {403}
        assert statuses("other site", **window) == {404}
        assert statuses("admin", **window) == {200}
    assert statuses("own site", until=killed_at) == {200}
    assert statuses("revokee", until=killed_at) == {200}
    # Revoked while Redis was down: refused at once, and still refused when Redis came
    # back holding the cached permissions from before the revocation.
    assert statuses("revokee", since=revoked_at) == {403}
    assert statuses("revokee", since=restarted_at) == {403}

    # The fifth failure within the window locks the username + IP pair out (axes).
    assert [f.status for f in failures] == [401] * 4 + [429]
    assert locked.status == 429, locked.body
    assert locked_after.status == 429, locked_after.body
    attempt = AccessAttempt.objects.get(username="fault.victim")
    assert attempt.failures_since_start >= 5
    # Each cache error of the outage is one log line, not a traceback per lookup.
    log = service.log()
    assert "cache_error_ignored" in log
    assert "Exception ignored" not in log

    # With the broker (the same Redis) down, the access records were written in the
    # request: every failed sign-in of the outage is in the audit trail, and so is the
    # revocation's change record.
    failed_ids = [f.request_id for f in failures[:4]]
    assert AuditLog.objects.filter(
        action=Action.LOGIN_FAILED, request_id__in=failed_ids
    ).count() == len(failed_ids)
    assert AuditLog.objects.filter(
        action=Action.DELETE, resource_id=str(revoked.pk), request_id=revocation.request_id
    ).exists()
