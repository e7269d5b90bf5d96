"""Copies of the seal chain's head kept outside the database.

A database superuser who deletes the newest seals together with their records leaves a
chain that is consistent in itself: only a copy of the head they cannot reach shows
that it was longer. After each committed sealing batch the head (seq, hash, sealed_at)
is written to every configured witness; ``verify`` compares the chain with the last
head witnessed.

- ``FileWitness`` (``AUDIT_WITNESS_PATH``): JSON lines appended with ``O_APPEND`` and
  fsync'd, on a volume other than the database's (ideally append-only for the service's
  OS user: ``chattr +a``).
- ``S3Witness`` (``AUDIT_WITNESS_URL=s3://bucket/prefix``): one object per head, its key
  the zero-padded seq so that key order is chain order, written with object-lock
  retention when the bucket has object lock enabled.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings

SEQ_DIGITS = 20  # a bigint's largest value has 19 digits
TAIL_BYTES = 4096  # enough for the last line of the file


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    sealed_at: str  # ISO 8601, UTC

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Head:
        return cls(seq=int(data["seq"]), hash=str(data["hash"]), sealed_at=str(data["sealed_at"]))


class Witness(Protocol):
    name: str

    def write(self, head: Head) -> None: ...

    def last(self) -> Head | None: ...


class FileWitness:
    name = "file"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def write(self, head: Head) -> None:
        line = json.dumps(head.as_dict(), sort_keys=True, separators=(",", ":")) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def last(self) -> Head | None:
        """The last complete line: a line torn by a crash mid-write is skipped."""
        try:
            with self.path.open("rb") as file:
                size = file.seek(0, os.SEEK_END)
                file.seek(max(0, size - TAIL_BYTES))
                tail = file.read()
        except FileNotFoundError:
            return None
        for line in reversed(tail.splitlines()):
            try:
                return Head.parse(json.loads(line))
            except (ValueError, KeyError, TypeError):
                continue
        return None


class S3Witness:
    name = "s3"

    def __init__(self, url: str, *, endpoint_url: str = "", retention_days: int = 0) -> None:
        import boto3

        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"AUDIT_WITNESS_URL must be s3://bucket/prefix, not {url!r}")
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/") + "/" if parts.path.strip("/") else ""
        self.retention_days = retention_days
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None)

    def key(self, seq: int) -> str:
        return f"{self.prefix}{seq:0{SEQ_DIGITS}d}.json"

    def _locked(self) -> bool:
        from botocore.exceptions import ClientError

        try:
            config = self.client.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError:
            return False
        lock: dict[str, str] = config.get("ObjectLockConfiguration", {})
        return lock.get("ObjectLockEnabled") == "Enabled"

    def write(self, head: Head) -> None:
        extra: dict[str, Any] = {}
        if self.retention_days and self._locked():
            extra = {
                "ObjectLockMode": "COMPLIANCE",
                "ObjectLockRetainUntilDate": dt.datetime.now(dt.UTC)
                + dt.timedelta(days=self.retention_days),
            }
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.key(head.seq),
            Body=json.dumps(head.as_dict(), sort_keys=True).encode(),
            ContentType="application/json",
            **extra,
        )

    def last(self) -> Head | None:
        """The greatest key: listing is in key order, so every page but the last is
        skipped by key (``StartAfter`` the previous page's last key)."""
        last_key = None
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix}
        while True:
            page = self.client.list_objects_v2(**kwargs)
            contents = page.get("Contents", [])
            if contents:
                last_key = contents[-1]["Key"]
            if not page.get("IsTruncated"):
                break
            kwargs["StartAfter"] = last_key
        if last_key is None:
            return None
        body = self.client.get_object(Bucket=self.bucket, Key=last_key)["Body"].read()
        return Head.parse(json.loads(body))


@lru_cache(maxsize=4)
def _configured(path: str, url: str, endpoint_url: str, retention_days: int) -> tuple[Witness, ...]:
    witnesses: list[Witness] = []
    if path:
        witnesses.append(FileWitness(path))
    if url:
        witnesses.append(S3Witness(url, endpoint_url=endpoint_url, retention_days=retention_days))
    return tuple(witnesses)


def configured() -> tuple[Witness, ...]:
    """The witnesses the settings name (none: the chain's head is only in the database)."""
    return _configured(
        settings.AUDIT_WITNESS_PATH,
        settings.AUDIT_WITNESS_URL,
        settings.AUDIT_WITNESS_S3_ENDPOINT_URL,
        settings.AUDIT_WITNESS_RETENTION_DAYS,
    )
