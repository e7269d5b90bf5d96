"""Test-only backend: lets Django's test flush empty the append-only audit tables.

The triggers are dropped for the flush's DELETEs and created again right after.
"""

from typing import Any

from django.db.backends.sqlite3 import base
from django.db.backends.sqlite3.operations import DatabaseOperations

from audit import triggers


class FlushingOperations(DatabaseOperations):
    def sql_flush(self, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        sql = super().sql_flush(style, tables, **kwargs)
        if not sql:
            return sql
        return [*triggers.sqlite_drop(), *sql, *triggers.sqlite_create()]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = FlushingOperations
