"""Read replicas against a real streaming replica: routing, read-your-writes, lag, and
the replica killed under load.

The harness (``tools.pg_cluster``) makes a primary with ``initdb``, migrates the
service onto it, and makes a replica of it with ``pg_basebackup -R``, each on a free
port of 127.0.0.1 in a temporary directory; both are stopped by their postmaster's PID
at the end. The service runs under gunicorn with ``DATABASE_REPLICA_URLS`` naming the
replica. Which server answered is told apart by pausing the replica's replay
(``pg_wal_replay_pause()``): a change made on the primary is then missing on the
replica only.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.conftest import (
    HOST,
    PASSWORD,
    ROOT,
    Result,
    Service,
    Traffic,
    needs_redis_server,
    server_errors,
    summary,
)
from tools import pg_cluster
from tools.harness import manage
from tools.redis_server import RedisServer

pytestmark = [
    pytest.mark.postgres,
    needs_redis_server,
    pytest.mark.skipif(not pg_cluster.available(), reason="needs PostgreSQL's own binaries"),
]

SEED = r"""
import json
from django.contrib.auth.hashers import make_password, PBKDF2PasswordHasher
from accounts.models import User
from rbac.models import Role, RoleAssignment
from sites.models import Site
from core.context import acting_as_system

hashed = make_password(PASSWORD, hasher=PBKDF2PasswordHasher())
admin = Role.objects.get(name="admin")
for name in ("replica.alice", "replica.bob"):
    user, _ = User.objects.get_or_create(username=name, defaults={"email": f"{name}@example.com"})
    user.password = hashed
    user.save()
    RoleAssignment.objects.get_or_create(user=user, role=admin, site=None)
with acting_as_system("seed"):
    site, _ = Site.objects.get_or_create(
        code="RP-01", defaults={"name": "Before", "gln": "4000000000006", "country": "DE"}
    )
print(json.dumps({"site": str(site.pk)}))
"""


class Clusters:
    def __init__(self, tmp: Path) -> None:
        self.primary = pg_cluster.primary()
        self.replica: pg_cluster.Cluster | None = None
        self.redis = RedisServer(tmp)
        self.redis.start()
        self.base_env = {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": self.primary.url("pharma"),
            "DATABASE_POOL_MAX_SIZE": "6",
            "REDIS_URL": self.redis.url,
            "CELERY_BROKER_URL": "",
            "EMAIL_URL": "memorymail://",
            "AUDIT_ACCESS_FLUSH_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            "PATH": "/usr/local/bin:/usr/bin:/bin",
        }
        self.primary.sql("CREATE DATABASE pharma")
        manage(self.base_env, "migrate", "--noinput", "-v0")
        out = manage(self.base_env, "shell", "-c", SEED.replace("PASSWORD", repr(PASSWORD)))
        self.site = json.loads(out.strip().splitlines()[-1])["site"]
        self.replica = pg_cluster.replica(self.primary)

    def close(self) -> None:
        if self.replica is not None:
            self.replica.remove()
        self.primary.remove()
        self.redis.stop()

    def paused(self) -> Any:
        """Replay paused on the replica while the block runs."""
        replica = self.replica
        assert replica is not None

        class Paused:
            def __enter__(self) -> None:
                replica.sql("SELECT pg_wal_replay_pause()")

            def __exit__(self, *exc: object) -> None:
                replica.sql("SELECT pg_wal_replay_resume()")

        return Paused()


@pytest.fixture(scope="module")
def clusters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clusters]:
    made = Clusters(tmp_path_factory.mktemp("replicas"))
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def service(clusters: Clusters, tmp_path: Path) -> Iterator[Any]:
    started: list[Service] = []

    def start(**settings: str) -> Service:
        assert clusters.replica is not None
        env = {
            **clusters.base_env,
            "DATABASE_REPLICA_URLS": clusters.replica.url("pharma"),
            "DATABASE_REPLICA_CHECK_SECONDS": "0.2",
            **settings,
        }
        server = Service(tmp_path, env)
        started.append(server)
        server.start()
        wait_for_replica(server, "ok")
        return server

    yield start
    for server in started:
        server.stop()


def wait_for_replica(server: Service, status: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: Any = None
    while time.monotonic() < deadline:
        body = server.call("GET", "/health/ready/").body
        if (
            isinstance(body, dict)
            and body.get("replicas", {}).get("replica_0", {}).get("status") == status
        ):
            # Each process checks on its own: give every worker's checker its turn.
            time.sleep(0.5)
            return dict(body)
        time.sleep(0.2)
    raise AssertionError(f"replica never {status}: {body}")


def site_name(server: Service, token: str, clusters: Clusters) -> str:
    result = server.call("GET", "/api/sites/?search=RP-01", token=token)
    assert result.status == 200, (result.status, result.body)
    [row] = result.body["results"]
    return str(row["name"])


def rename(server: Service, token: str, clusters: Clusters, name: str) -> None:
    result = server.call("PATCH", f"/api/sites/{clusters.site}/", {"name": name}, token=token)
    assert result.status == 200, (result.status, result.body)


def caught_up(server: Service, token: str, clusters: Clusters, name: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if site_name(server, token, clusters) == name:
            return
        time.sleep(0.1)
    raise AssertionError(f"the replica never showed {name!r}")


def test_reads_go_to_the_replica_and_a_writer_reads_its_own_writes(service, clusters):
    server = service(DATABASE_REPLICA_PIN_SECONDS="2", DATABASE_REPLICA_MAX_LAG_SECONDS="3600")
    alice, bob = server.login("replica.alice"), server.login("replica.bob")
    time.sleep(2.2)  # a sign-in writes (a session): it pins its user too
    before = site_name(server, bob, clusters)

    with clusters.paused():
        rename(server, alice, clusters, "Written by Alice")
        # Alice wrote: pinned to the primary, she sees her change.
        assert site_name(server, alice, clusters) == "Written by Alice"
        # Bob did not: his read is the replica's, which has not replayed it yet.
        assert site_name(server, bob, clusters) == before
        time.sleep(2.5)  # the pin is over: Alice reads the replica again
        assert site_name(server, alice, clusters) == before
    caught_up(server, bob, clusters, "Written by Alice")


def test_a_lagging_replica_is_skipped_until_it_catches_up(service, clusters):
    server = service(DATABASE_REPLICA_MAX_LAG_SECONDS="1", DATABASE_REPLICA_PIN_SECONDS="0.1")
    alice, bob = server.login("replica.alice"), server.login("replica.bob")

    with clusters.paused():
        rename(server, alice, clusters, "Seen despite the lag")
        ready = wait_for_replica(server, "skipped")
        assert ready["status"] == "ok"  # a lagging replica does not make the service unready
        assert "lagging" in ready["replicas"]["replica_0"]["reason"]
        assert site_name(server, bob, clusters) == "Seen despite the lag"  # the primary's
    wait_for_replica(server, "ok")
    assert site_name(server, bob, clusters) == "Seen despite the lag"


def test_the_replica_killed_under_load_costs_no_error(service, clusters):
    server = service(DATABASE_REPLICA_PIN_SECONDS="0.2")
    alice, bob = server.login("replica.alice"), server.login("replica.bob")
    time.sleep(0.5)
    traffic = Traffic()

    def read(n: int) -> Result:
        return server.call("GET", "/api/sites/?search=RP-01", token=bob, kind="list")

    def batches(n: int) -> Result:
        return server.call("GET", "/api/batches/?page_size=5", token=bob, kind="batches")

    def write(n: int) -> Result:
        return server.call(
            "PATCH",
            f"/api/sites/{clusters.site}/",
            {"name": f"Load {n}"},
            token=alice,
            kind="write",
        )

    for step in (read, read, batches, write):
        traffic.add(step, pause=0.01)
    time.sleep(2)
    assert clusters.replica is not None
    readers = clusters.replica.sql(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'pharma'"
        " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
    )
    assert int(readers) > 0  # the service was reading from the replica
    killed_at = time.monotonic()
    clusters.replica.stop(immediate=True)  # as a crash: SIGQUIT to its postmaster
    time.sleep(4)
    results = traffic.stop()

    after = [r for r in results if r.started > killed_at]
    assert len(after) > 20, summary(results)
    assert not server_errors(results, allowed=lambda r: False), summary(results)
    assert all(r.status == 200 for r in results), summary(results)
    ready = server.call("GET", "/health/ready/").body
    assert ready["status"] == "ok"
    assert ready["replicas"]["replica_0"]["status"] == "skipped"

    clusters.replica.start()  # back: reads return to it
    wait_for_replica(server, "ok")
    assert site_name(server, bob, clusters).startswith("Load ")
