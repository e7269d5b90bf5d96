"""The named audit event of the reports app: a certificate of analysis issued, with the
document hash it carries, so that a printed certificate can be traced to its issue."""

from __future__ import annotations

from audit.capture import record_change
from audit.kinds import Kind
from batches.models import Batch

CERTIFICATE_ISSUED = "certificate_issued"

KINDS = (Kind(CERTIFICATE_ISSUED, "Certificate of analysis issued"),)


def certificate_issued(*, batch: Batch, document_hash: str) -> None:
    record_change(
        action=CERTIFICATE_ISSUED,
        instance=batch,
        site_id=batch.site_id,
        new_values={"document_hash": document_hash, "batch_number": batch.batch_number},
        changed_fields=["document_hash"],
    )
