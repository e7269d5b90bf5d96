"""Writing serial numbers at line speed.

Random serials come from ``secrets.token_bytes`` mapped onto a 32-symbol alphabet
without look-alikes (no 0/O, 1/I): 256 is a multiple of 32, so every symbol is
equally likely, and mapping bytes costs a fraction of calling ``secrets.choice``
per character. Sequential serials are a zero-padded counter after an optional
prefix, continuing after the highest one already used for the GTIN.

Rows go to PostgreSQL with COPY, in chunks, each in a savepoint: a chunk that hits
an existing (GTIN, serial) is rolled back to its savepoint and written again with
``INSERT … ON CONFLICT DO NOTHING``, and the serials that were taken are replaced
by fresh ones, so a collision never fails the request and never yields fewer
serials than asked. Once collisions have been seen, each round draws more
candidates than it still needs (as many more as the share of taken serials in
the last round suggests), drops those already taken with one indexed lookup and
inserts only as many as are needed, so a nearly full space costs a few rounds,
not one round per missing serial. Other databases (the embedded SQLite default)
get the conflict-tolerant multi-row insert directly. Never one ORM save per row.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction

from core.exceptions import StateConflict
from serializations.choices import SerialStatus, Strategy
from serializations.models import SerialNumber

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_BYTE_TO_SYMBOL = bytes(ALPHABET.encode("ascii")[b % len(ALPHABET)] for b in range(256))
assert 256 % len(ALPHABET) == 0  # uniformity rests on it

DEFAULT_LENGTH = 12
CHUNK = 50_000
# A random serial space must be this many times larger than the count asked for,
# so serials stay hard to guess and collisions rare.
RANDOM_SPACE_FACTOR = 1_000
UNIQUE_VIOLATION = "23505"
TABLE = SerialNumber._meta.db_table
COLUMNS = "batch_id, gtin, serial, status, status_changed_at, decommission_reason, created_at"
# Rounds in a row in which every new serial was already taken before giving up.
MAX_FRUITLESS_ROUNDS = 20
# Candidates drawn per missing serial, once collisions are seen, are capped at this.
MAX_OVERSAMPLE = 1_000
SPACE_EXHAUSTED = (
    "Almost every serial of this length and prefix is taken for this GTIN; "
    "use a longer length or another prefix."
)
SEQUENCE_EXHAUSTED = (
    "Sequential serials of length {length} with prefix {prefix!r} are exhausted for "
    "GTIN {gtin}: at most {left} more fit."
)


def random_serials(count: int, length: int, prefix: str = "") -> list[str]:
    width = length - len(prefix)
    symbols = secrets.token_bytes(count * width).translate(_BYTE_TO_SYMBOL).decode("ascii")
    return [prefix + symbols[i : i + width] for i in range(0, count * width, width)]


def random_space(length: int, prefix: str) -> int:
    return len(ALPHABET) ** (length - len(prefix))


class Sequence:
    """The next numbers of ``prefix`` + zero-padded counter for one GTIN."""

    def __init__(self, gtin: str, length: int, prefix: str):
        self.gtin, self.length, self.prefix = gtin, length, prefix
        self.width = length - len(prefix)
        self.capacity = 10**self.width
        self.next = self._after_highest_used()

    def _after_highest_used(self) -> int:
        # Byte order (collation "C") makes the greatest zero-padded value the greatest
        # number; the regex keeps out random serials that share the prefix.
        last = (
            SerialNumber.objects.filter(
                gtin=self.gtin,
                serial__gte=self.prefix + "0" * self.width,
                serial__lte=self.prefix + "9" * self.width,
                serial__regex=rf"^{re.escape(self.prefix)}[0-9]{{{self.width}}}$",
            )
            .order_by("-serial")
            .values_list("serial", flat=True)
            .first()
        )
        return int(last[len(self.prefix) :]) + 1 if last else 1

    def left(self) -> int:
        return max(self.capacity - self.next, 0)

    def take(self, count: int) -> list[str]:
        if count > self.left():
            raise StateConflict(
                SEQUENCE_EXHAUSTED.format(
                    length=self.length, prefix=self.prefix, gtin=self.gtin, left=self.left()
                ),
                code="sequence_exhausted",
            )
        start, self.next = self.next, self.next + count
        return [f"{self.prefix}{n:0{self.width}d}" for n in range(start, self.next)]


@dataclass
class Written:
    count: int = 0
    first_id: int | None = None
    last_id: int | None = None
    first_serial: str = ""
    last_serial: str = ""


class _Writer:
    """Inserts serials of one batch; counts what actually went in."""

    def __init__(self, *, batch_id: Any, gtin: str, now: datetime):
        self.batch_id, self.gtin, self.now = str(batch_id), gtin, now
        self.copy_ok = connection.vendor == "postgresql"

    def insert(self, serials: list[str], limit: int) -> int:
        """Insert at most ``limit`` of ``serials``; returns how many went in."""
        if self.copy_ok and len(serials) <= limit:
            savepoint = transaction.savepoint()
            try:
                self._copy(serials)
            except IntegrityError as exc:
                if getattr(exc.__cause__, "sqlstate", None) != UNIQUE_VIOLATION:
                    raise
                transaction.savepoint_rollback(savepoint)
                # Taken serials exist (a near-full space, or a sequence reused): stay
                # on the conflict-tolerant path for the rest of this generation.
                self.copy_ok = False
            else:
                transaction.savepoint_commit(savepoint)
                return len(serials)
        return self._insert_ignoring_taken(self._free(serials)[:limit])

    def _free(self, serials: list[str]) -> list[str]:
        taken: set[str] = set()
        for start in range(0, len(serials), 5_000):
            taken.update(
                SerialNumber.objects.filter(
                    gtin=self.gtin, serial__in=serials[start : start + 5_000]
                ).values_list("serial", flat=True)
            )
        return [serial for serial in serials if serial not in taken]

    def _copy(self, serials: list[str]) -> None:
        ts = self.now.isoformat()
        head = f"{self.batch_id}\t{self.gtin}\t"
        tail = f"\t{SerialStatus.COMMISSIONED}\t{ts}\t\t{ts}\n"
        payload = head + (tail + head).join(serials) + tail
        # COPY bypasses Django's execute(): wrap its errors as execute() would.
        with connection.wrap_database_errors, connection.cursor() as cursor:
            with cursor.copy(f"COPY {TABLE} ({COLUMNS}) FROM STDIN") as copy:
                copy.write(payload.encode("ascii"))

    def _insert_ignoring_taken(self, serials: list[str]) -> int:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # TABLE and COLUMNS are constants of this module.
                cursor.execute(
                    f"INSERT INTO {TABLE} ({COLUMNS}) "  # noqa: S608
                    "SELECT %s, %s, s, %s, %s, '', %s FROM unnest(%s::text[]) AS s "
                    "ON CONFLICT (gtin, serial) DO NOTHING",
                    [
                        self.batch_id,
                        self.gtin,
                        SerialStatus.COMMISSIONED,
                        self.now,
                        self.now,
                        serials,
                    ],
                )
                return cursor.rowcount
            batch_id = SerialNumber._meta.get_field("batch").target_field.get_db_prep_value(
                self.batch_id, connection
            )
            inserted = 0
            for start in range(0, len(serials), 500):
                part = serials[start : start + 500]
                rows = ", ".join(["(%s, %s, %s, %s, %s, '', %s)"] * len(part))
                cursor.execute(
                    f"INSERT OR IGNORE INTO {TABLE} ({COLUMNS}) VALUES {rows}",  # noqa: S608
                    [
                        value
                        for serial in part
                        for value in (
                            batch_id,
                            self.gtin,
                            serial,
                            SerialStatus.COMMISSIONED,
                            self.now,
                            self.now,
                        )
                    ],
                )
                inserted += cursor.rowcount
            return inserted


def write_serials(
    *,
    batch: Any,
    count: int,
    strategy: str,
    length: int,
    prefix: str,
    now: datetime,
    on_progress: Callable[[int], None] | None = None,
) -> Written:
    """Insert ``count`` new serials for ``batch`` (locked by the caller, in its
    transaction); returns what was written. Sequential generations of one GTIN are
    serialized with a transaction-level advisory lock on PostgreSQL."""
    gtin = batch.product.gtin
    if strategy == Strategy.SEQUENTIAL and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"serial-seq:{gtin}"])
    before = (
        SerialNumber.objects.filter(batch=batch).order_by("-id").values_list("id", flat=True)
    ).first() or 0
    sequence = Sequence(gtin, length, prefix) if strategy == Strategy.SEQUENTIAL else None
    writer = _Writer(batch_id=batch.pk, gtin=gtin, now=now)
    done = fruitless = 0
    oversample = 1.0
    while done < count:
        want = min(count - done, CHUNK)
        if sequence is not None:
            serials = sequence.take(want)
        else:
            draw = max(want, min(math.ceil(want * oversample), CHUNK))
            serials = list(dict.fromkeys(random_serials(draw, length, prefix)))
        inserted = writer.insert(serials, want)
        done += inserted
        fruitless = 0 if inserted else fruitless + 1
        if sequence is None and inserted < len(serials):
            # Twice the candidates the share of free ones in this round asks for.
            oversample = min(2 * len(serials) / max(inserted, 1), MAX_OVERSAMPLE)
        if fruitless >= MAX_FRUITLESS_ROUNDS:
            raise StateConflict(SPACE_EXHAUSTED, code="serial_space_exhausted")
        if on_progress is not None:
            on_progress(done)
    rows = SerialNumber.objects.filter(batch=batch, id__gt=before)
    first = rows.order_by("id").values_list("id", "serial").first()
    last = rows.order_by("-id").values_list("id", "serial").first()
    return Written(
        count=done,
        first_id=first[0] if first else None,
        last_id=last[0] if last else None,
        first_serial=first[1] if first else "",
        last_serial=last[1] if last else "",
    )
