"""Statements written with their transaction's COMMIT (``core.atcommit``), against the
real PostgreSQL backend: one round trip, one transaction, savepoints respected."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from core import atcommit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

INSERT = "INSERT INTO atcommit_probe (n, label) VALUES (%s, %s)"


@pytest.fixture(autouse=True)
def probe():
    if connection.vendor != "postgresql":
        pytest.skip("the COMMIT that carries statements is the PostgreSQL backend's")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE atcommit_probe (n integer PRIMARY KEY, label text)")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE atcommit_probe")


def rows() -> list[tuple[int, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT n, label FROM atcommit_probe ORDER BY n")
        return list(cursor.fetchall())


def test_a_queued_statement_travels_with_the_commit_in_one_round_trip():
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        atcommit.write(INSERT, [1, "it's; a -- label"])
        atcommit.write(INSERT, [2, "two"])
        assert rows() == []  # nothing sent yet, not even to this transaction
    assert rows() == [(1, "it's; a -- label"), (2, "two")]
    *_, last = [query["sql"] for query in queries.captured_queries]
    assert last == f"{INSERT}; {INSERT}; COMMIT"  # the statements and COMMIT, one query


def test_a_rolled_back_savepoint_drops_what_was_queued_inside_it():
    with transaction.atomic():
        atcommit.write(INSERT, [1, "kept"])
        with pytest.raises(RuntimeError), transaction.atomic():
            atcommit.write(INSERT, [2, "dropped"])
            raise RuntimeError
        assert len(atcommit.queued(connection)) == 1
    assert rows() == [(1, "kept")]


def test_a_rollback_sends_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        atcommit.write(INSERT, [1, "never"])
        raise RuntimeError
    assert rows() == []


def test_a_statement_that_fails_fails_the_commit_and_the_change_with_it():
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(INSERT, [7, "the change"])
        atcommit.write(INSERT, [7, "a duplicate key"])
    assert rows() == []  # the change was not committed either
    with transaction.atomic():  # and the connection is fit for the next transaction
        atcommit.write(INSERT, [8, "next"])
    assert rows() == [(8, "next")]


def test_without_a_transaction_it_is_written_at_once():
    atcommit.write(INSERT, [1, "now"])
    assert rows() == [(1, "now")]


def test_a_backend_that_cannot_carry_it_writes_it_at_once_in_the_transaction(monkeypatch):
    monkeypatch.setattr(connections["default"], "writes_with_commit", False)  # as SQLite
    with pytest.raises(RuntimeError), transaction.atomic():
        atcommit.write(INSERT, [1, "in the transaction"])
        assert rows() == [(1, "in the transaction")]
        raise RuntimeError
    assert rows() == []


def test_callbacks_run_for_a_commit_that_never_happens_write_every_queued_statement_first():
    # What TestCase.captureOnCommitCallbacks(execute=True) does: run the callbacks, no
    # COMMIT. The first queued statement's callback writes them all, in order, before
    # the callback registered between them runs, as the COMMIT would have.
    seen = []
    with pytest.raises(RuntimeError), transaction.atomic():
        atcommit.write(INSERT, [1, "one"])
        transaction.on_commit(lambda: seen.append(rows()))
        atcommit.write(INSERT, [2, "two"])
        for _, callback, _ in list(connection.run_on_commit):
            callback()
        raise RuntimeError
    assert seen == [[(1, "one"), (2, "two")]]
