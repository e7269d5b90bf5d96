"""Test-only backend: lets Django's test flush empty the append-only audit and EPCIS tables.

The triggers are dropped for the flush's DELETEs and created again right after.
"""

from typing import Any

from django.db.backends.sqlite3 import base
from django.db.backends.sqlite3.operations import DatabaseOperations

from audit import triggers

# The EPCIS tables' triggers, as serializations' migration 0003 makes them.
EPCIS_TABLES = (
    "serializations_epcisevent",
    "serializations_epciseventepc",
    "serializations_epciseventbatch",
)
EPCIS_MESSAGE = "EPCIS events are append-only"


def _epcis_drop() -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_{op};"
        for table in EPCIS_TABLES
        for op in ("update", "delete")
    ]


def _epcis_create() -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{EPCIS_MESSAGE}'); END;"
        for table in EPCIS_TABLES
        for op in ("UPDATE", "DELETE")
    ]


class FlushingOperations(DatabaseOperations):
    def sql_flush(self, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        sql = super().sql_flush(style, tables, **kwargs)
        if not sql:
            return sql
        return [
            *triggers.sqlite_drop(),
            *_epcis_drop(),
            *sql,
            *triggers.sqlite_create(),
            *_epcis_create(),
        ]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = FlushingOperations
