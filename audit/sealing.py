"""Tamper evidence: seal new records into a hash chain, witness its head outside the
database, and verify the chain.

Sealing picks records that have no seal yet (ids do not commit in order, so no
watermark), oldest first by (timestamp, id), checks each record's MAC and appends a
link ``hash = HMAC-SHA256(key, prev_hash + "\\n" + text)`` where ``text`` is the record's
canonical text, stored exactly as hashed. A record whose MAC does not verify is not
sealed: it was written or changed behind the application's back, and ``verify`` names
it.

After each committed batch the chain's head is written to the witnesses
(``audit.witness``): a copy the database's superuser cannot reach, against which
``verify`` sees the newest seals deleted with their records (``truncated``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from audit import witness
from audit.archive import archived_ranges, is_archived
from audit.canonical import canonical_text, mac
from audit.chain import GENESIS, chain_hash, unsealed
from audit.models import AuditCheckpoint, AuditLog, AuditSeal, SealState

logger = logging.getLogger(__name__)

SEAL_BATCH = 2000
MAX_PROBLEMS = 100


def _lookback_start(last: AuditSeal | None) -> Any:
    """Where the search for unsealed records starts: ``AUDIT_SEAL_LOOKBACK_SECONDS``
    before the newest sealed record's timestamp. A record is stamped when it is built,
    inside its change's transaction, so one older than that which commits later
    belongs to a transaction open for longer than the lookback; it stays unsealed,
    ``verify`` reports it (``seal_lag``), and ``seal_audit --all`` seals it. Without the
    bound, each run's anti-join would walk the whole trail (minutes at 10^7 records)."""
    if last is None:
        return None
    newest = AuditLog.objects.filter(pk=last.log_id).values_list("timestamp", flat=True).first()
    if newest is None:
        return None
    return newest - dt.timedelta(seconds=settings.AUDIT_SEAL_LOOKBACK_SECONDS)


def seal(*, limit: int | None = None, everything: bool = False) -> int:
    """Seal the records not sealed yet (those stamped within the lookback of the newest
    sealed one; ``everything``: all of them); returns how many were sealed."""
    total = 0
    while limit is None or total < limit:
        with transaction.atomic():
            SealState.objects.get_or_create(id=1)
            # Serialise sealers: the chain has one tip.
            SealState.objects.select_for_update().get(id=1)
            last = AuditSeal.objects.order_by("-seq").only("seq", "hash", "log_id").first()
            prev = last.hash if last else GENESIS
            # Numbers are given here, under the lock, not by the database sequence:
            # PostgreSQL does not roll a sequence back, and a gap would read as a removal.
            seq = last.seq if last else 0
            waiting = unsealed()
            start = None if everything else _lookback_start(last)
            if start is not None:
                waiting = waiting.filter(timestamp__gte=start)
            rows = list(waiting.order_by("timestamp", "id")[:SEAL_BATCH])
            links = []
            for row in rows:
                text = canonical_text(row)
                if mac(text) != row.mac:
                    logger.error("audit_record_mac_invalid", extra={"log_id": str(row.pk)})
                    continue
                seq += 1
                link_hash = chain_hash(prev, text)
                links.append(
                    AuditSeal(seq=seq, log_id=row.pk, text=text, prev_hash=prev, hash=link_hash)
                )
                prev = link_hash
            AuditSeal.objects.bulk_create(links)
            SealState.objects.filter(id=1).update(last_sealed_at=timezone.now())
        if links:
            _witness(witness.Head(seq=seq, hash=prev, sealed_at=_iso(links[-1].sealed_at)))
            logger.info(
                "audit_sealed", extra={"seal_seq": seq, "seal_tip": prev, "sealed": len(links)}
            )
        total += len(links)
        if len(rows) < SEAL_BATCH or not links:
            break
    if not total:
        _witness_catch_up()
    return total


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _witness_catch_up() -> None:
    """A run with nothing to seal writes the tip to a witness left behind by a failed
    write (or configured after the chain began)."""
    if not witness.configured():
        return
    tip = AuditSeal.objects.order_by("-seq").only("seq", "hash", "sealed_at").first()
    if tip is not None:
        _witness(witness.Head(seq=tip.seq, hash=tip.hash, sealed_at=_iso(tip.sealed_at)))


def _witness(head: witness.Head) -> None:
    """Write ``head`` to every witness behind it, after the commit (a head witnessed is
    a head that exists). A witness whose last head is not in the chain any more (the
    chain was cut and grew again) is left as it is, for ``verify`` to name; a failure
    is logged, never raised: the seal is committed, and ``verify`` reports the witness
    as behind."""
    for each in witness.configured():
        try:
            last = each.last()
            if (
                last is not None
                and not AuditSeal.objects.filter(seq=last.seq, hash=last.hash).exists()
            ):
                logger.error(
                    "audit_witness_disagrees",
                    extra={"witness": each.name, "witnessed_seq": last.seq, "seal_seq": head.seq},
                )
            elif last is None or last.seq < head.seq:
                each.write(head)
        except Exception:
            logger.exception(
                "audit_witness_write_failed", extra={"witness": each.name, "seal_seq": head.seq}
            )


@dataclass
class Verification:
    ok: bool = True
    # "incremental": from the latest valid checkpoint; "full": from the first seal.
    mode: str = "full"
    checkpoint_seq: int | None = None
    sealed: int = 0
    records: int = 0
    unsealed: int = 0
    archived: int = 0  # sealed records detached with a verified archive (audit/archive.py)
    checked_seals: int = 0
    checked_records: int = 0
    oldest_unsealed_age_seconds: float | None = None
    # The highest head the witnesses hold (with the witness's name), or None.
    witness: dict[str, Any] | None = None
    problem: str | None = None
    row_id: str | None = None
    seq: int | None = None
    detail: str = ""
    # Every problem found, in the order found, the first MAX_PROBLEMS of them; the first
    # is also in the fields above.
    problems: list[dict[str, Any]] = field(default_factory=list)
    problem_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def fail(
        self, problem: str, *, row_id: Any = None, seq: int | None = None, detail: str = ""
    ) -> None:
        row = str(row_id) if row_id is not None else None
        if self.ok:
            self.ok, self.problem, self.detail = False, problem, detail
            self.row_id = row
            self.seq = seq
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append({"problem": problem, "row_id": row, "seq": seq, "detail": detail})

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        return data


@lru_cache(maxsize=4)
def _checkpoint_key(secret: str) -> bytes:
    return hashlib.sha256(b"audit-checkpoint:" + secret.encode()).digest()


def checkpoint_signature(checkpoint: AuditCheckpoint) -> str:
    key = _checkpoint_key(settings.AUDIT_HMAC_KEY)
    return hmac.new(key, checkpoint.text().encode(), hashlib.sha256).hexdigest()


def verify(*, full: bool = False) -> Verification:
    """Check the chain, the records' MACs, the witnesses and the sealing lag; name every
    problem found (the first ``MAX_PROBLEMS`` of them, and how many there were).

    Incremental (the default) starts from the latest checkpoint whose signature
    verifies and reads only the seals after it, the records they seal and the unsealed
    records; a record sealed before the checkpoint and changed since is seen only by a
    full run (``full=True``, from the first seal), which auditors run periodically. A
    run that finds nothing wrong writes a new checkpoint at the tip it checked.
    """
    result = Verification(mode="full" if full else "incremental")
    latest = AuditCheckpoint.objects.order_by("-id").first()
    if latest is not None and not hmac.compare_digest(
        checkpoint_signature(latest), latest.signature
    ):
        result.fail(
            "checkpoint_invalid",
            seq=latest.seq,
            detail="The latest checkpoint's signature does not verify: it was written or "
            "changed without the audit key. This run checked everything.",
        )
        latest = None
    start = None if full else _usable(latest)
    if start is None:
        result.mode = "full"
    else:
        result.checkpoint_seq = start.seq
    tip_seq, tip_hash = _check_chain(result, start)
    sealed_before = start.records if start else 0
    oldest = _check_sealed_records(result, start, tip_seq)
    if start is not None:
        oldest = _check_unsealed_records(result, start)
    result.records = sealed_before + result.checked_records
    now = timezone.now()
    if oldest is not None:
        result.oldest_unsealed_age_seconds = round((now - oldest).total_seconds(), 3)
    _check_witnesses(result, tip_seq, now=now)
    if latest is not None and latest.seq > tip_seq:
        _truncated(result, tip_seq, latest.seq, "the latest checkpoint")
    _check_sealer(result, now=now)
    if result.ok and tip_seq:
        _write_checkpoint(
            seq=tip_seq,
            hash=tip_hash,
            records=result.records - result.unsealed,
            window_start=min(oldest or now, now - _max_lag()),
            verified_at=now,
        )
    SealState.objects.update_or_create(
        id=1, defaults={"last_verified_at": now, "last_verification_ok": result.ok}
    )
    return result


def _max_lag() -> dt.timedelta:
    return dt.timedelta(seconds=settings.AUDIT_SEAL_MAX_LAG_SECONDS)


def _usable(checkpoint: AuditCheckpoint | None) -> AuditCheckpoint | None:
    """The checkpoint, if its seal is still there as it was checked; otherwise the run
    is a full one (which names what changed)."""
    if checkpoint is None:
        return None
    link = AuditSeal.objects.filter(seq=checkpoint.seq).values_list("hash", flat=True).first()
    return checkpoint if link == checkpoint.hash else None


def _write_checkpoint(**values: Any) -> None:
    checkpoint = AuditCheckpoint(**values)
    checkpoint.signature = checkpoint_signature(checkpoint)
    checkpoint.save()


def _check_chain(result: Verification, start: AuditCheckpoint | None) -> tuple[int, str]:
    """Walk the links after ``start`` (or all); returns the tip's seq and hash."""
    prev = start.hash if start else GENESIS
    tip_seq = start.seq if start else 0
    # From the first seal, numbering is checked from the first link found.
    expected_seq: int | None = start.seq + 1 if start else None
    seals = AuditSeal.objects.filter(seq__gt=tip_seq).order_by("seq")
    for link in seals.iterator(chunk_size=2000):
        result.checked_seals += 1
        if expected_seq is not None and link.seq != expected_seq:
            result.fail(
                "seal_removed",
                seq=expected_seq,
                detail=f"Seal #{expected_seq} is missing from the chain.",
            )
        expected_seq = link.seq + 1
        if link.prev_hash != prev or chain_hash(prev, link.text) != link.hash:
            result.fail(
                "chain_broken",
                row_id=link.log_id,
                seq=link.seq,
                detail=f"Seal #{link.seq} does not follow from the one before it.",
            )
        prev = link.hash
        tip_seq = link.seq
    result.sealed = (start.seq if start else 0) + result.checked_seals
    return tip_seq, prev


def _check_sealed_records(result: Verification, start: AuditCheckpoint | None, tip_seq: int) -> Any:
    """Records against their seals (after ``start``), both streamed in id order
    (constant memory): each must still read as sealed and its MAC verify; a seal
    without its record means a removal. From the first seal every record is read,
    sealed or not, and the oldest unsealed record's timestamp is returned."""
    # Up to the tip the chain walk saw: a link sealed since is the next run's.
    links = AuditSeal.objects.filter(seq__lte=tip_seq).order_by("log_id")
    rows = AuditLog.objects.order_by("id")
    if start is not None:
        links = links.filter(seq__gt=start.seq)
        rows = rows.filter(Exists(links.filter(log_id=OuterRef("pk"))))
    return _merge(result, rows, links)


def _check_unsealed_records(result: Verification, start: AuditCheckpoint) -> Any:
    """The unsealed records written since the checkpoint's window start; returns the
    oldest one's timestamp. One written with an older timestamp is read once sealed."""
    rows = unsealed().filter(timestamp__gte=start.window_start).order_by("id")
    return _merge(result, rows, AuditSeal.objects.none())


def _merge(result: Verification, rows: QuerySet[AuditLog], links: QuerySet[AuditSeal]) -> Any:
    lag_bound = timezone.now() - _max_lag()
    # Months detached with a verified archive: their seals stay, their records left.
    archived = archived_ranges()
    # The links are read first: a seal committed after that is not taken for a removal.
    link_iter = links.values_list("log_id", "text", "seq").iterator(chunk_size=2000)
    link: Any = next(link_iter, None)
    row_iter = rows.iterator(chunk_size=2000)
    row: Any = next(row_iter, None)
    oldest_unsealed = None
    while row is not None or link is not None:
        if link is not None and (row is None or link[0] < row.pk):
            if archived and is_archived(archived, seq=link[2], text=link[1]):
                result.archived += 1
                link = next(link_iter, None)
                continue
            result.fail(
                "removed",
                row_id=link[0],
                seq=link[2],
                detail="A sealed record is no longer in the table.",
            )
            link = next(link_iter, None)
            continue
        result.checked_records += 1
        text = canonical_text(row)
        sealed_text = link[1] if link is not None and link[0] == row.pk else None
        if sealed_text is not None and sealed_text != text:
            result.fail(
                "altered",
                row_id=row.pk,
                seq=link[2],
                detail="The record differs from what was sealed.",
            )
        elif mac(text) != row.mac:
            result.fail(
                "inserted" if sealed_text is None else "altered",
                row_id=row.pk,
                detail="The record's MAC does not verify: it was written or changed "
                "outside the application.",
            )
        if sealed_text is None:
            result.unsealed += 1
            if oldest_unsealed is None or row.timestamp < oldest_unsealed:
                oldest_unsealed = row.timestamp
            if row.timestamp < lag_bound:
                result.fail(
                    "seal_lag",
                    row_id=row.pk,
                    detail=f"Unsealed for longer than {settings.AUDIT_SEAL_MAX_LAG_SECONDS} s "
                    f"(written {_iso(row.timestamp)}); `seal_audit --all` seals records "
                    "stamped before the sealer's lookback.",
                )
        else:
            link = next(link_iter, None)
        row = next(row_iter, None)
    return oldest_unsealed


def _truncated(result: Verification, tip_seq: int, seen_seq: int, seen_by: str) -> None:
    result.fail(
        "truncated",
        seq=tip_seq + 1,
        detail=f"The chain ends at seal #{tip_seq} but {seen_by} saw seal #{seen_seq}: "
        "the newest seals were removed, with their records.",
    )


def _check_witnesses(result: Verification, tip_seq: int, *, now: dt.datetime) -> None:
    for each in witness.configured():
        try:
            head = each.last()
        except Exception as error:
            logger.exception("audit_witness_read_failed", extra={"witness": each.name})
            result.fail("witness_unavailable", detail=f"The {each.name} witness: {error}")
            continue
        if head is not None and (result.witness is None or head.seq > result.witness["seq"]):
            result.witness = {**head.as_dict(), "witness": each.name}
        witnessed = 0 if head is None else head.seq
        if witnessed > tip_seq:
            _truncated(result, tip_seq, witnessed, f"the {each.name} witness")
            continue
        if head is not None:
            link = AuditSeal.objects.filter(seq=head.seq).values_list("hash", flat=True).first()
            if link != head.hash:
                result.fail(
                    "witness_mismatch",
                    seq=head.seq,
                    detail=f"Seal #{head.seq} is not the one the {each.name} witness saw.",
                )
        first_unwitnessed = (
            AuditSeal.objects.filter(seq__gt=witnessed)
            .order_by("seq")
            .values_list("seq", "sealed_at")
            .first()
        )
        if first_unwitnessed and first_unwitnessed[1] < now - _max_lag():
            result.fail(
                "witness_behind",
                seq=first_unwitnessed[0],
                detail=f"The {each.name} witness holds seal #{witnessed}; the seals from "
                f"#{first_unwitnessed[0]} on were not written to it.",
            )


def _check_sealer(result: Verification, *, now: dt.datetime) -> None:
    """A sealer that stopped leaves new records unsealed, and records deleted before
    they are sealed leave no trace: a last run older than the bound is a problem."""
    state = SealState.objects.filter(id=1).values_list("last_sealed_at", flat=True).first()
    if state is not None and state < now - _max_lag():
        result.fail(
            "seal_lag",
            detail=f"The sealer last ran at {_iso(state)}, more than "
            f"{settings.AUDIT_SEAL_MAX_LAG_SECONDS} s ago.",
        )


def backlog() -> dict[str, Any]:
    """Records waiting to be sealed and the age of the oldest."""
    waiting = unsealed()
    oldest = waiting.order_by("timestamp").values_list("timestamp", flat=True).first()
    return {
        "unsealed": waiting.count(),
        "oldest_unsealed_age_seconds": (
            round((timezone.now() - oldest).total_seconds(), 3) if oldest else None
        ),
    }
