"""A chain that cannot be cut short: the head witnessed outside the database shows the
newest seals deleted with their records, and the sealing lag bounds how long a record
can wait unsealed (and so unwitnessed)."""

import datetime as dt
import json
import shutil
import subprocess
import time
import urllib.request

import boto3
import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from audit import sealing, witness
from audit.canonical import canonical_text, mac
from audit.capture import build
from audit.choices import Action
from audit.models import AuditSeal, SealState
from audit.store import insert
from tests.audit.helpers import behind_the_applications_back as _as_superuser
from tools.harness import HOST, free_port, stop


def _record(n=1, *, age=dt.timedelta(0)):
    """``n`` records as the application writes them, ``age`` old."""
    records = []
    for _ in range(n):
        record = build(action=Action.UPDATE, resource_type="sites.site")
        record["timestamp"] = (timezone.now() - age).isoformat(timespec="microseconds")
        record["mac"] = mac(canonical_text(record))
        records.append(record)
    with transaction.atomic():
        insert(records)
    return [r["id"] for r in records]


def _cut_newest(n, *, checkpoints_too=True):
    """Delete the newest ``n`` seals and their records (and every checkpoint)."""
    victims = list(AuditSeal.objects.order_by("-seq").values_list("log_id", flat=True)[:n])
    _as_superuser("DELETE FROM audit_auditlog WHERE id = ANY(%s)", [victims])
    _as_superuser(
        "DELETE FROM audit_auditseal WHERE seq IN "
        "(SELECT seq FROM audit_auditseal ORDER BY seq DESC LIMIT %s)",
        [n],
    )
    if checkpoints_too:
        _as_superuser("DELETE FROM audit_auditcheckpoint")


def _kinds(result):
    return [p["problem"] for p in result.problems]


@pytest.fixture
def presealed(db):
    """Records the setup left (roles, users) sealed before a witness is configured."""
    sealing.seal()


@pytest.fixture
def file_witness(presealed, tmp_path):
    path = tmp_path / "witness" / "heads.jsonl"
    path.parent.mkdir()
    with override_settings(AUDIT_WITNESS_PATH=str(path)):
        yield path


@pytest.fixture
def chain(file_witness):
    """60 records sealed, witnessed and verified (a checkpoint at the tip)."""
    _record(60)
    sealing.seal()
    result = sealing.verify()
    assert result.ok, result.as_dict()
    return AuditSeal.objects.order_by("-seq").first()


# --- the file witness --------------------------------------------------------------


def test_file_witness_appends_one_line_per_head_and_reads_the_last(tmp_path):
    path = tmp_path / "heads.jsonl"
    store = witness.FileWitness(path)
    assert store.last() is None

    store.write(witness.Head(seq=1, hash="a" * 64, sealed_at="2026-01-01T00:00:00+00:00"))
    store.write(witness.Head(seq=2, hash="b" * 64, sealed_at="2026-01-01T00:01:00+00:00"))
    with path.open("a") as file:
        file.write('{"seq": 3, "hash": "cc')  # a write torn by a crash

    assert [json.loads(line)["seq"] for line in path.read_text().splitlines()[:2]] == [1, 2]
    assert store.last() == witness.Head(seq=2, hash="b" * 64, sealed_at="2026-01-01T00:01:00+00:00")


@pytest.mark.django_db
def test_every_sealing_batch_is_witnessed_on_disk(file_witness, monkeypatch):
    monkeypatch.setattr(sealing, "SEAL_BATCH", 10)
    _record(25)

    sealing.seal()

    heads = [json.loads(line) for line in file_witness.read_text().splitlines()]
    tip = AuditSeal.objects.order_by("-seq").first()
    assert [h["seq"] for h in heads] == [tip.seq - 15, tip.seq - 5, tip.seq]
    assert heads[-1]["hash"] == tip.hash
    result = sealing.verify()
    assert result.ok, result.as_dict()
    assert result.witness == {**heads[-1], "witness": "file"}


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_witness_that_cannot_be_written_loses_no_seal_and_is_reported(
    presealed, tmp_path, caplog
):
    missing_dir = tmp_path / "not-mounted" / "heads.jsonl"
    with override_settings(AUDIT_WITNESS_PATH=str(missing_dir), AUDIT_SEAL_MAX_LAG_SECONDS=60):
        ids = _record(3)
        assert sealing.seal() == 3
        assert AuditSeal.objects.filter(log_id__in=ids).count() == 3
        assert "audit_witness_write_failed" in caplog.text
        assert sealing.verify().ok  # a fresh seal: the witness may still catch up
        # Five minutes later, the sealer still running and the witness still missing:
        _as_superuser("UPDATE audit_auditseal SET sealed_at = now() - interval '5 minutes'")

        result = sealing.verify()

        assert _kinds(result) == ["witness_behind"]
        missing_dir.parent.mkdir()
        sealing.seal()  # nothing new: the tip is written to the witness left behind
        assert sealing.verify().ok


# --- truncation ----------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("n", [1, 3, 50])
def test_newest_seals_deleted_with_their_records_are_reported(chain, n):
    _cut_newest(n)

    for full in (False, True):
        result = sealing.verify(full=full)
        assert not result.ok
        assert _kinds(result) == ["truncated"], result.as_dict()
        assert result.seq == chain.seq - n + 1
        assert str(chain.seq) in result.detail


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_without_a_witness_the_latest_checkpoint_still_shows_the_cut(chain):
    _cut_newest(3, checkpoints_too=False)

    with override_settings(AUDIT_WITNESS_PATH=""):
        result = sealing.verify()

    assert _kinds(result) == ["truncated"]
    assert "checkpoint" in result.detail


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_chain_cut_and_grown_again_is_a_witness_mismatch(chain, caplog):
    _cut_newest(3)
    _record(5)  # new records sealed where the removed ones were

    sealing.seal()

    assert "audit_witness_disagrees" in caplog.text
    result = sealing.verify()
    assert _kinds(result) == ["witness_mismatch"]
    assert result.seq == chain.seq
    assert AuditSeal.objects.order_by("-seq").first().seq == chain.seq + 2


# --- unsealed records and the sealing lag --------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_every_unsealed_record_deleted_while_the_sealer_was_stopped_is_reported(chain):
    """Records never sealed were never witnessed: what shows is that they waited longer
    than the bound (each, while they exist) and that the sealer stopped (after)."""
    SealState.objects.filter(id=1).update(last_sealed_at=timezone.now() - dt.timedelta(minutes=10))
    waiting = _record(4, age=dt.timedelta(minutes=9))

    # Full: records written before the latest checkpoint's window are not read by an
    # incremental run until they are sealed (the stopped sealer is, either way).
    before = sealing.verify(full=True)

    assert sorted(p["row_id"] for p in before.problems if p["row_id"]) == sorted(waiting)
    assert _kinds(before) == ["seal_lag"] * 5

    _as_superuser("DELETE FROM audit_auditlog WHERE id = ANY(%s)", [waiting])
    assert sealing.backlog()["unsealed"] == 0

    for full in (False, True):
        after = sealing.verify(full=full)
        assert _kinds(after) == ["seal_lag"]
        assert after.row_id is None
        assert "sealer last ran" in after.detail


@pytest.mark.django_db
def test_records_waiting_less_than_the_bound_are_no_problem(chain):
    _record(2, age=dt.timedelta(seconds=30))

    result = sealing.verify()

    assert result.ok, result.as_dict()
    assert result.unsealed == 2


# --- S3 (moto in server mode) --------------------------------------------------------


@pytest.fixture
def s3_endpoint():
    server = shutil.which("moto_server")
    if server is None:
        pytest.skip("moto_server is not installed (pip install 'moto[server]')")
    port = free_port()
    process = subprocess.Popen(
        [server, "-H", HOST, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        stop(process)


@pytest.fixture
def s3_bucket(s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket="audit-witness", ObjectLockEnabledForBucket=True)
    return client


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_s3_witness_keeps_one_locked_object_per_head_and_shows_the_cut(
    presealed, s3_endpoint, s3_bucket
):
    with override_settings(
        AUDIT_WITNESS_URL="s3://audit-witness/pharma/heads",
        AUDIT_WITNESS_S3_ENDPOINT_URL=s3_endpoint,
        AUDIT_WITNESS_RETENTION_DAYS=1,
    ):
        _record(3)
        sealing.seal()
        _record(2)
        sealing.seal()
        tip = AuditSeal.objects.order_by("-seq").first()

        keys = [o["Key"] for o in s3_bucket.list_objects_v2(Bucket="audit-witness")["Contents"]]
        assert keys == [
            f"pharma/heads/{tip.seq - 2:020d}.json",
            f"pharma/heads/{tip.seq:020d}.json",
        ]
        locked = s3_bucket.head_object(Bucket="audit-witness", Key=keys[-1])
        assert locked["ObjectLockMode"] == "COMPLIANCE"
        assert locked["ObjectLockRetainUntilDate"] > dt.datetime.now(dt.UTC)
        result = sealing.verify()
        assert result.ok, result.as_dict()
        assert (result.witness["seq"], result.witness["witness"]) == (tip.seq, "s3")

        _cut_newest(1)

        assert _kinds(sealing.verify()) == ["truncated"]


def test_s3_witness_url_must_name_a_bucket():
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        witness.S3Witness("https://example.com/heads")
