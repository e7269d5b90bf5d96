"""Monthly partitions of the audit trail on PostgreSQL (declarative, by ``timestamp``).

``audit_auditlog`` is partitioned by range of ``timestamp``, one partition per UTC month
(``audit_auditlog_pYYYY_MM``), plus a DEFAULT partition that catches a record whose month
has no partition yet, so a write never fails for want of one. The primary key is
``(id, timestamp)``, as PostgreSQL requires the partition key in it; a redelivered record
has both the same id and the same timestamp, so ``ON CONFLICT DO NOTHING`` still skips it.

Who creates partitions: the database functions ``audit_create_partition``,
``audit_protect_partition`` and ``audit_ensure_partitions`` are defined by migration
``audit/0007_partition_by_month.py``, which holds their SQL (a change to them is a new
migration). They belong to the owner of the tables (the migration runs as the owner)
and run with its rights
(SECURITY DEFINER), so the service's role, which may not create tables, calls
``audit_ensure_partitions`` from a beat job and gets the next months' partitions and
nothing else. ``migrate`` calls it too. A month whose records already sit in the DEFAULT
partition gets its partition all the same: the rows are moved into it in the same
transaction, with the DEFAULT partition's row trigger off for that move only.

Every partition is append-only: the row trigger of the parent is cloned onto each
partition by PostgreSQL, the TRUNCATE trigger is not, so each partition gets its own.
Its privileges are copied from the parent (the service's role may SELECT and INSERT,
nothing else), whatever the owner's default privileges would give.

On SQLite the table is not partitioned and these functions do nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection

# Months created ahead of the current one, by migrate and by the beat job.
AHEAD = 3
# The most months ahead the service's role may ask for (checked by the database function).
MAX_AHEAD = 36
TABLE = "audit_auditlog"
DEFAULT_PARTITION = "audit_auditlog_default"


@dataclass(frozen=True)
class Partition:
    name: str
    month: dt.date | None  # None for the DEFAULT partition
    rows: int  # the planner's estimate: counting a large partition would be slow


def is_partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [TABLE]
        )
        return cursor.fetchone() is not None


def ensure_partitions(*, ahead: int = AHEAD) -> list[str]:
    """Create the partitions of this month and the ``ahead`` next ones that are missing;
    returns the names created (none when they all exist)."""
    if not is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT audit_ensure_partitions(%s)", [ahead])
        return [name for (name,) in cursor.fetchall()]


def create_partition(*, month: dt.date) -> str | None:
    """The partition of ``month`` (any month, moving its rows out of the DEFAULT
    partition); needs the owner's rights. Returns its name, or None if it existed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT audit_create_partition(%s)", [month])
        result: str | None = cursor.fetchone()[0]
        return result


def list_partitions() -> list[Partition]:
    """Attached partitions, oldest month first, the DEFAULT partition last."""
    if not is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, greatest(c.reltuples, 0) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [TABLE],
        )
        rows = cursor.fetchall()
    partitions = [
        Partition(name=name, month=_month_of(name), rows=int(rows_estimate))
        for name, rows_estimate in rows
    ]
    return sorted(partitions, key=lambda p: (p.month is None, p.month or dt.date.min))


def partition_name(month: dt.date) -> str:
    return f"{TABLE}_p{month:%Y_%m}"


def _month_of(name: str) -> dt.date | None:
    if name == DEFAULT_PARTITION:
        return None
    year, month = name.removeprefix(f"{TABLE}_p").split("_")
    return dt.date(int(year), int(month), 1)
