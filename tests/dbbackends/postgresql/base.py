"""Test-only backend: lets Django's test flush empty the append-only audit tables.

TransactionTestCase empties every table with TRUNCATE, which the audit triggers
reject. The flush alone runs with triggers disabled for its own transaction (the test
database user is a superuser); the production triggers stay as they are.
"""

from typing import Any

from django.db.backends.postgresql.operations import DatabaseOperations

from core.dbbackend import base


class FlushingOperations(DatabaseOperations):
    def sql_flush(self, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        sql = super().sql_flush(style, tables, **kwargs)
        return ["SET LOCAL session_replication_role = replica", *sql] if sql else sql


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = FlushingOperations
