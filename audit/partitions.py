"""Monthly partitions of the audit trail on PostgreSQL (declarative, by ``timestamp``).

``audit_auditlog`` is partitioned by range of ``timestamp``, one partition per UTC month
(``audit_auditlog_pYYYY_MM``), plus a DEFAULT partition that catches a record whose month
has no partition yet, so a write never fails for want of one. The primary key is
``(id, timestamp)``, as PostgreSQL requires the partition key in it; a redelivered record
has both the same id and the same timestamp, so ``ON CONFLICT DO NOTHING`` still skips it.

Who creates partitions: the database functions below belong to the owner of the tables
(they are created by a migration, which runs as the owner) and run with its rights
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
# The most months ahead the service's role may ask for.
MAX_AHEAD = 36
TABLE = "audit_auditlog"
DEFAULT_PARTITION = "audit_auditlog_default"

CREATE_PARTITION_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_create_partition(month date) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    first date := date_trunc('month', month)::date;
    name text := 'audit_auditlog_p' || to_char(first, 'YYYY_MM');
    lo timestamptz := first::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (first + interval '1 month')::timestamp AT TIME ZONE 'UTC';
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format(
        'CREATE TABLE %I (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
    IF EXISTS (SELECT 1 FROM {DEFAULT_PARTITION} WHERE timestamp >= lo AND timestamp < hi)
    THEN
        EXECUTE format('INSERT INTO %I SELECT * FROM {DEFAULT_PARTITION} '
                       'WHERE timestamp >= $1 AND timestamp < $2', name) USING lo, hi;
        ALTER TABLE {DEFAULT_PARTITION} DISABLE TRIGGER {TABLE}_no_change;
        DELETE FROM {DEFAULT_PARTITION} WHERE timestamp >= lo AND timestamp < hi;
        ALTER TABLE {DEFAULT_PARTITION} ENABLE TRIGGER {TABLE}_no_change;
    END IF;
    EXECUTE format('ALTER TABLE {TABLE} ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                   name, lo, hi);
    PERFORM audit_protect_partition(name);
    RETURN name;
END
$$;
"""  # noqa: S608 - only module constants are formatted in

# The TRUNCATE trigger (not inherited) and the parent's privileges on a partition.
PROTECT_PARTITION_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_protect_partition(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    acl record;
BEGIN
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change()',
                   name || '_no_truncate', name);
    FOR acl IN
        SELECT DISTINCT a.grantee FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = name::regclass AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('REVOKE ALL ON %I FROM %s', name,
            CASE WHEN acl.grantee = 0 THEN 'PUBLIC'
                 ELSE quote_ident(pg_get_userbyid(acl.grantee)) END);
    END LOOP;
    FOR acl IN
        SELECT a.grantee, a.privilege_type FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = '{TABLE}'::regclass AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('GRANT %s ON %I TO %s', acl.privilege_type, name,
            CASE WHEN acl.grantee = 0 THEN 'PUBLIC'
                 ELSE quote_ident(pg_get_userbyid(acl.grantee)) END);
    END LOOP;
END
$$;
"""  # noqa: S608 - only module constants are formatted in

ENSURE_PARTITIONS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_ensure_partitions(ahead integer) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    month date;
    made text;
BEGIN
    IF ahead < 0 OR ahead > {MAX_AHEAD} THEN
        RAISE EXCEPTION 'ahead must be between 0 and {MAX_AHEAD}, not %', ahead;
    END IF;
    FOR month IN
        SELECT generate_series(
            date_trunc('month', now() AT TIME ZONE 'UTC'),
            date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => ahead),
            interval '1 month')::date
    LOOP
        made := audit_create_partition(month);
        IF made IS NOT NULL THEN
            RETURN NEXT made;
        END IF;
    END LOOP;
END
$$;
"""

FUNCTIONS = (PROTECT_PARTITION_FUNCTION, CREATE_PARTITION_FUNCTION, ENSURE_PARTITIONS_FUNCTION)
# Only ensuring is for the service's role; creating any month and protecting a table
# stay with the owner.
OWNER_ONLY = ("audit_create_partition(date)", "audit_protect_partition(text)")


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
