"""Rows written with their transaction's COMMIT, in the same round trip.

An INSERT that nothing in its own transaction reads back (an outbox row: the webhooks
app's published events) need not cost the change a round trip of its own. ``write``
queues it; the PostgreSQL backend (``core.dbbackend``) sends every queued statement and
the COMMIT as one query: one round trip, one transaction. A statement that fails fails
the commit, and the change is rolled back with it.

The queue is Django's list of on-commit callbacks, so a savepoint rolled back drops
what was queued inside it, and a rollback drops everything, exactly as it drops
``transaction.on_commit`` callbacks. The callback itself writes the row when the commit
was not the backend's: in autocommit mode (it runs at once), or when a test's captured
callbacks are run for a commit that never happens (it then writes every queued
statement first, as the COMMIT would). Where the backend cannot send statements with
its COMMIT (SQLite), the row is written at once, in the transaction.

Statements sent with the COMMIT are logged as one query (``connection.queries`` and
``CaptureQueriesContext`` see them), but django-prometheus's per-statement counters do
not count them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction


class Write:
    """A statement queued for the commit; also its on-commit callback."""

    def __init__(self, sql: str, params: Sequence[Any], using: str) -> None:
        self.__qualname__ = "core.atcommit.Write"  # Django names a failing callback so
        self.sql = sql
        self.params = params
        self.using = using
        self.written = False

    def __call__(self) -> None:
        if self.written:
            return
        # Not written by a COMMIT: write every statement still queued, in order, as
        # the COMMIT would have before any callback ran; then this one if it was not
        # queued (autocommit runs it at once).
        for statement in queued(connections[self.using]):
            statement.execute()
        if not self.written:
            self.execute()

    def execute(self) -> None:
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.sql, self.params)
        self.written = True


def write(sql: str, params: Sequence[Any], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Execute ``sql`` (one statement, ``%s`` placeholders) with the COMMIT of the
    current transaction, or now when there is none to join."""
    connection = connections[using]
    statement = Write(sql, params, using)
    if connection.in_atomic_block and not getattr(connection, "writes_with_commit", False):
        statement.execute()
        return
    transaction.on_commit(statement, using=using)


def queued(connection: Any) -> list[Write]:
    """The statements waiting for ``connection``'s next COMMIT."""
    return [
        func
        for _, func, _ in connection.run_on_commit
        if isinstance(func, Write) and not func.written
    ]
