"""The sealer's search is bounded: it reads records stamped within the lookback of the
newest sealed one, not the whole trail; an older straggler is reported, not lost."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit import sealing
from audit.canonical import canonical_text, mac
from audit.capture import build
from audit.models import AuditSeal
from audit.store import insert

pytestmark = pytest.mark.django_db


def _record(*, age=dt.timedelta(0)):
    record = build(action="create", resource_type="tests.lookback")
    record["timestamp"] = (timezone.now() - age).isoformat(timespec="microseconds")
    record["mac"] = mac(canonical_text(record))
    insert([record])
    return record["id"]


def test_a_straggler_older_than_the_lookback_waits_is_reported_and_sealed_on_demand(settings):
    settings.AUDIT_SEAL_LOOKBACK_SECONDS = 3600
    sealing.seal(everything=True)
    _record()
    sealing.seal()
    straggler = _record(age=dt.timedelta(hours=2))
    fresh = _record()

    with CaptureQueriesContext(connection) as queries:
        sealing.seal()

    sealed = set(AuditSeal.objects.values_list("log_id", flat=True))
    assert fresh in {str(i) for i in sealed}
    assert straggler not in {str(i) for i in sealed}
    search = [q["sql"] for q in queries if "NOT EXISTS" in q["sql"].upper()]
    assert search and all('"timestamp" >=' in sql for sql in search), search
    result = sealing.verify(full=True)
    assert any(p["problem"] == "seal_lag" and p["row_id"] == straggler for p in result.problems)

    assert sealing.seal(everything=True) == 1
    assert straggler in {str(i) for i in AuditSeal.objects.values_list("log_id", flat=True)}
