"""PostgreSQL backend whose connection pool checks health without a round trip.

Django's pool hands psycopg_pool ``check=ConnectionPool.check_connection`` when
``CONN_HEALTH_CHECKS`` is on, which sends a query every time a request takes a
connection: a second round trip on every request. An idle, healthy connection has
nothing to read, so this check looks at the socket first and runs the real check only
when the server has written something (a terminated backend's FATAL message, or EOF)
or the connection is already known to be broken; the real check raises, and the pool
discards the connection and opens a new one (after checking its other idle ones).
"""

from __future__ import annotations

import select
from typing import Any

import psycopg
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.utils import debug_transaction  # type: ignore[attr-defined]
from django_prometheus.db.backends.postgresql import base as prometheus_base
from psycopg_pool import ConnectionPool

from core import atcommit


def check_pooled_connection(conn: Any) -> None:
    if conn.closed or conn.broken:
        raise conn.OperationalError("connection is closed")
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    if not readable:
        return
    try:
        ConnectionPool.check_connection(conn)
    except Exception:
        # One dead connection usually means the server dropped them all (restart,
        # failover, terminated backends). Weed the others out now: psycopg_pool backs
        # off after every failed check, and nine dead connections in a row would
        # outlast the pool timeout.
        pool = getattr(conn, "_pool", None)
        if pool is not None:
            pool.check()
        raise


# django-prometheus's wrapper counts connections, statements, errors and query durations
# for /metrics (its cursor factory adds a counter and a timer per statement).
# django-prometheus ships no type information.
class DatabaseWrapper(prometheus_base.DatabaseWrapper):  # type: ignore[misc]
    # Statements queued with ``core.atcommit.write`` go with the COMMIT, in its round trip.
    writes_with_commit = True

    def _commit(self) -> None:
        statements = atcommit.queued(self) if self.run_on_commit else []
        if not statements or self.connection is None:
            super()._commit()
            return
        # One query: the statements, then COMMIT. The server stops at the first that
        # fails, and the transaction is rolled back (Atomic does it, on the error).
        # Client-side binding: a query of several statements takes no server parameters.
        sql = "; ".join([*(statement.sql for statement in statements), "COMMIT"])
        params = [param for statement in statements for param in statement.params]
        with debug_transaction(self, sql), self.wrap_database_errors:
            psycopg.ClientCursor(self.connection).execute(sql, params)
            self.connection.commit()  # psycopg's bookkeeping: the server has committed
        for statement in statements:
            statement.written = True

    @property
    def pool(self) -> ConnectionPool | None:
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not pool_options:
            return None
        if self.alias not in self._connection_pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            options = {} if pool_options is True else dict(pool_options)
            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True
            enable_checks = self.settings_dict["CONN_HEALTH_CHECKS"]
            pool = ConnectionPool(
                kwargs=connect_kwargs,
                open=False,
                configure=self._configure_connection,
                check=check_pooled_connection if enable_checks else None,
                **options,
            )
            self._connection_pools.setdefault(self.alias, pool)
        pools: dict[str, ConnectionPool] = self._connection_pools
        return pools[self.alias]
