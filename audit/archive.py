"""Archives of closed months of the audit trail, verified before anything leaves the table.

An archive is one gzip file of JSON lines: a header (format, month), one line per record
in seal order (``seq``, ``prev_hash``, ``hash``, the record's canonical ``text`` exactly
as sealed, its ``mac``), and a trailer (count, first and last seal, and an HMAC over the
SHA-256 of every line before it). A line changed, removed or added is found offline with
the audit key alone: a MAC or a chain link fails, or the trailer does; with the database
at hand, each line is also compared with its seal and the file's SHA-256 with the
manifest (``AuditArchive``).

``archive_month`` refuses a month that is not closed, not older than
``AUDIT_ONLINE_MONTHS`` or not fully sealed; it writes the archive to a directory or to
S3-compatible storage, reads it back from there and verifies it, and only then records
it in the manifest and, on PostgreSQL, detaches the month's partition in the same
transaction (and drops it only when asked). The detached table keeps the append-only
triggers. On SQLite the table is not partitioned: archiving writes and verifies the
archive and records it, and the records stay online.

Seals are never removed: ``verify`` (audit/sealing.py) reads from ``archived_ranges``
which sealed records left the table with a verified archive.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import hmac
import json
import logging
import os
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit import partitions
from audit.canonical import canonical_text, mac
from audit.chain import chain_hash, unsealed
from audit.models import AuditArchive, AuditLog, AuditSeal

logger = logging.getLogger(__name__)

FORMAT = "audit-archive/1"
CHUNK = 2000
MAX_PROBLEMS = 100


class ArchiveRefused(Exception):
    """The month may not be archived (yet), or the archive did not verify."""


# --- months ---------------------------------------------------------------------------


def parse_month(text: str) -> dt.date:
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(text)
        return dt.date(int(year), int(month), 1)
    except ValueError:
        raise ArchiveRefused(f"{text!r} is not a month (YYYY-MM).") from None


def _add_months(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC month as [start, end)."""
    start = dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC)
    end = _add_months(month, 1)
    return start, dt.datetime(end.year, end.month, 1, tzinfo=dt.UTC)


def online_since(*, now: dt.datetime | None = None) -> dt.date:
    """The oldest month kept online: months before it may be archived."""
    today = (now or timezone.now()).astimezone(dt.UTC).date().replace(day=1)
    return _add_months(today, -settings.AUDIT_ONLINE_MONTHS)


def archivable_months() -> list[dt.date]:
    """Months older than the online window that still have records in the table."""
    start, _ = month_bounds(online_since())
    months = (
        AuditLog.objects.filter(timestamp__lt=start)
        .datetimes("timestamp", "month", tzinfo=dt.UTC)
        .distinct()
    )
    return sorted({m.date() for m in months})


def refusal(month: dt.date) -> str | None:
    """Why ``month`` may not be archived, or None."""
    start, end = month_bounds(month)
    if end > timezone.now():
        return f"{month:%Y-%m} is not closed yet."
    if month >= online_since():
        return (
            f"{month:%Y-%m} is within the last {settings.AUDIT_ONLINE_MONTHS} months "
            "(AUDIT_ONLINE_MONTHS) and stays online."
        )
    records = AuditLog.objects.filter(timestamp__gte=start, timestamp__lt=end)
    if not records.exists():
        return f"{month:%Y-%m} has no records in the table."
    waiting = unsealed().filter(timestamp__gte=start, timestamp__lt=end).count()
    if waiting:
        return f"{month:%Y-%m} has {waiting} record(s) not sealed: seal (or verify) first."
    return None


# --- writing --------------------------------------------------------------------------


def _trailer_mac(digest: str, summary: dict[str, Any]) -> str:
    """Keyed, so a reader without the audit key cannot rewrite a shortened archive."""
    text = f"{FORMAT}\n{digest}\n{json.dumps(summary, sort_keys=True)}"
    return mac(text)


def _line(data: dict[str, Any]) -> bytes:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{text}\n".encode()


def _month_seals(start: dt.datetime, end: dt.datetime) -> Iterator[tuple[AuditSeal, AuditLog]]:
    """The month's records with their seals, in seal order."""
    month_ids = AuditLog.objects.filter(timestamp__gte=start, timestamp__lt=end).values("id")
    seals = AuditSeal.objects.filter(log_id__in=month_ids).order_by("seq")
    batch: list[AuditSeal] = []
    for link in seals.iterator(chunk_size=CHUNK):
        batch.append(link)
        if len(batch) == CHUNK:
            yield from _with_records(batch, start, end)
            batch = []
    yield from _with_records(batch, start, end)


def _with_records(
    batch: list[AuditSeal], start: dt.datetime, end: dt.datetime
) -> Iterator[tuple[AuditSeal, AuditLog]]:
    rows = AuditLog.objects.filter(
        timestamp__gte=start, timestamp__lt=end, id__in=[link.log_id for link in batch]
    ).in_bulk()
    for link in batch:
        yield link, rows[link.log_id]


def write_archive(month: dt.date, out: IO[bytes]) -> dict[str, Any]:
    """Write the month's archive (gzip) to ``out``; returns the trailer's summary. A record
    that does not match its seal or its MAC stops the export: it is not archivable."""
    start, end = month_bounds(month)
    digest = hashlib.sha256()
    summary: dict[str, Any] = {"records": 0, "first_seq": None, "last_seq": None}
    summary.update(first_prev_hash="", last_hash="")
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as archive:

        def emit(data: dict[str, Any]) -> None:
            line = _line(data)
            digest.update(line)
            archive.write(line)

        emit(
            {
                "format": FORMAT,
                "month": f"{month:%Y-%m}",
                "exported_at": timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds"),
            }
        )
        for link, row in _month_seals(start, end):
            text = canonical_text(row)
            if text != link.text or mac(text) != row.mac:
                raise ArchiveRefused(
                    f"Record {row.pk} does not match its seal #{link.seq}: run verify_audit."
                )
            emit(
                {
                    "seq": link.seq,
                    "prev_hash": link.prev_hash,
                    "hash": link.hash,
                    "text": text,
                    "mac": row.mac,
                }
            )
            summary["records"] += 1
            summary["first_seq"] = summary["first_seq"] or link.seq
            summary["first_prev_hash"] = summary["first_prev_hash"] or link.prev_hash
            summary["last_seq"], summary["last_hash"] = link.seq, link.hash
        archive.write(_line({**summary, "mac": _trailer_mac(digest.hexdigest(), summary)}))
    return summary


# --- storage --------------------------------------------------------------------------


def _s3_client() -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=settings.AUDIT_ARCHIVE_S3_ENDPOINT_URL or None)


@contextmanager
def _s3_errors(location: str) -> Iterator[None]:
    """Storage failures as a refusal naming the location, not a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as error:
        raise ArchiveRefused(f"S3 refused {location}: {error}") from None


def _s3_parts(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    if not parsed.netloc:
        raise ArchiveRefused(f"{url!r} names no bucket (s3://bucket/prefix).")
    return parsed.netloc, parsed.path.lstrip("/")


def store(local: Path, *, to: str, name: str) -> str:
    """Copy the archive file to ``to`` (a directory or ``s3://bucket/prefix``); returns
    its location. Never overwrites."""
    if to.startswith("s3://"):
        bucket, prefix = _s3_parts(to)
        key = f"{prefix.rstrip('/')}/{name}" if prefix else name
        with _s3_errors(f"s3://{bucket}/{key}"), local.open("rb") as source:
            _s3_client().put_object(Bucket=bucket, Key=key, Body=source, IfNoneMatch="*")
        return f"s3://{bucket}/{key}"
    directory = Path(to)
    if not directory.is_dir():
        raise ArchiveRefused(f"{to!r} is not a directory.")
    target = directory / name
    try:
        with local.open("rb") as source, target.open("xb") as copy:
            while chunk := source.read(1 << 20):
                copy.write(chunk)
            copy.flush()
            os.fsync(copy.fileno())
    except OSError as error:
        raise ArchiveRefused(f"Cannot write {target}: {error}") from None
    return str(target)


def fetch(location: str, into: IO[bytes]) -> None:
    """Read an archive back from its location (path or s3:// URL) into ``into``."""
    if location.startswith("s3://"):
        bucket, key = _s3_parts(location)
        with _s3_errors(location):
            _s3_client().download_fileobj(bucket, key, into)
    else:
        path = Path(location)
        if not path.is_file():
            raise ArchiveRefused(f"No archive at {location!r}.")
        with path.open("rb") as source:
            while chunk := source.read(1 << 20):
                into.write(chunk)
    into.flush()
    into.seek(0)


# --- verifying ------------------------------------------------------------------------


@dataclass
class ArchiveCheck:
    ok: bool = True
    month: str | None = None
    records: int = 0
    sha256: str = ""
    first_seq: int | None = None
    last_seq: int | None = None
    witnessed: bool = False  # the manifest holds this file's sha256
    problems: list[dict[str, Any]] = field(default_factory=list)
    problem_count: int = 0

    def fail(self, problem: str, detail: str, *, seq: int | None = None) -> None:
        self.ok = False
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append({"problem": problem, "seq": seq, "detail": detail})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sha256(source: IO[bytes]) -> str:
    digest = hashlib.sha256()
    source.seek(0)
    while chunk := source.read(1 << 20):
        digest.update(chunk)
    source.seek(0)
    return digest.hexdigest()


def check_archive(source: IO[bytes], *, against_database: bool = True) -> ArchiveCheck:
    """Verify an archive file: its format, every record's MAC and month, every chain link
    and the links between consecutive seals, the keyed trailer; and, ``against_database``,
    each line against its seal, the seals of its month it lacks, and the file against the
    manifest. Streams the file: lines are compared with the database a chunk at a time."""
    result = ArchiveCheck(sha256=_sha256(source))
    digest = hashlib.sha256()
    present: set[int] = set()
    chunk: list[dict[str, Any]] = []
    trailer: dict[str, Any] | None = None
    try:
        with gzip.GzipFile(fileobj=source, mode="rb") as archive:
            for line in _read_lines(archive, result, digest):
                if "text" not in line:
                    trailer = line
                    continue
                present.add(line["seq"])
                chunk.append(line)
                if len(chunk) == CHUNK:
                    if against_database:
                        _against_seals(chunk, result)
                    chunk = []
    except (OSError, EOFError, ValueError, zlib.error, ArchiveRefused) as error:
        result.fail("unreadable", f"The archive cannot be read: {error}.")
        return result
    if trailer is None or result.month is None:
        return result
    summary = {k: trailer.get(k) for k in ("records", "first_seq", "last_seq")}
    summary.update(
        first_prev_hash=trailer.get("first_prev_hash"), last_hash=trailer.get("last_hash")
    )
    expected_mac = _trailer_mac(trailer.get("_digest", ""), summary)
    if not hmac.compare_digest(str(trailer.get("mac", "")), expected_mac):
        result.fail(
            "trailer_invalid",
            "The archive's trailer does not verify: lines were added, removed or changed.",
        )
    seen = (result.records, result.first_seq, result.last_seq)
    if seen != (summary["records"], summary["first_seq"], summary["last_seq"]):
        result.fail(
            "removed",
            f"The trailer names {summary['records']} record(s) "
            f"#{summary['first_seq']}..#{summary['last_seq']}, the archive holds "
            f"{seen[0]} #{seen[1]}..#{seen[2]}.",
        )
    if against_database:
        _against_seals(chunk, result)
        _missing_lines(present, result)
        _against_manifest(summary, result)
    return result


def _read_lines(
    archive: gzip.GzipFile, result: ArchiveCheck, digest: Any
) -> Iterator[dict[str, Any]]:
    """Each line parsed and its record checked; the trailer last, with the digest of
    every line before it."""
    header = archive.readline()
    data = json.loads(header)
    if data.get("format") != FORMAT:
        result.fail("format", f"Not an audit archive ({FORMAT}).")
        return
    digest.update(header)
    result.month = data.get("month")
    start, end = month_bounds(parse_month(str(result.month)))
    previous: dict[str, Any] | None = None
    for raw in archive:
        line = json.loads(raw)
        if "text" not in line:
            yield {**line, "_digest": digest.hexdigest()}
            if archive.read(1):
                result.fail("trailing_data", "The archive goes on after its trailer.")
            return
        digest.update(raw)
        _check_record(line, previous, start, end, result)
        previous = line
        yield line
    result.fail("trailer_missing", "The archive ends without its trailer: it was cut short.")


def _check_record(
    line: dict[str, Any],
    previous: dict[str, Any] | None,
    start: dt.datetime,
    end: dt.datetime,
    result: ArchiveCheck,
) -> None:
    seq, text = line.get("seq"), str(line.get("text", ""))
    result.records += 1
    result.first_seq = result.first_seq or seq
    result.last_seq = seq
    if not hmac.compare_digest(mac(text), str(line.get("mac", ""))):
        result.fail("altered", "A record's MAC does not verify.", seq=seq)
    if chain_hash(str(line.get("prev_hash")), text) != line.get("hash"):
        result.fail("chain_broken", f"Seal #{seq} does not follow from its prev_hash.", seq=seq)
    if previous is not None:
        if not isinstance(seq, int) or seq <= previous["seq"]:
            result.fail("out_of_order", f"Seal #{seq} follows #{previous['seq']}.", seq=seq)
        elif seq == previous["seq"] + 1 and line.get("prev_hash") != previous["hash"]:
            result.fail(
                "chain_broken", f"Seal #{seq} does not follow from #{previous['seq']}.", seq=seq
            )
    try:
        timestamp = dt.datetime.fromisoformat(json.loads(text)["timestamp"])
    except (ValueError, KeyError, TypeError):
        result.fail("altered", "A record has no readable timestamp.", seq=seq)
        return
    if not start <= timestamp < end:
        result.fail("wrong_month", f"Seal #{seq}'s record is not of {result.month}.", seq=seq)


def _against_seals(chunk: list[dict[str, Any]], result: ArchiveCheck) -> None:
    """Each line against its seal: seals are never removed, so each must be there."""
    seals = AuditSeal.objects.in_bulk([line["seq"] for line in chunk])
    for line in chunk:
        link = seals.get(line["seq"])
        if link is None:
            result.fail(
                "seal_missing", f"Seal #{line['seq']} is not in the database.", seq=line["seq"]
            )
        elif (link.prev_hash, link.hash, link.text) != (
            line["prev_hash"],
            line["hash"],
            line["text"],
        ):
            result.fail(
                "differs_from_seal",
                f"Seal #{line['seq']} differs from the database's.",
                seq=line["seq"],
            )


def _against_manifest(summary: dict[str, Any], result: ArchiveCheck) -> None:
    """The file is the one the manifest witnessed, and says what the manifest says."""
    manifest = AuditArchive.objects.filter(month=parse_month(str(result.month)))
    entry = manifest.filter(sha256=result.sha256).first()
    result.witnessed = entry is not None
    if entry is None:
        if manifest.exists():
            result.fail(
                "not_witnessed",
                "The manifest records other archives of this month, "
                "not this file: it was changed after archiving.",
            )
        return
    recorded = (
        entry.records,
        entry.first_seq,
        entry.last_seq,
        entry.first_prev_hash,
        entry.last_hash,
    )
    archived = tuple(
        summary[k] for k in ("records", "first_seq", "last_seq", "first_prev_hash", "last_hash")
    )
    if recorded != archived:
        result.fail(
            "differs_from_manifest",
            "The archive's first or last link or its count differs from the manifest's.",
        )


def _missing_lines(present: set[int], result: ArchiveCheck) -> None:
    """A seal between the archive's first and last whose record is of the archive's month
    but which the archive lacks: a line was removed (seals of other months are gaps)."""
    start, end = month_bounds(parse_month(str(result.month)))
    if result.first_seq is None:
        return
    links = AuditSeal.objects.filter(seq__gte=result.first_seq, seq__lte=result.last_seq)
    for seq, text in links.values_list("seq", "text").iterator(chunk_size=CHUNK):
        if seq in present:
            continue
        timestamp = dt.datetime.fromisoformat(json.loads(text)["timestamp"])
        if start <= timestamp < end:
            result.fail("removed", f"Seal #{seq} is of this month but not in the archive.", seq=seq)


def verify_archive(location: str) -> ArchiveCheck:
    """``verify_audit --archive``: read the archive from its location and verify it."""
    with tempfile.TemporaryFile() as local:
        fetch(location, local)
        return check_archive(local)


# --- archiving ------------------------------------------------------------------------


def archive_month(*, month: dt.date, to: str, detach: bool = True, drop: bool = False) -> Any:
    """Export, store, read back, verify; then record in the manifest and detach (and,
    with ``drop``, drop) the month's partition, in one transaction."""
    reason = refusal(month)
    if reason:
        raise ArchiveRefused(reason)
    partitioned = partitions.is_partitioned()
    if drop and not (partitioned and detach):
        raise ArchiveRefused("Only a detached partition can be dropped.")
    stamp = timezone.now().astimezone(dt.UTC)
    name = f"audit-{month:%Y-%m}-{stamp:%Y%m%dT%H%M%SZ}.jsonl.gz"
    with tempfile.TemporaryDirectory() as work:
        local = Path(work) / name
        with local.open("wb") as out:
            summary = write_archive(month, out)
        with local.open("rb") as written:
            sha256 = _sha256(written)
        location = store(local, to=to, name=name)
    with tempfile.TemporaryFile() as reread:
        fetch(location, reread)
        check = check_archive(reread)
    if not check.ok or check.sha256 != sha256 or check.records != summary["records"]:
        raise ArchiveRefused(
            f"The archive at {location} did not verify when read back; nothing was detached: "
            f"{check.problems[:3] or 'its sha256 differs from what was written'}"
        )
    with transaction.atomic():
        if partitioned and detach:
            _detach(month, expected=summary["records"], drop=drop)
        entry = AuditArchive.objects.create(
            month=month,
            location=location,
            sha256=sha256,
            records=summary["records"],
            first_seq=summary["first_seq"],
            last_seq=summary["last_seq"],
            first_prev_hash=summary["first_prev_hash"],
            last_hash=summary["last_hash"],
            detached=partitioned and detach,
            dropped=drop,
            created_at=stamp,
        )
    # A copy of the archive's hash outside the database, like the seal tip.
    logger.info(
        "audit_archived",
        extra={
            "month": f"{month:%Y-%m}",
            "location": location,
            "sha256": sha256,
            "records": summary["records"],
            "detached": entry.detached,
            "dropped": drop,
        },
    )
    return entry


def _detach(month: dt.date, *, expected: int, drop: bool) -> None:
    """Needs the owner's rights (``archive_audit`` connects as DATABASE_MIGRATE_URL)."""
    partitions.create_partition(month=month)  # moves the month out of DEFAULT if there
    name = partitions.partition_name(month)
    quoted = connection.ops.quote_name(name)
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {partitions.TABLE} DETACH PARTITION {quoted}")
        cursor.execute(f"SELECT count(*) FROM {quoted}")  # noqa: S608 - a partition's name
        (count,) = cursor.fetchone()
        if count != expected:
            raise ArchiveRefused(
                f"{month:%Y-%m} holds {count} record(s), the archive {expected}: a record "
                "arrived meanwhile; nothing was detached, archive again."
            )
        if drop:
            cursor.execute(f"DROP TABLE {quoted}")
        else:
            # Detaching removes the triggers cloned from the parent: append-only still.
            cursor.execute(
                f"CREATE TRIGGER {connection.ops.quote_name(name + '_no_change')} "
                f"BEFORE UPDATE OR DELETE ON {quoted} FOR EACH ROW "
                "EXECUTE FUNCTION audit_reject_change()"
            )


@dataclass(frozen=True)
class ArchivedRange:
    start: dt.datetime
    end: dt.datetime
    first_seq: int
    last_seq: int

    def holds(self, seq: int, text: str) -> bool:
        if not self.first_seq <= seq <= self.last_seq:
            return False
        timestamp = dt.datetime.fromisoformat(json.loads(text)["timestamp"])
        return self.start <= timestamp < self.end


def archived_ranges() -> list[ArchivedRange]:
    """The months detached with a verified archive: their sealed records are archived,
    not removed."""
    ranges = []
    for entry in AuditArchive.objects.filter(detached=True, first_seq__isnull=False):
        start, end = month_bounds(entry.month)
        ranges.append(ArchivedRange(start, end, entry.first_seq, entry.last_seq))
    return ranges


def is_archived(ranges: list[ArchivedRange], *, seq: int, text: str) -> bool:
    return any(r.holds(seq, text) for r in ranges)
