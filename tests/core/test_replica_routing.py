"""``core.replicas`` in isolation: where the router sends each query, who is pinned, and
the fall-back to the primary. The real replica is ``tests/faults/test_replicas.py``'s."""

from __future__ import annotations

import pytest
from django.db import OperationalError, transaction

from core import replicas
from sites.models import Site

router = replicas.ReplicaRouter()


def test_reads_go_to_the_primary_unless_the_request_chose_a_replica():
    assert router.db_for_read(Site) == "default"
    with replicas.reading_from("replica_0"):
        assert router.db_for_read(Site) == "replica_0"
        with replicas.on_primary():
            assert router.db_for_read(Site) == "default"
        assert router.db_for_read(Site) == "replica_0"
    assert router.db_for_read(Site) == "default"


@pytest.mark.django_db(transaction=True)
def test_a_read_inside_a_transaction_is_the_primarys():
    with replicas.reading_from("replica_0"), transaction.atomic():
        assert router.db_for_read(Site) == "default"


def test_writes_and_migrations_are_the_primarys():
    instance = Site()
    instance._state.db = "replica_0"  # read from the replica: written back to the primary
    with replicas.reading_from("replica_0"):
        assert router.db_for_write(Site, instance=instance) == "default"
    assert router.allow_migrate("replica_0", "sites") is False
    assert router.allow_migrate("default", "sites") is None


def test_a_streamed_response_reads_from_the_replica_the_request_chose():
    seen: list[str | None] = []

    def rows():
        for n in range(3):
            seen.append(replicas.current())
            yield n

    with replicas.reading_from("replica_0"):
        streamed = replicas.streamed(rows())
    assert replicas.current() is None  # the view has returned; the stream is pulled later
    assert list(streamed) == [0, 1, 2]
    assert seen == ["replica_0"] * 3
    plain = rows()
    assert replicas.streamed(plain) is plain  # no replica: nothing to wrap


@pytest.mark.parametrize(
    ("method", "status", "user", "pinned"),
    [
        ("PATCH", 200, "u1", True),
        ("POST", 201, "u1", True),
        ("DELETE", 204, "u1", True),
        ("POST", 400, "u1", False),  # refused: nothing was written
        ("GET", 200, "u1", False),
        ("PATCH", 200, None, False),  # nobody to pin
    ],
)
def test_only_a_callers_accepted_write_pins_it(monkeypatch, method, status, user, pinned):
    calls: list[object] = []
    monkeypatch.setattr(replicas, "pin", calls.append)

    replicas.after_request(method, status, user)

    assert calls == ([user] if pinned else [])


def test_a_pin_lasts_the_configured_seconds(settings):
    from django.core.cache import cache

    settings.DATABASE_REPLICA_PIN_SECONDS = 5
    replicas.pin("u-42")
    assert cache.get(replicas.pin_key("u-42")) == 1


def test_a_replica_that_fails_mid_request_is_marked_down_and_the_primary_answers(monkeypatch):
    calls: list[str | None] = []
    monkeypatch.setattr(replicas, "_broken", lambda alias: True)
    monkeypatch.setattr(replicas, "connections", {"replica_0": _Closable()})

    def handler(request):
        calls.append(replicas.current())
        if replicas.current() == "replica_0":
            raise OperationalError("server closed the connection unexpectedly")
        return "answer"

    with replicas.reading_from("replica_0"):
        assert replicas._falling_back(handler, "replica_0")(None) == "answer"
    assert calls == ["replica_0", None]
    assert replicas._states["replica_0"].healthy is False


def test_an_error_the_replica_did_not_cause_is_not_retried(monkeypatch):
    monkeypatch.setattr(replicas, "_broken", lambda alias: False)  # a query timeout, say

    def handler(request):
        raise OperationalError("canceling statement due to statement timeout")

    with replicas.reading_from("replica_0"), pytest.raises(OperationalError):
        replicas._falling_back(handler, "replica_0")(None)


class _Closable:
    def close(self) -> None:
        pass


def test_choose_skips_unhealthy_stale_and_unknown_replicas(settings, monkeypatch):
    import time

    monkeypatch.setattr(replicas, "_ensure_checker", lambda: None)
    monkeypatch.setattr(replicas, "aliases", lambda: ["replica_0", "replica_1"])
    settings.DATABASE_REPLICA_CHECK_SECONDS = 1
    now = time.monotonic()
    replicas._states.clear()
    assert replicas.choose() is None  # nothing checked yet: the primary

    replicas._states["replica_0"] = replicas.State(True, 0.0, "", now)
    replicas._states["replica_1"] = replicas.State(False, None, "refused", now)
    assert {replicas.choose() for _ in range(4)} == {"replica_0"}

    replicas._states["replica_1"] = replicas.State(True, 0.1, "", now)
    assert {replicas.choose() for _ in range(4)} == {"replica_0", "replica_1"}  # in turn

    replicas._states["replica_0"] = replicas.State(True, 0.0, "", now - 60)  # checker died
    assert {replicas.choose() for _ in range(4)} == {"replica_1"}
    replicas._states.clear()


class _Trip:
    def __init__(self, values, counts):
        self.values, self.counts = values, counts


class _Request:
    def __init__(self, user_id):
        self.user = type("U", (), {"pk": user_id})()


@pytest.mark.parametrize(
    ("values", "counts", "user_id", "pinned"),
    [
        ({}, {"rate": 3}, "u1", False),  # the cache answered: no pin
        ({replicas.pin_key("u1"): 1}, {"rate": 3}, "u1", True),  # wrote a moment ago
        ({}, {"rate": None}, "u1", True),  # the cache did not answer: the primary
        ({}, {}, None, False),  # anonymous: nothing to read back
    ],
)
def test_who_is_pinned_to_the_primary(monkeypatch, values, counts, user_id, pinned):
    from core import cache as core_cache

    monkeypatch.setattr(core_cache, "round_trip", lambda request: _Trip(values, counts))

    assert replicas._pinned(_Request(user_id)) is pinned
