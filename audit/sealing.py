"""Tamper evidence: seal new records into a hash chain, and verify the chain.

Sealing picks records that have no seal yet (ids do not commit in order, so no
watermark), oldest first by (timestamp, id), checks each record's MAC and appends a
link ``hash = HMAC-SHA256(key, prev_hash + "\\n" + text)`` where ``text`` is the record's
canonical text, stored exactly as hashed. A record whose MAC does not verify is not
sealed: it was written or changed behind the application's back, and ``verify`` names
it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from audit.canonical import canonical_text, chain_key, mac
from audit.models import AuditLog, AuditSeal, SealState

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
SEAL_BATCH = 2000
MAX_PROBLEMS = 100


def chain_hash(prev_hash: str, text: str) -> str:
    """Keyed, so the chain cannot be rebuilt without the key after rows are removed."""
    return hmac.new(
        chain_key(settings.AUDIT_HMAC_KEY), f"{prev_hash}\n{text}".encode(), hashlib.sha256
    ).hexdigest()


def unsealed() -> Any:
    return AuditLog.objects.filter(~Exists(AuditSeal.objects.filter(log_id=OuterRef("pk"))))


def seal(*, limit: int | None = None) -> int:
    """Seal every record not sealed yet; returns how many were sealed."""
    total = 0
    while limit is None or total < limit:
        with transaction.atomic():
            SealState.objects.get_or_create(id=1)
            # Serialise sealers: the chain has one tip.
            SealState.objects.select_for_update().get(id=1)
            last = AuditSeal.objects.order_by("-seq").only("seq", "hash").first()
            prev = last.hash if last else GENESIS
            # Numbers are given here, under the lock, not by the database sequence:
            # PostgreSQL does not roll a sequence back, and a gap would read as a removal.
            seq = last.seq if last else 0
            rows = list(unsealed().order_by("timestamp", "id")[:SEAL_BATCH])
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
            # The tip, written to the logs: a copy outside the database that a verifier
            # can compare against, which catches even the newest links being removed.
            logger.info(
                "audit_sealed", extra={"seal_seq": seq, "seal_tip": prev, "sealed": len(links)}
            )
        total += len(links)
        if len(rows) < SEAL_BATCH or not links:
            break
    return total


@dataclass
class Verification:
    ok: bool = True
    sealed: int = 0
    records: int = 0
    unsealed: int = 0
    archived: int = 0  # sealed records detached with a verified archive (audit/archive.py)
    oldest_unsealed_age_seconds: float | None = None
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


def verify() -> Verification:
    """Recompute the chain and every record's MAC; name every problem found (the first
    ``MAX_PROBLEMS`` of them, and how many there were)."""
    result = Verification()
    prev = GENESIS
    expected_seq: int | None = None
    seals = AuditSeal.objects.order_by("seq").iterator(chunk_size=2000)
    for link in seals:
        result.sealed += 1
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
    from audit.archive import archived_ranges, is_archived

    # Months detached with a verified archive: their seals stay, their records left.
    archived = archived_ranges()
    # Records against seals, both streamed in id order (constant memory): each sealed
    # record must still read as sealed; every record's MAC must verify (a row inserted
    # or edited without the key fails); a seal without its record means a removal.
    rows = AuditLog.objects.order_by("id").iterator(chunk_size=2000)
    links = AuditSeal.objects.order_by("log_id").values_list("log_id", "text", "seq")
    link_iter = links.iterator(chunk_size=2000)
    oldest_unsealed = None
    row = next(rows, None)
    link = next(link_iter, None)
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
        result.records += 1
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
        else:
            link = next(link_iter, None)
        row = next(rows, None)
    if oldest_unsealed is not None:
        result.oldest_unsealed_age_seconds = round(
            (timezone.now() - oldest_unsealed).total_seconds(), 3
        )
    SealState.objects.update_or_create(
        id=1, defaults={"last_verified_at": timezone.now(), "last_verification_ok": result.ok}
    )
    return result


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
