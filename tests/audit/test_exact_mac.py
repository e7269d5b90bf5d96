"""What is MAC'd is what is stored: any JSON value, captured, stored in PostgreSQL's jsonb,
read back and verified, verifies. The reported false alarms (-0.0, 1e16, 1e30, 1.5e308
in an inspection result) are reproduced through the API first."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.canonical import json_safe, mac_ok
from audit.capture import record_event
from audit.models import AuditLog
from audit.sealing import seal, verify
from batches.choices import BatchStatus
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory
from tests.conftest import assign

REPORTED = [-0.0, 1e16, 1e30, 1.5e308]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=200),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=20), children, max_size=6)
    ),
    max_leaves=40,
)


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("value", REPORTED, ids=str)
def test_reported_inspection_values_verify_after_sealing(auth_client, value):
    qa = UserFactory()
    assign(qa, "admin")
    client = auth_client(qa)
    batch = BatchFactory(status=BatchStatus.QUARANTINE)
    result = {"parameter": "assay", "value": value, "unit": "%", "min": -1e308, "max": 1.6e308}

    response = client.post(
        "/api/inspections/",
        {"batch": str(batch.pk), "kind": "assay", "results": [result]},
        format="json",
    )
    seal()
    verified = client.get("/api/audit-logs/verify/")

    assert response.status_code == 201, response.content
    assert verified.json()["ok"] is True, verified.json()


@pytest.mark.postgres
@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values)
def test_any_json_value_round_trips_through_postgres_and_verifies(value):
    with transaction.atomic():
        record = record_event(
            action="update",
            resource_type="tests.anything",
            resource_id="1",
            new_values={"value": value, "nested": [{"value": value}]},
        )

    stored = AuditLog.objects.get(pk=record["id"])

    assert mac_ok(stored)
    assert stored.new_values == record["new_values"]


@pytest.mark.parametrize(
    ("given_value", "stored"),
    [
        (-0.0, 0.0),
        (1e16, 10**16),
        (1.5e308, 15 * 10**307),
        (1e-7, 1e-7),
        (0.1, 0.1),
        (float("nan"), "nan"),
        ("a\x00b", "a\ufffdb"),
        ("\ud800", "\ufffd"),
    ],
    ids=repr,
)
def test_values_are_written_as_jsonb_returns_them(given_value, stored):
    assert json_safe({"v": given_value}) == {"v": stored}


@pytest.mark.postgres
@pytest.mark.django_db
def test_verify_is_ok_over_records_of_every_kind():
    with transaction.atomic():
        for value in [*REPORTED, "x\x00y", {"deep": [[[1e20]]]}]:
            record_event(
                action="update",
                resource_type="tests.anything",
                resource_id="2",
                new_values={"value": value},
            )
    seal()

    assert verify().ok
