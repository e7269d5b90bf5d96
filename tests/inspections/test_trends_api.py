"""``GET /api/products/{id}/trends/``: the caller's sites only, current inspections only,
the statistics as JSON and the control chart as SVG or PNG; every bad request a JSON 4xx."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from tests.batches.factories import BatchFactory, ProductFactory
from tests.conftest import member
from tests.inspections.factories import InspectionFactory
from tests.sites.factories import SiteFactory

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def result(value, parameter="assay", minimum=95.0, maximum=105.0):
    in_spec = minimum <= value <= maximum
    return {
        "parameter": parameter,
        "value": value,
        "unit": "%",
        "min": minimum,
        "max": maximum,
        "in_spec": in_spec,
    }


def made(product, site, number, day, *values, **kwargs):
    batch = BatchFactory(
        product=product,
        site=site,
        batch_number=number,
        manufacturing_date=date(2026, 1, 1) + timedelta(days=day),
    )
    for value in values:
        InspectionFactory(batch=batch, results=[result(value)], passed=True, **kwargs)
    return batch


@pytest.fixture
def product():
    return ProductFactory(name="Paracetamol 500 mg")


@pytest.fixture
def series(product, site):
    return [
        made(product, site, f"T{n:03d}", n, value)
        for n, value in enumerate([98, 100, 102, 99, 101])
    ]


def url(product, **query):
    text = "&".join(f"{key}={value}" for key, value in {"parameter": "assay", **query}.items())
    return f"/api/products/{product.pk}/trends/?{text}"


def test_the_trend_of_a_parameter_with_its_statistics(qa, product, series):
    response = qa.get(url(product))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["product"] == str(product.pk) and body["parameter"] == "assay"
    assert body["unit"] == "%"
    assert [p["batch_number"] for p in body["points"]] == [f"T{n:03d}" for n in range(5)]
    assert [p["value"] for p in body["points"]] == [98, 100, 102, 99, 101]
    stats = body["statistics"]
    assert stats["count"] == 5 and stats["mean"] == pytest.approx(100)
    assert stats["standard_deviation"] == pytest.approx(2.5**0.5)
    assert stats["cpk"] == pytest.approx(1.0541, abs=1e-4)
    assert (stats["lower_specification_limit"], stats["upper_specification_limit"]) == (95, 105)
    assert body["out_of_specification"] == [] and body["out_of_trend"] == []


def test_only_current_inspections_of_the_callers_sites_count(qa, product, site, series):
    elsewhere = SiteFactory()
    made(product, elsewhere, "X001", 10, 50.0)  # another plant's batch
    superseded = made(product, site, "S001", 11, 60.0)
    old = superseded.inspections.get()
    InspectionFactory(batch=superseded, results=[result(100.5)], passed=True, supersedes=old)
    pending = BatchFactory(product=product, site=site, batch_number="P001")
    InspectionFactory(batch=pending, results=[result(10.0)])  # not completed
    other = made(product, site, "Q001", 13)
    # water, no assay
    InspectionFactory(batch=other, results=[result(1.0, parameter="water")], passed=True)

    body = qa.get(url(product)).json()
    numbers = [p["batch_number"] for p in body["points"]]
    assert "X001" not in numbers and "P001" not in numbers and "Q001" not in numbers
    [corrected] = [p for p in body["points"] if p["batch_number"] == "S001"]
    assert corrected["value"] == 100.5


def test_since_and_until_bound_the_manufacturing_date(qa, product, series):
    body = qa.get(url(product, since="2026-01-02", until="2026-01-04")).json()
    assert [p["batch_number"] for p in body["points"]] == ["T001", "T002", "T003"]


def test_flags_out_of_specification_and_out_of_trend_batches(qa, product, site):
    baseline = [100, 101, 99] * 3 + [100]
    batches = [made(product, site, f"B{n:03d}", n, v) for n, v in enumerate(baseline)]
    late = made(product, site, "B999", 99, 106.0)  # beyond 3 sigma and the 105 limit
    body = qa.get(url(product, baseline=10)).json()
    assert body["out_of_specification"] == [str(late.pk)]
    assert body["out_of_trend"] == [{"batch": str(late.pk), "batch_number": "B999", "rules": [1]}]
    assert body["points"][-1]["nelson_rules"] == [1]
    assert body["points"][-1]["out_of_specification"] is True
    assert len(batches) == 10


def test_the_control_chart_as_svg_marks_what_the_statistics_name(qa, product, site):
    values = [100, 101, 99] * 3 + [100, 106.0]
    for n, value in enumerate(values):
        made(product, site, f"C{n:03d}", n, value)
    response = qa.get(url(product, baseline=10), HTTP_ACCEPT="image/svg+xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    svg = ET.fromstring(response.content)  # noqa: S314 (the service's own chart)
    by_id = {element.get("id"): element for element in svg.iter() if element.get("id")}
    markers = list(by_id["points"].iter(f"{SVG}use"))  # one marker per point
    assert len(markers) == len(values)
    for line in (
        "centre-line",
        "upper-control-limit",
        "lower-control-limit",
        "upper-specification-limit",
        "lower-specification-limit",
    ):
        assert line in by_id, line
    # A ring is a path of its own, one per flagged point.
    assert len(list(by_id["out-of-trend"].iter(f"{SVG}path"))) == 1
    assert len(list(by_id["out-of-specification"].iter(f"{SVG}path"))) == 1
    text = " ".join(t.text or "" for t in svg.iter(f"{SVG}text"))
    assert "Paracetamol 500 mg: assay (%)" in text
    assert "Batch, in order of manufacture" in text
    # The same trend draws the same bytes.
    assert qa.get(url(product, baseline=10), HTTP_ACCEPT="image/svg+xml").content == (
        response.content
    )


def test_the_control_chart_as_png(qa, product, series):
    response = qa.get(url(product), HTTP_ACCEPT="image/png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_a_reviewed_batch_is_ringed_on_the_chart(qa, product, series):
    response = qa.get(url(product, mark=series[2].pk), HTTP_ACCEPT="image/svg+xml")
    svg = ET.fromstring(response.content)  # noqa: S314 (the service's own chart)
    [marked] = [e for e in svg.iter() if e.get("id") == "marked"]
    assert len(list(marked.iter(f"{SVG}path"))) == 1


def test_a_product_without_results_has_an_empty_trend_and_chart(qa, product):
    body = qa.get(url(product)).json()
    assert body["points"] == [] and body["statistics"]["count"] == 0
    assert body["statistics"]["mean"] is None
    assert qa.get(url(product), HTTP_ACCEPT="image/svg+xml").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "",  # no parameter
        "parameter=",
        "parameter=assay&since=2026-13-01",
        "parameter=assay&since=2026-02-01&until=2026-01-01",
        "parameter=assay&baseline=1",
        "parameter=assay&baseline=abc",
        "parameter=assay&mark=not-a-uuid",
        "parameter=" + "x" * 101,
    ],
)
@pytest.mark.parametrize("accept", ["application/json", "image/svg+xml", "image/png"])
def test_a_bad_query_is_a_json_400_whatever_was_asked_for(qa, product, query, accept):
    response = qa.get(f"/api/products/{product.pk}/trends/?{query}", HTTP_ACCEPT=accept)
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()


def test_an_unknown_product_is_a_json_404(qa):
    response = qa.get(f"/api/products/{uuid.uuid4()}/trends/?parameter=assay")
    assert response.status_code == 404 and response.json()
    response = qa.get("/api/products/nope/trends/?parameter=assay", HTTP_ACCEPT="image/svg+xml")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_without_inspection_view_anywhere_it_is_refused(
    auth_client, api_client, product, series, site
):
    nobody = auth_client(member("auditor", SiteFactory(), "a.auditor"))
    assert nobody.get(url(product)).json()["points"] == []  # holds it, at another site
    from tests.accounts.factories import UserFactory

    bare = auth_client(UserFactory(username="no.roles"))
    response = bare.get(url(product), HTTP_ACCEPT="image/svg+xml")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert api_client.get(url(product)).status_code == 401
