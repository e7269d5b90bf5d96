"""The seal chain's links: each seal's hash is keyed over the previous hash and the
record's canonical text, from ``GENESIS``. Shared by sealing (which writes and verifies
the chain) and archiving (which checks an archive's lines against it)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef

from audit.canonical import chain_key
from audit.models import AuditLog, AuditSeal

GENESIS = "0" * 64


def chain_hash(prev_hash: str, text: str) -> str:
    """Keyed, so the chain cannot be rebuilt without the key after rows are removed."""
    return hmac.new(
        chain_key(settings.AUDIT_HMAC_KEY), f"{prev_hash}\n{text}".encode(), hashlib.sha256
    ).hexdigest()


def unsealed() -> Any:
    """The records no seal names yet."""
    return AuditLog.objects.filter(~Exists(AuditSeal.objects.filter(log_id=OuterRef("pk"))))
