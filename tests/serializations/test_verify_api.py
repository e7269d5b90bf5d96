"""GET /api/serials/verify/?code=...: the answer for a good pack, each reason against a
pack, the code's forms, malformed codes, scope."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from batches.choices import BatchStatus
from serializations.choices import SerialStatus
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory, gtin14
from tests.conftest import assign
from tests.serializations.factories import make_serials
from tests.sites.factories import SiteFactory

URL = "/api/serials/verify/"
GS = "\x1d"
TODAY = timezone.now().date()
# In date for a long while yet, on the last day of a month (as labels usually say).
EXPIRY = dt.date(TODAY.year + 2, 5, 31)
MADE = dt.date(TODAY.year - 1, 1, 15)

pytestmark = pytest.mark.django_db


def yymmdd(day):
    return day.strftime("%y%m%d")


def released(site, **kwargs):
    return BatchFactory(
        site=site,
        status=kwargs.pop("status", BatchStatus.RELEASED),
        manufacturing_date=kwargs.pop("manufacturing_date", MADE),
        expiry_date=kwargs.pop("expiry_date", EXPIRY),
        **kwargs,
    )


@pytest.fixture
def batch(site):
    return released(site, batch_number="LOT-A1")


def pack(batch, serial="PACK0001", status=SerialStatus.COMMISSIONED, reason=""):
    [row] = make_serials(batch, [serial], status=status, reason=reason)
    return row


def full(row, lot=None, expiry=None):
    lot = row.batch.batch_number if lot is None else lot
    expiry = yymmdd(row.batch.expiry_date) if expiry is None else expiry
    return f"(01){row.gtin}(21){row.serial}(10){lot}(17){expiry}"


def verify(client, code):
    response = client.get(URL, {"code": code})
    assert response.status_code == 200, response.content
    return response.json()


def reason_codes(body):
    return [r["code"] for r in body["reasons"]]


# --- a good pack --------------------------------------------------------------------


def test_a_released_matching_in_date_pack_is_verified(operator, batch, site):
    row = pack(batch)

    body = verify(operator, full(row))

    assert body == {
        "verified": True,
        "known": True,
        "gtin": row.gtin,
        "serial": "PACK0001",
        "lot": "LOT-A1",
        "expiry": EXPIRY.isoformat(),
        "status": "commissioned",
        "decommission_reason": None,
        "batch": {
            "id": str(batch.pk),
            "batch_number": "LOT-A1",
            "status": "released",
            "expiry_date": EXPIRY.isoformat(),
            "product": batch.product.name,
        },
        "site": {"id": str(site.pk), "code": site.code, "name": site.name},
        "container": None,
        "top_container": None,
        "reasons": [],
    }


@pytest.mark.parametrize("status", [SerialStatus.PACKED, SerialStatus.SHIPPED])
def test_packed_and_shipped_packs_are_verified(operator, batch, status):
    row = pack(batch, status=status)

    body = verify(operator, full(row))

    assert body["verified"] is True
    assert body["status"] == status


def test_gtin_and_serial_alone_are_enough(operator, batch):
    row = pack(batch)

    body = verify(operator, f"(01){row.gtin}(21){row.serial}")

    assert body["verified"] is True
    assert body["lot"] is None and body["expiry"] is None
    assert body["batch"]["batch_number"] == "LOT-A1"


@pytest.mark.parametrize("role", ["qa", "auditor"])
def test_other_roles_with_serial_view_verify(auth_client, site, batch, role):
    user = UserFactory()
    assign(user, role, site=site)
    row = pack(batch)

    assert verify(auth_client(user), full(row))["verified"] is True


# --- each reason --------------------------------------------------------------------


def test_unknown_serial(operator, batch):
    row = pack(batch)

    body = verify(operator, f"(01){row.gtin}(21)NOSUCH(10)LOT-A1")

    assert body["verified"] is False
    assert body["known"] is False
    assert reason_codes(body) == ["unknown_serial"]
    assert body["gtin"] == row.gtin and body["serial"] == "NOSUCH" and body["lot"] == "LOT-A1"
    assert body["status"] is None and body["batch"] is None and body["site"] is None


def test_known_serial_under_another_gtin_is_unknown(operator, batch):
    row = pack(batch)

    body = verify(operator, f"(01){gtin14(99_999)}(21){row.serial}")

    assert reason_codes(body) == ["unknown_serial"]
    assert body["known"] is False


def test_lot_mismatch(operator, batch):
    row = pack(batch)

    body = verify(operator, full(row, lot="LOT-B2"))

    assert body["verified"] is False and body["known"] is True
    assert reason_codes(body) == ["lot_mismatch"]
    assert "LOT-B2" in body["reasons"][0]["message"] and "LOT-A1" in body["reasons"][0]["message"]
    assert body["lot"] == "LOT-B2"
    assert body["batch"]["batch_number"] == "LOT-A1"


@pytest.mark.parametrize(
    "scanned",
    [
        yymmdd(EXPIRY - dt.timedelta(days=1)),
        yymmdd(EXPIRY + dt.timedelta(days=1)),  # next month
        yymmdd(EXPIRY.replace(year=EXPIRY.year + 1)),
        yymmdd(EXPIRY)[:2] + "0400",  # end of the previous month
        yymmdd(EXPIRY)[:4] + "01",
    ],
)
def test_expiry_mismatch(operator, batch, scanned):
    row = pack(batch)

    body = verify(operator, full(row, expiry=scanned))

    assert body["verified"] is False
    assert reason_codes(body) == ["expiry_mismatch"]
    assert scanned in body["reasons"][0]["message"]
    assert yymmdd(EXPIRY) in body["reasons"][0]["message"]


def test_day_00_means_end_of_month_and_matches(operator, batch):
    row = pack(batch)
    scanned = yymmdd(EXPIRY)[:4] + "00"

    body = verify(operator, full(row, expiry=scanned))

    assert body["verified"] is True, body["reasons"]
    assert body["expiry"] == EXPIRY.isoformat()  # read as the month's last day


def test_day_00_matches_a_batch_dated_within_that_month(operator, site):
    batch = released(site, expiry_date=EXPIRY.replace(day=1))
    row = pack(batch)

    body = verify(operator, full(row, expiry=yymmdd(EXPIRY)[:4] + "00"))

    assert body["verified"] is True, body["reasons"]


@pytest.mark.parametrize(
    "reason, code",
    [("damaged", "decommissioned"), ("stolen", "decommissioned"), ("recalled", "recalled")],
)
def test_decommissioned_and_recalled(operator, batch, reason, code):
    row = pack(batch, status=SerialStatus.DECOMMISSIONED, reason=reason)

    body = verify(operator, full(row))

    assert body["verified"] is False
    assert reason_codes(body) == [code]
    assert body["status"] == "decommissioned"
    assert body["decommission_reason"] == reason


def test_dispensed(operator, batch):
    row = pack(batch, status=SerialStatus.DISPENSED)

    body = verify(operator, full(row))

    assert body["verified"] is False
    assert reason_codes(body) == ["dispensed"]
    assert body["status"] == "dispensed"


def test_batch_rejected(operator, site):
    row = pack(released(site, status=BatchStatus.REJECTED))

    body = verify(operator, full(row))

    assert body["verified"] is False
    assert reason_codes(body) == ["batch_rejected"]
    assert body["batch"]["status"] == "rejected"


@pytest.mark.parametrize(
    "status", [BatchStatus.PLANNED, BatchStatus.IN_PRODUCTION, BatchStatus.QUARANTINE]
)
def test_batch_not_released(operator, site, status):
    row = pack(released(site, status=status))

    body = verify(operator, full(row))

    assert body["verified"] is False
    assert reason_codes(body) == ["batch_not_released"]
    assert status in body["reasons"][0]["message"]


def test_expired(operator, site):
    past = TODAY - dt.timedelta(days=10)
    row = pack(released(site, expiry_date=past, manufacturing_date=past - dt.timedelta(days=700)))

    body = verify(operator, full(row))

    assert body["verified"] is False
    assert reason_codes(body) == ["expired"]
    assert past.isoformat() in body["reasons"][0]["message"]


def test_expiring_today_at_the_site_is_not_yet_expired(operator, site):
    site_today = timezone.now().astimezone(ZoneInfo(site.timezone)).date()
    row = pack(released(site, expiry_date=site_today))

    assert verify(operator, full(row))["verified"] is True


def test_several_reasons_are_all_given(operator, site):
    past = TODAY - dt.timedelta(days=10)
    batch = released(
        site,
        status=BatchStatus.REJECTED,
        expiry_date=past,
        manufacturing_date=past - dt.timedelta(days=700),
    )
    row = pack(batch, status=SerialStatus.DECOMMISSIONED, reason="recalled")

    body = verify(operator, full(row, lot="OTHER", expiry="991231"))

    assert reason_codes(body) == [
        "lot_mismatch",
        "expiry_mismatch",
        "recalled",
        "batch_rejected",
        "expired",
    ]
    assert body["verified"] is False


# --- the code's forms ---------------------------------------------------------------


def _forms(row):
    g, s, lot, exp = row.gtin, row.serial, row.batch.batch_number, yymmdd(row.batch.expiry_date)
    return [
        f"(01){g}(21){s}(10){lot}(17){exp}",
        f"(17){exp}(10){lot}(01){g}(21){s}",
        f"01{g}21{s}{GS}10{lot}{GS}17{exp}",
        f"01{g}17{exp}10{lot}{GS}21{s}",
        f"17{exp}01{g}21{s}{GS}10{lot}",
        f"{GS}01{g}21{s}{GS}10{lot}{GS}17{exp}",  # leading FNC1
        f"]d201{g}21{s}{GS}10{lot}{GS}17{exp}",
        f"]d2{GS}01{g}17{exp}10{lot}{GS}21{s}",
        f"]C101{g}21{s}{GS}10{lot}{GS}17{exp}",
        f"]Q3(01){g}(21){s}(10){lot}(17){exp}",
    ]


@pytest.mark.parametrize("form", range(10))
def test_every_form_of_the_code_reads_the_same(operator, batch, form):
    row = pack(batch, serial="X7Q9")

    body = verify(operator, _forms(row)[form])

    assert body["verified"] is True, body["reasons"]
    assert (body["gtin"], body["serial"], body["lot"], body["expiry"]) == (
        row.gtin,
        "X7Q9",
        "LOT-A1",
        EXPIRY.isoformat(),
    )


def test_a_raw_code_with_a_mismatching_lot_is_read_field_by_field(operator, batch):
    row = pack(batch, serial="X7Q9")

    body = verify(operator, f"10LOT-ZZ{GS}01{row.gtin}21X7Q9")

    assert body["lot"] == "LOT-ZZ" and body["serial"] == "X7Q9"
    assert reason_codes(body) == ["lot_mismatch"]


# --- malformed codes ----------------------------------------------------------------

G = gtin14(1)
BAD_CHECK = G[:-1] + str((int(G[-1]) + 1) % 10)


@pytest.mark.parametrize(
    "code, says",
    [
        ("", "blank"),
        ("   ", "empty"),
        ("]d2", "empty"),
        (GS, "empty"),
        (f"(01){G}", "(21) serial number"),
        (f"(01){G}(10)LOT1", "(21) serial number"),
        ("(21)ABC", "(01) GTIN"),
        ("(10)LOT1", "no (01) GTIN and no (21) serial number"),
        (f"(01){BAD_CHECK}(21)ABC", "check digit"),
        (f"01{BAD_CHECK}21ABC", "check digit"),
        (f"(01){G}(21)ABC(17)261332", "(17)"),
        (f"(01){G}(21)ABC(17)260231", "(17)"),
        (f"(01){G}(21)ABC(21)DEF", "(21) appears more than once"),
        (f"01{G}21ABC{GS}10L1{GS}10L2", "(10) appears more than once"),
        (f"(01){G}(01){G}(21)ABC", "(01) appears more than once"),
        (f"(01){G}(21)ABCé", "character set"),
        (f"(01){G}(21)AB\x01C", "character set"),
        (f"(01){G}(21)AB\x00C", "Null characters"),
        ("hello world", "space"),
        ("helloworld", "Not a valid GS1 element string"),
        ("%%%%", "Not a valid GS1 element string"),
        (f"(01){G[:-1]}(21)ABC", "(01)"),
        (f"(01){G}(21){'A' * 21}", "(21)"),
        ("(01)" + G + "(21)" + "A" * 200, "200 characters"),
        (f"(01){G}(21)A B", "space"),
        (f"(01){G}(21)ABC(10)", "AI (10) has no value"),
        (f"(01){G}(10)(21)ABC", "AI (10) has no value"),
    ],
)
def test_malformed_codes_are_400_saying_what_is_wrong(operator, code, says):
    response = operator.get(URL, {"code": code})

    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body) == ["code"]
    [message] = body["code"]
    assert says in message, message


def test_missing_code_is_400(operator):
    response = operator.get(URL)

    assert response.status_code == 400
    assert response.json() == {"code": ["This field is required."]}


# --- scope and authentication -------------------------------------------------------


def test_a_pack_of_a_site_the_caller_cannot_see_is_unknown(operator, batch):
    elsewhere = released(SiteFactory(), batch_number="LOT-B9")
    theirs = pack(elsewhere, serial="THEIRS01")
    unknown = verify(operator, f"(01){theirs.gtin}(21)NEVERMADE(10)LOT-B9")

    body = verify(operator, full(theirs))

    assert body["known"] is False and body["verified"] is False
    assert reason_codes(body) == ["unknown_serial"]
    assert body["batch"] is None and body["site"] is None and body["status"] is None
    # nothing in the answer tells it apart from a serial that was never made
    assert {k: v for k, v in body.items() if k not in {"serial", "expiry"}} == {
        k: v for k, v in unknown.items() if k not in {"serial", "expiry"}
    }


def test_a_global_viewer_sees_every_site(auth_client, batch):
    auditor = UserFactory()
    assign(auditor, "auditor")
    elsewhere = released(SiteFactory(), batch_number="LOT-B9")
    theirs = pack(elsewhere, serial="THEIRS01")

    body = verify(auth_client(auditor), full(theirs))

    assert body["verified"] is True
    assert body["site"]["id"] == str(elsewhere.site_id)


def test_without_any_role_it_is_403(auth_client, batch):
    nobody = UserFactory()
    row = pack(batch)

    response = auth_client(nobody).get(URL, {"code": full(row)})

    assert response.status_code == 403


def test_anonymous_is_401(batch):
    row = pack(batch)

    response = APIClient().get(URL, {"code": full(row)})

    assert response.status_code == 401


def test_a_verification_is_one_query_whatever_the_pack_is_in(operator, batch, site):
    """The pack, its batch, product, site, case and pallet: one SELECT of the columns the
    answer shows (``services.VERIFY_COLUMNS``), nothing read later field by field."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from serializations.choices import ContainerKind
    from tests.serializations.factories import make_container

    pallet = make_container(site, kind=ContainerKind.PALLET)
    case = make_container(site, kind=ContainerKind.CASE, parent=pallet)
    [row] = make_serials(batch, ["PACKED01"], status=SerialStatus.PACKED, container=case)
    verify(operator, full(row))  # the caller's permissions now cached, as on a warm process

    with CaptureQueriesContext(connection) as queries:
        body = verify(operator, full(row))

    assert body["verified"] is True
    assert body["container"]["sscc"] == case.sscc
    assert body["top_container"] == {
        "sscc": pallet.sscc,
        "kind": ContainerKind.PALLET,
        "status": pallet.status,
    }
    assert body["site"] == {"id": str(site.pk), "code": site.code, "name": site.name}
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) == 1, selects
