"""POST /api/serials/status/: legal moves, all or nothing, scope, audit, concurrency."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditLog
from batches.choices import BatchStatus
from core import reasons
from serializations import events as serial_events
from serializations.choices import DecommissionReason, SerialStatus
from serializations.models import SerialNumber
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory, gtin14
from tests.conftest import assign
from tests.serializations.factories import make_serials
from tests.sites.factories import SiteFactory

URL = "/api/serials/status/"
# Every move needs a reason for change; tests/audit/test_reasons.py tests that rule.
REASON = "Shipped to the wholesaler"
LONG_AGO = timezone.now() - dt.timedelta(days=30)

C, P, S, DI, DE = (
    SerialStatus.COMMISSIONED,
    SerialStatus.PACKED,
    SerialStatus.SHIPPED,
    SerialStatus.DISPENSED,
    SerialStatus.DECOMMISSIONED,
)


def code(row):
    return f"(01){row.gtin}(21){row.serial}"


def ref(row):
    return {"gtin": row.gtin, "serial": row.serial}


def states(rows):
    """(status, reason, status_changed_at) of each row as stored now."""
    by_id = {
        r.pk: (r.status, r.decommission_reason, r.status_changed_at)
        for r in SerialNumber.objects.filter(pk__in=[row.pk for row in rows])
    }
    return [by_id[row.pk] for row in rows]


def aged(rows):
    """Push the rows' status time into the past, so a move is visible in it."""
    with reasons.given("test set-up: status times in the past"):
        SerialNumber.objects.filter(pk__in=[r.pk for r in rows]).update(status_changed_at=LONG_AGO)
    return list(SerialNumber.objects.filter(pk__in=[r.pk for r in rows]).order_by("id"))


def status_records():
    return AuditLog.objects.filter(action=serial_events.SERIAL_STATUS)


@pytest.fixture
def batch(site):
    return BatchFactory(site=site, status=BatchStatus.RELEASED)


def serials_in(batch, status, n=1, reason="", prefix=None):
    prefix = prefix or f"{status[:3].upper()}{reason[:3].upper()}"
    return aged(
        make_serials(batch, [f"{prefix}{i}" for i in range(n)], status=status, reason=reason)
    )


# --- what is accepted ---------------------------------------------------------------


@pytest.mark.django_db
def test_serials_given_as_gs1_strings_and_as_objects(operator, batch):
    rows = serials_in(batch, C, 4)
    before = timezone.now()
    payload = [
        code(rows[0]),
        ref(rows[1]),
        f"(01){rows[2].gtin}(21){rows[2].serial}(10){batch.batch_number}(17)270301",
        f"01{rows[3].gtin}21{rows[3].serial}",  # raw, as a scanner sends it
    ]

    response = operator.post(
        URL, {"serials": payload, "status": "packed"}, format="json", HTTP_X_CHANGE_REASON=REASON
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["moved"] == 4
    assert body["status"] == "packed"
    assert body["decommission_reason"] == ""
    at = dt.datetime.fromisoformat(body["at"].replace("Z", "+00:00"))
    assert at >= before
    for status, reason, changed in states(rows):
        assert (status, reason) == ("packed", "")
        assert changed == at


LEGAL = [
    (C, P, ""),
    (P, S, ""),
    (S, DI, ""),
    *[(old, DE, reason) for old in (C, P, S) for reason in DecommissionReason.values],
]


@pytest.mark.django_db
@pytest.mark.parametrize("old, new, reason", LEGAL)
def test_each_legal_move(operator, batch, old, new, reason):
    rows = serials_in(batch, old, 3)
    untouched = serials_in(batch, old, 1, prefix="OTHER")
    body = {"serials": [code(r) for r in rows], "status": new}
    if reason:
        body["reason"] = reason

    response = operator.post(URL, body, format="json", HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 200, response.content
    assert response.json()["moved"] == 3
    assert response.json()["decommission_reason"] == reason
    for status, stored_reason, changed in states(rows):
        assert (status, stored_reason) == (new, reason)
        assert changed > LONG_AGO + dt.timedelta(days=1)
    assert states(untouched) == [(old, "", LONG_AGO)]


ILLEGAL = [
    # backwards
    (P, P, ""),
    (S, P, ""),
    (DI, S, ""),
    (DI, P, ""),
    # skipping a step
    (C, S, ""),
    (C, DI, ""),
    (P, DI, ""),
    # out of final states
    (DI, DE, "damaged"),
    (DE, P, ""),
    (DE, S, ""),
    (DE, DI, ""),
    (DE, DE, "stolen"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("old, new, reason", ILLEGAL)
def test_illegal_moves_are_400_naming_the_serial_and_change_nothing(
    operator, batch, old, new, reason
):
    old_reason = "destroyed" if old == DE else ""
    [row] = serials_in(batch, old, 1, reason=old_reason)
    body = {"serials": [ref(row)], "status": new, **({"reason": reason} if reason else {})}

    response = operator.post(URL, body, format="json", HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 400, response.content
    assert response.json()["serials"] == [f"{code(row)}: cannot move from {old} to {new}."]
    assert states([row]) == [(old, old_reason, LONG_AGO)]
    assert not status_records().exists()


@pytest.mark.django_db
@pytest.mark.parametrize("old", [C, P, S, DI])
def test_nothing_moves_back_to_commissioned(operator, batch, old):
    [row] = serials_in(batch, old, 1)

    response = operator.post(
        URL,
        {"serials": [code(row)], "status": "commissioned"},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 400
    assert "status" in response.json()
    assert states([row]) == [(old, "", LONG_AGO)]


@pytest.mark.django_db
def test_all_or_nothing_three_legal_and_one_illegal_move_none(operator, batch):
    legal = serials_in(batch, C, 3)
    [illegal] = serials_in(batch, S, 1)
    before = states([*legal, illegal])

    response = operator.post(
        URL,
        {"serials": [code(r) for r in legal] + [ref(illegal)], "status": "packed"},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 400
    assert response.json()["serials"] == [f"{code(illegal)}: cannot move from shipped to packed."]
    assert states([*legal, illegal]) == before
    assert not status_records().exists()


@pytest.mark.django_db
def test_every_offending_serial_is_named(operator, batch):
    ok = serials_in(batch, C, 2)
    shipped = serials_in(batch, S, 2)
    [gone] = serials_in(batch, DE, 1, reason="stolen")
    unknown = {"gtin": batch.product.gtin, "serial": "NOSUCH"}

    response = operator.post(
        URL,
        {"serials": [*map(code, ok + shipped), code(gone), unknown], "status": "packed"},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 400
    assert response.json()["serials"] == [
        f"{code(shipped[0])}: cannot move from shipped to packed.",
        f"{code(shipped[1])}: cannot move from shipped to packed.",
        f"{code(gone)}: cannot move from decommissioned to packed.",
        f"(01){batch.product.gtin}(21)NOSUCH: unknown serial number, or not at one of your sites.",
    ]
    assert [s for s, _, _ in states(ok)] == [C, C]


# --- reasons ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("reason", [None, ""])
def test_decommissioning_needs_a_reason(operator, batch, reason):
    [row] = serials_in(batch, C, 1)
    body = {"serials": [code(row)], "status": "decommissioned"}
    if reason is not None:
        body["reason"] = reason

    response = operator.post(URL, body, format="json", HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 400
    assert "needs a reason" in response.json()["reason"][0]
    assert states([row]) == [(C, "", LONG_AGO)]


@pytest.mark.django_db
@pytest.mark.parametrize("new", [P, S, DI])
def test_only_decommissioning_takes_a_reason(operator, batch, new):
    old = {P: C, S: P, DI: S}[new]
    [row] = serials_in(batch, old, 1)

    response = operator.post(
        URL,
        {"serials": [code(row)], "status": new, "reason": "damaged"},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 400
    assert response.json()["reason"] == ["Only decommissioning takes a reason."]
    assert states([row]) == [(old, "", LONG_AGO)]


@pytest.mark.django_db
def test_an_unknown_reason_is_400(operator, batch):
    [row] = serials_in(batch, C, 1)

    response = operator.post(
        URL,
        {"serials": [code(row)], "status": "decommissioned", "reason": "lost"},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 400
    assert "reason" in response.json()
    assert states([row]) == [(C, "", LONG_AGO)]


# --- unknown serials, scope, rejected batches ---------------------------------------


@pytest.mark.django_db
def test_unknown_serial_is_400_naming_it(operator, batch):
    [row] = serials_in(batch, C, 1)
    other_gtin = gtin14(99_999)  # a valid GTIN we have no product for

    response = operator.post(
        URL,
        {"serials": [code(row), {"gtin": other_gtin, "serial": row.serial}], "status": "packed"},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 400
    assert response.json()["serials"] == [
        f"(01){other_gtin}(21){row.serial}: unknown serial number, or not at one of your sites."
    ]
    assert states([row]) == [(C, "", LONG_AGO)]


@pytest.mark.django_db
def test_serial_of_another_site_is_unknown_and_untouched(operator, batch):
    [mine] = serials_in(batch, C, 1)
    elsewhere = BatchFactory(site=SiteFactory(), status=BatchStatus.RELEASED)
    [theirs] = serials_in(elsewhere, C, 1, prefix="THEIRS")

    response = operator.post(
        URL,
        {"serials": [code(mine), code(theirs)], "status": "packed"},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 400
    # word for word what an unknown serial gets: nothing tells it exists elsewhere
    assert response.json()["serials"] == [
        f"{code(theirs)}: unknown serial number, or not at one of your sites."
    ]
    assert states([mine, theirs]) == [(C, "", LONG_AGO), (C, "", LONG_AGO)]
    alone = operator.post(
        URL,
        {"serials": [code(theirs)], "status": "packed"},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )
    assert alone.status_code == 400
    assert states([theirs]) == [(C, "", LONG_AGO)]


@pytest.mark.django_db
def test_a_caller_of_two_sites_moves_serials_of_both_in_one_record(
    auth_client, operator_user, batch
):
    second = SiteFactory()
    assign(operator_user, "operator", site=second)
    other = BatchFactory(site=second, status=BatchStatus.RELEASED)
    rows = serials_in(batch, C, 2) + serials_in(other, C, 1, prefix="B")

    response = auth_client(operator_user).post(
        URL,
        {"serials": [code(r) for r in rows], "status": "packed"},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 200, response.content
    assert [s for s, _, _ in states(rows)] == [P, P, P]
    [record] = status_records()
    assert record.site_id is None
    assert record.new_values["touched"]["sites"] == sorted([str(batch.site_id), str(second.pk)])


@pytest.mark.django_db
@pytest.mark.parametrize("new", [P, DE])
def test_serials_of_a_rejected_batch_may_only_be_decommissioned(operator, site, new):
    rejected = BatchFactory(site=site, status=BatchStatus.REJECTED)
    rows = serials_in(rejected, C, 2)
    body = {"serials": [code(r) for r in rows], "status": new}
    if new == DE:
        body["reason"] = "destroyed"

    response = operator.post(URL, body, format="json", HTTP_X_CHANGE_REASON=REASON)

    if new == P:
        assert response.status_code == 400
        assert response.json()["serials"] == [
            f"{code(r)}: its batch is rejected; it can only be decommissioned." for r in rows
        ]
        assert [s for s, _, _ in states(rows)] == [C, C]
    else:
        assert response.status_code == 200, response.content
        assert [(s, r) for s, r, _ in states(rows)] == [(DE, "destroyed")] * 2


# --- the list itself ----------------------------------------------------------------


@pytest.mark.django_db
def test_more_than_10000_serials_is_400_and_10000_move(operator, batch):
    rows = make_serials(batch, [f"N{i:05d}" for i in range(10_001)])

    too_many = operator.post(
        URL,
        {"serials": [ref(r) for r in rows], "status": "packed"},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert too_many.status_code == 400
    assert "serials" in too_many.json()
    assert not SerialNumber.objects.filter(batch=batch).exclude(status=C).exists()

    response = operator.post(
        URL,
        {"serials": [ref(r) for r in rows[:10_000]], "status": "packed"},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 200, response.content
    assert response.json()["moved"] == 10_000
    assert SerialNumber.objects.filter(batch=batch, status=P).count() == 10_000
    assert SerialNumber.objects.get(pk=rows[-1].pk).status == C
    [record] = status_records()
    touched = record.new_values["touched"]
    assert touched["count"] == 10_000
    # more than 1,000 ids: the first and last are named instead of the list
    assert (touched["first_id"], touched["last_id"]) == (str(rows[0].pk), str(rows[9_999].pk))


@pytest.mark.django_db
def test_duplicates_in_the_list_are_one_move(operator, batch):
    [row, other] = serials_in(batch, C, 2)

    response = operator.post(
        URL,
        {"serials": [code(row), ref(row), code(row), ref(other), code(other)], "status": "packed"},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 200, response.content
    assert response.json()["moved"] == 2
    [record] = status_records()
    assert record.new_values["touched"]["count"] == 2
    assert sorted(record.new_values["touched"]["ids"]) == sorted([str(row.pk), str(other.pk)])


GTIN = gtin14(1)
BAD_CHECK = GTIN[:-1] + str((int(GTIN[-1]) + 1) % 10)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "entry",
    [
        {"gtin": BAD_CHECK, "serial": "X1"},
        {"gtin": GTIN[:-1], "serial": "X1"},
        {"gtin": int(GTIN), "serial": "X1"},
        {"gtin": GTIN, "serial": 5},
        {"gtin": GTIN, "serial": ""},
        {"gtin": GTIN, "serial": "X" * 21},
        {"gtin": GTIN, "serial": "A B"},
        {"gtin": GTIN, "serial": "Ä1"},
        {"gtin": GTIN},
        {"serial": "X1"},
        {"gtin": GTIN, "serial": "X1", "lot": "L1"},
        12345,
        None,
        ["(01)" + GTIN + "(21)X1"],
        True,
        "garbage",
        "",
        "(01)" + BAD_CHECK + "(21)X1",
        "(01)" + GTIN,
        "(21)X1",
        "(01)" + GTIN + "(21)X1(21)X2",
    ],
)
def test_malformed_entries_are_400_and_nothing_moves(operator, batch, entry):
    [row] = serials_in(batch, C, 1)

    response = operator.post(
        URL,
        {"serials": [code(row), entry], "status": "packed"},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 400, response.content
    errors = response.json()["serials"]
    assert "1" in errors and "0" not in errors, errors  # the second entry is the bad one
    assert states([row]) == [(C, "", LONG_AGO)]
    assert not status_records().exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, field",
    [
        ({"status": "packed"}, "serials"),
        ({"serials": [], "status": "packed"}, "serials"),
        ({"serials": "(01)" + GTIN + "(21)X1", "status": "packed"}, "serials"),
        ({"serials": ["(01)" + GTIN + "(21)X1"]}, "status"),
        ({"serials": ["(01)" + GTIN + "(21)X1"], "status": "lost"}, "status"),
        ({"serials": ["(01)" + GTIN + "(21)X1"], "status": "packed", "colour": "red"}, "colour"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(operator, body, field):
    response = operator.post(URL, body, format="json", HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 400
    assert field in response.json()


# --- audit --------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_audit_record_per_move(operator, operator_user, batch):
    packed = serials_in(batch, P, 2)
    commissioned = serials_in(batch, C, 1)
    rows = sorted(packed + commissioned, key=lambda r: r.pk)
    before = set(AuditLog.objects.values_list("pk", flat=True))  # the test's own setup

    response = operator.post(
        URL,
        {"serials": [code(r) for r in rows], "status": "decommissioned", "reason": "recalled"},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 200, response.content
    [record] = status_records()
    assert record.actor_id == operator_user.pk
    assert record.site_id == batch.site_id
    assert record.resource_type == "serializations.serialnumber"
    touched = record.new_values["touched"]
    assert touched["count"] == 3
    assert touched["ids"] == [str(r.pk) for r in rows]
    assert touched["from"] == {"packed": 2, "commissioned": 1}
    assert record.new_values["values"] == {
        "status": "decommissioned",
        "decommission_reason": "recalled",
    }
    assert sorted(record.changed_fields) == ["decommission_reason", "status", "status_changed_at"]
    # no per-row records, and no generic bulk record, besides it
    new = AuditLog.objects.exclude(pk__in=before).filter(
        resource_type="serializations.serialnumber"
    )
    assert [r.pk for r in new] == [record.pk]

    again = operator.post(
        URL,
        {"serials": [code(rows[0])], "status": "packed"},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )
    assert again.status_code == 400
    assert status_records().count() == 1


# --- permissions --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["qa", "auditor"])
def test_without_update_status_it_is_403(auth_client, site, batch, role):
    user = UserFactory()
    assign(user, role, site=site)
    [row] = serials_in(batch, C, 1)

    response = auth_client(user).post(
        URL,
        {"serials": [code(row)], "status": "packed"},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 403
    assert states([row]) == [(C, "", LONG_AGO)]
    assert not status_records().exists()


@pytest.mark.django_db
def test_anonymous_is_401(batch):
    [row] = serials_in(batch, C, 1)

    response = APIClient().post(
        URL,
        {"serials": [code(row)], "status": "packed"},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 401
    assert states([row]) == [(C, "", LONG_AGO)]


# --- concurrency --------------------------------------------------------------------

THREADS = 20
TARGETS = [
    {"status": "packed"},
    {"status": "decommissioned", "reason": "damaged"},
    {"status": "shipped"},
]
# The moves that can succeed, from each state, among TARGETS.
CAN_FOLLOW = {C: {P, DE}, P: {S, DE}, S: {DE}, DE: set()}


def _together(clients, bodies):
    barrier = threading.Barrier(len(clients))
    responses = [None] * len(clients)
    errors = []

    def send(index):
        try:
            barrier.wait(timeout=30)
            responses[index] = clients[index].post(
                URL, bodies[index], format="json", HTTP_X_CHANGE_REASON=REASON
            )
        except Exception as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request did not finish"
    assert not errors, errors
    return responses


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_threads_moving_the_same_serials(auth_client, site):
    users = [UserFactory(username=f"line.op{i}") for i in range(4)]
    tokens = []
    for user in users:
        assign(user, "operator", site=site)
        tokens.append(auth_client(user).tokens["access"])
    clients = []
    for i in range(THREADS):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[i % len(tokens)]}")
        clients.append(client)
    batch = BatchFactory(site=site, status=BatchStatus.RELEASED)
    rows = make_serials(batch, [f"RACE{i:03d}" for i in range(50)])
    # each thread names the 50 in a different order: locking in id order must not deadlock
    bodies = []
    for i in range(THREADS):
        serials = [code(r) if j % 2 else ref(r) for j, r in enumerate(rows)]
        shift = (i * 7) % 50
        bodies.append({"serials": serials[shift:] + serials[:shift], **TARGETS[i % len(TARGETS)]})

    responses = _together(clients, bodies)

    codes = [r.status_code for r in responses]
    assert set(codes) <= {200, 400}, [(r.status_code, r.content[:300]) for r in responses]
    won = sorted((r.json() for r in responses if r.status_code == 200), key=lambda b: b["at"])
    assert won, "at least the first move is legal"
    assert all(body["moved"] == 50 for body in won)
    # the successful moves, in commit order, are a legal chain from commissioned
    state = C
    for body in won:
        assert body["status"] in CAN_FOLLOW[state], [b["status"] for b in won]
        state = body["status"]
    final = SerialNumber.objects.filter(batch=batch)
    assert set(final.values_list("status", flat=True)) == {state}
    assert final.count() == 50
    expected_reason = "damaged" if state == DE else ""
    assert set(final.values_list("decommission_reason", flat=True)) == {expected_reason}
    records = list(status_records().order_by("timestamp"))
    assert len(records) == len(won)
    assert [r.new_values["values"]["status"] for r in records] == [b["status"] for b in won]
    assert all(r.new_values["touched"]["count"] == 50 for r in records)
    # every refusal names the serials and says why
    for response in responses:
        if response.status_code == 400:
            errors = response.json()["serials"]
            assert len(errors) == 50
            assert all("cannot move from" in e for e in errors), errors[:3]
