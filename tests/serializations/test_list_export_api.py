"""GET /api/serials/, /api/batches/{id}/serials/ (cursor pages, filters, GS1 forms,
scope) and /api/batches/{id}/serials/export/ (streamed CSV)."""

import csv
import datetime as dt
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.test import APIClient

from batches.choices import BatchStatus
from core import reasons
from serializations.choices import SerialStatus
from serializations.models import SerialNumber
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory
from tests.conftest import assign
from tests.serializations.factories import make_serials
from tests.sites.factories import SiteFactory

pytestmark = pytest.mark.django_db

LIST = "/api/serials/"
EXPIRY = dt.date(2028, 6, 30)


def batch_url(batch):
    return f"/api/batches/{batch.pk}/serials/"


def export_url(batch):
    return f"/api/batches/{batch.pk}/serials/export/"


@pytest.fixture
def batch(site):
    return BatchFactory(
        site=site, status=BatchStatus.RELEASED, batch_number="LOT-7", expiry_date=EXPIRY
    )


def ids_of(rows):
    return [r.pk for r in rows]


def walk(client, url):
    """Every page from ``url`` on, following ``next``; the pages' results."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append(body["results"])
        url = body["next"]
        if url:
            assert "cursor=" in url
    return pages


# --- cursor pages -------------------------------------------------------------------


@pytest.mark.parametrize("base", ["list", "batch"])
def test_walking_all_pages_gives_every_serial_once_in_id_order(operator, batch, base):
    rows = make_serials(batch, [f"P{i:03d}" for i in range(57)])
    url = LIST if base == "list" else batch_url(batch)

    pages = walk(operator, url + "?page_size=10")

    assert [len(p) for p in pages] == [10, 10, 10, 10, 10, 7]
    assert [r["id"] for page in pages for r in page] == ids_of(rows)
    assert [r["serial"] for page in pages for r in page] == [f"P{i:03d}" for i in range(57)]


def test_page_size_defaults_to_100_and_is_capped_at_1000(operator, batch):
    make_serials(batch, [f"Q{i:04d}" for i in range(1_050)])

    first = operator.get(LIST).json()
    assert len(first["results"]) == 100
    assert first["previous"] is None and first["next"]
    big = operator.get(LIST + "?page_size=5000").json()
    assert len(big["results"]) == 1000
    second = operator.get(big["next"]).json()
    assert len(second["results"]) == 50 and second["next"] is None
    assert parse_qs(urlsplit(big["next"]).query)["page_size"] == ["5000"]


def test_ordering_and_search_parameters_do_not_change_the_id_order(operator, batch):
    rows = make_serials(batch, ["ZZ9", "AA1", "MM5"])

    for query in ("ordering=gs1", "ordering=lot", "ordering=-id", "ordering=serial", "search=AA"):
        for url in (LIST, batch_url(batch)):
            response = operator.get(f"{url}?{query}")
            assert response.status_code == 200, (url, query, response.content)
            assert [r["id"] for r in response.json()["results"]] == ids_of(rows), (url, query)


# --- filters ------------------------------------------------------------------------


@pytest.fixture
def mixed(site, batch):
    other = BatchFactory(site=site, status=BatchStatus.RELEASED)  # another product: another GTIN
    return {
        "c": make_serials(batch, ["C1", "C2"]),
        "p": make_serials(batch, ["P1"], status=SerialStatus.PACKED),
        "d": make_serials(batch, ["D1"], status=SerialStatus.DECOMMISSIONED, reason="damaged"),
        "o": make_serials(other, ["O1", "O2"], status=SerialStatus.PACKED),
        "other": other,
    }


def listed(client, query, url=LIST):
    response = client.get(f"{url}?{query}&page_size=1000")
    assert response.status_code == 200, response.content
    return [r["serial"] for r in response.json()["results"]]


def test_filter_by_batch(operator, batch, mixed):
    assert listed(operator, f"batch={batch.pk}") == ["C1", "C2", "P1", "D1"]
    assert listed(operator, f"batch={mixed['other'].pk}") == ["O1", "O2"]


def test_filter_by_one_or_more_statuses(operator, batch, mixed):
    assert listed(operator, "status=packed") == ["P1", "O1", "O2"]
    assert listed(operator, "status=packed&status=decommissioned") == ["P1", "D1", "O1", "O2"]
    assert listed(operator, "status=dispensed") == []
    assert listed(operator, "status=packed", url=batch_url(batch)) == ["P1"]


def test_filter_by_gtin(operator, batch, mixed):
    assert listed(operator, f"gtin={batch.product.gtin}") == ["C1", "C2", "P1", "D1"]
    assert listed(operator, f"gtin={mixed['other'].product.gtin}&status=packed") == ["O1", "O2"]
    assert listed(operator, "gtin=00000000000000") == []


def test_filter_by_id_range_inclusive(operator, batch, mixed):
    ids = ids_of(mixed["c"] + mixed["p"] + mixed["d"] + mixed["o"])

    assert listed(operator, f"id_min={ids[1]}&id_max={ids[3]}") == ["C2", "P1", "D1"]
    assert listed(operator, f"id_min={ids[4]}") == ["O1", "O2"]
    assert listed(operator, f"id_max={ids[0]}") == ["C1"]
    in_batch = batch_url(batch)
    assert listed(operator, f"id_min={ids[2]}&id_max={ids[5]}", url=in_batch) == ["P1", "D1"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("id_min=abc", "id_min"),
        ("id_max=1.5", "id_max"),
        ("id_min=-1", "id_min"),
        (f"id_max={2**63}", "id_max"),
        ("status=lost", "status"),
        ("status=packed&status=bogus", "status"),
        ("batch=not-a-uuid", "batch"),
        ("gtin=" + "1" * 15, "gtin"),
    ],
)
@pytest.mark.parametrize("base", ["list", "batch"])
def test_bad_filter_values_are_400(operator, batch, query, field, base):
    make_serials(batch, ["F1"])
    url = LIST if base == "list" else batch_url(batch)

    response = operator.get(f"{url}?{query}")

    assert response.status_code == 400, response.content
    assert field in response.json()


# --- rows ---------------------------------------------------------------------------


def test_a_row_carries_its_gs1_string_and_digital_link(operator, batch):
    [row] = make_serials(batch, ["AB12CD"], status=SerialStatus.DECOMMISSIONED, reason="sample")
    gtin = batch.product.gtin

    [body] = operator.get(LIST).json()["results"]

    assert body == {
        "id": row.pk,
        "batch": str(batch.pk),
        "gtin": gtin,
        "serial": "AB12CD",
        "lot": "LOT-7",
        "expiry": "2028-06-30",
        "status": "decommissioned",
        "status_changed_at": body["status_changed_at"],
        "decommission_reason": "sample",
        "gs1": f"(01){gtin}(21)AB12CD(10)LOT-7(17)280630",
        "digital_link": f"https://id.gs1.org/01/{gtin}/21/AB12CD?10=LOT-7&17=280630",
    }
    assert body["status_changed_at"].startswith(row.status_changed_at.strftime("%Y-%m-%dT"))


def test_reserved_characters_are_percent_encoded_in_the_digital_link(operator, site):
    batch = BatchFactory(site=site, batch_number="L/1%&=?", expiry_date=EXPIRY)
    make_serials(batch, ["A/B%C&D", "x+y?z", "Q'(*)!"])
    gtin = batch.product.gtin

    rows = operator.get(batch_url(batch)).json()["results"]

    lot = "L%2F1%25%26%3D%3F"
    assert [r["digital_link"] for r in rows] == [
        f"https://id.gs1.org/01/{gtin}/21/A%2FB%25C%26D?10={lot}&17=280630",
        f"https://id.gs1.org/01/{gtin}/21/x%2By%3Fz?10={lot}&17=280630",
        f"https://id.gs1.org/01/{gtin}/21/Q%27%28%2A%29%21?10={lot}&17=280630",
    ]
    # the element string is the plain text
    assert rows[0]["gs1"] == f"(01){gtin}(21)A/B%C&D(10)L/1%&=?(17)280630"


@pytest.mark.parametrize(
    "base, expected",
    [
        ("https://example.com/dl", "https://example.com/dl"),
        ("https://example.com/dl/", "https://example.com/dl"),
        ("https://id.pharma.test", "https://id.pharma.test"),
    ],
)
def test_digital_link_base_follows_the_setting(operator, batch, settings, base, expected):
    settings.GS1_DIGITAL_LINK_BASE = base
    make_serials(batch, ["S1"])
    gtin = batch.product.gtin

    [row] = operator.get(LIST).json()["results"]

    assert row["digital_link"] == f"{expected}/01/{gtin}/21/S1?10=LOT-7&17=280630"


# --- scope --------------------------------------------------------------------------


def test_a_user_of_site_a_sees_only_site_a_serials(operator, batch):
    mine = make_serials(batch, ["MINE1", "MINE2"])
    elsewhere = BatchFactory(site=SiteFactory(), status=BatchStatus.RELEASED)
    make_serials(elsewhere, ["THEIRS1"])

    assert [r["id"] for r in operator.get(LIST).json()["results"]] == ids_of(mine)
    assert listed(operator, f"batch={elsewhere.pk}") == []
    assert listed(operator, f"gtin={elsewhere.product.gtin}") == []
    response = operator.get(batch_url(elsewhere))
    assert response.status_code == 404
    assert "THEIRS1" not in response.content.decode()


def test_a_global_auditor_sees_every_site(auth_client, batch):
    auditor = UserFactory()
    assign(auditor, "auditor")
    elsewhere = BatchFactory(site=SiteFactory(), status=BatchStatus.RELEASED)
    rows = make_serials(batch, ["A1"]) + make_serials(elsewhere, ["B1"])

    assert [r["id"] for r in auth_client(auditor).get(LIST).json()["results"]] == ids_of(rows)


def test_lists_need_sign_in_and_a_role(auth_client, batch):
    make_serials(batch, ["A1"])

    assert APIClient().get(LIST).status_code == 401
    assert APIClient().get(batch_url(batch)).status_code == 401
    nobody = UserFactory()
    assert auth_client(nobody).get(LIST).status_code == 403


# --- export -------------------------------------------------------------------------


def export(client, batch):
    response = client.get(export_url(batch))
    assert response.status_code == 200, getattr(response, "content", b"")
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    return response, text


def test_export_streams_the_batchs_serials_as_csv(auth_client, qa_user, site, batch):
    other = BatchFactory(site=site, product=batch.product, status=BatchStatus.RELEASED)
    a = make_serials(batch, ["E1", "E2"])
    make_serials(other, ["X1"])  # same GTIN, other batch: not in the file
    b = make_serials(batch, ["E3"], status=SerialStatus.SHIPPED)
    gtin = batch.product.gtin

    response, text = export(auth_client(qa_user), batch)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="serials-{gtin}-LOT-7.csv"'
    assert text == (
        "gtin,serial,lot,expiry,status,gs1\r\n"
        f"{gtin},E1,LOT-7,2028-06-30,commissioned,(01){gtin}(21)E1(10)LOT-7(17)280630\r\n"
        f"{gtin},E2,LOT-7,2028-06-30,commissioned,(01){gtin}(21)E2(10)LOT-7(17)280630\r\n"
        f"{gtin},E3,LOT-7,2028-06-30,shipped,(01){gtin}(21)E3(10)LOT-7(17)280630\r\n"
    )
    assert len(a + b) == 3


def test_export_quotes_commas_and_double_quotes(auth_client, qa_user, site):
    batch = BatchFactory(site=site, batch_number='L,"1', expiry_date=EXPIRY)
    make_serials(batch, ["A,B", 'C"D', "E'F"])
    gtin = batch.product.gtin

    response, text = export(auth_client(qa_user), batch)

    lines = text.split("\r\n")
    assert lines[1] == (
        f'{gtin},"A,B","L,""1",2028-06-30,commissioned,"(01){gtin}(21)A,B(10)L,""1(17)280630"'
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert [r[1] for r in rows[1:]] == ["A,B", 'C"D', "E'F"]
    assert {r[2] for r in rows[1:]} == {'L,"1'}
    assert rows[2][5] == f'(01){gtin}(21)C"D(10)L,"1(17)280630'
    # the file name keeps only safe characters
    assert response["Content-Disposition"] == f'attachment; filename="serials-{gtin}-L__1.csv"'


def test_export_crosses_its_internal_chunks(auth_client, qa_user, site, batch):
    other = BatchFactory(site=site, product=batch.product, status=BatchStatus.RELEASED)
    first = make_serials(batch, [f"K{i:06d}" for i in range(6_000)])
    make_serials(other, [f"Y{i:06d}" for i in range(700)])  # ids in between, another batch
    second = make_serials(batch, [f"K{i:06d}" for i in range(6_000, 12_000)])
    with reasons.given("test set-up"):
        SerialNumber.objects.filter(pk__in=ids_of(second[:10])).update(status=SerialStatus.PACKED)

    _, text = export(auth_client(qa_user), batch)

    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["gtin", "serial", "lot", "expiry", "status", "gs1"]
    body = rows[1:]
    assert len(body) == 12_000
    assert [r[1] for r in body] == [f"K{i:06d}" for i in range(12_000)]  # id order, once each
    assert {r[0] for r in body} == {batch.product.gtin}
    assert [r[4] for r in body[6_000:6_011]] == ["packed"] * 10 + ["commissioned"]
    assert body[11_999][5] == f"(01){batch.product.gtin}(21)K011999(10)LOT-7(17)280630"
    assert len(first) == 6_000


def test_export_of_an_empty_batch_is_the_header(auth_client, qa_user, batch):
    _, text = export(auth_client(qa_user), batch)

    assert text == "gtin,serial,lot,expiry,status,gs1\r\n"


@pytest.mark.parametrize("how", [{"HTTP_ACCEPT": "text/csv"}, {"data": {"format": "csv"}}])
def test_a_client_may_ask_for_csv(auth_client, qa_user, site, batch, how):
    make_serials(batch, ["E1"])
    client = auth_client(qa_user)

    response = client.get(export_url(batch), **how)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert b"".join(response.streaming_content).decode().count("\r\n") == 2
    elsewhere = BatchFactory(site=SiteFactory())
    refused = client.get(export_url(elsewhere), **how)
    assert refused.status_code == 404
    assert refused["Content-Type"] == "application/json"
    assert refused.json()["code"] == "not_found"


def test_export_permissions(auth_client, operator_user, qa_user, batch):
    make_serials(batch, ["E1"])
    auditor = UserFactory()
    assign(auditor, "auditor")
    stranger = UserFactory()
    assign(stranger, "qa", site=SiteFactory())

    assert auth_client(operator_user).get(export_url(batch)).status_code == 403
    assert auth_client(stranger).get(export_url(batch)).status_code == 404
    assert APIClient().get(export_url(batch)).status_code == 401
    _, text = export(auth_client(auditor), batch)
    assert text.count("\r\n") == 2
    _, text = export(auth_client(qa_user), batch)
    assert "E1" in text


def test_export_neutralises_cells_a_spreadsheet_would_run(auth_client, qa_user, site):
    # Given a lot stored before batch numbers were checked and serials starting like
    # formulas (every character a spreadsheet reads as the start of one)
    batch = BatchFactory(site=site, batch_number='=HYPERLINK("x")', expiry_date=EXPIRY)
    starts = ["=1+2", "+SUM(1)", "-2+3", "@SUM(1)", "\tX", "\rX", "A=1"]
    make_serials(batch, starts)
    gtin = batch.product.gtin

    # When the batch is exported
    _, text = export(auth_client(qa_user), batch)

    # Then each such cell starts with a single quote; other cells are as stored
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert [r[1] for r in rows] == ["'=1+2", "'+SUM(1)", "'-2+3", "'@SUM(1)", "'\tX", "'\rX", "A=1"]
    assert {r[2] for r in rows} == {'\'=HYPERLINK("x")'}
    assert rows[0][5] == f'(01){gtin}(21)=1+2(10)=HYPERLINK("x")(17)280630'
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for cell in r)
