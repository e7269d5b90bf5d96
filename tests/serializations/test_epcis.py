"""EPCIS 2.0 events: what each change states, eventIDs as GS1's reference computes them,
documents valid against GS1's schema, the query's filters and pages, append-only rows."""

import json
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from epcis_event_hash_generator import hash_generator, json_to_py

from batches.choices import BatchStatus
from serializations import epcis, services, sscc
from serializations.jobs import GenerationRequest, generate_locked
from serializations.models import EPCISEvent, EPCISEventEPC, SerialNumber
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory
from tests.conftest import assign
from tests.serializations.factories import code, generate
from tests.sites.factories import SiteFactory

EXAMPLES = Path(__file__).parent / "epcis_examples"
EVENTS = "/api/epcis/events/"


def reference_hashes(document):
    """GS1's reference implementation (epcis-event-hash-generator) of the CBV 2.0 hash."""
    events = json_to_py.event_list_from_epcis_document_json(document)
    return hash_generator.epcis_hashes_from_events(events)


def assert_valid(document):
    assert epcis.schema_errors(document) == []


def stored_document():
    rows = EPCISEvent.objects.order_by("id").values_list(*epcis.SERVED_COLUMNS)
    return json.loads("".join(epcis.stream_document(epcis.served(list(rows)))))


def served(event):
    """The event as the API serves it."""
    row = EPCISEvent.objects.filter(pk=event.pk).values_list(*epcis.SERVED_COLUMNS).get()
    return json.loads(epcis.served([row])[0])


def test_every_event_written_has_the_reference_event_hash(lifecycle):
    document = stored_document()
    events = document["epcisBody"]["eventList"]

    steps = [(e["type"], e["action"], e["bizStep"]) for e in events]
    assert steps == [
        ("ObjectEvent", "ADD", "commissioning"),
        ("AggregationEvent", "ADD", "packing"),
        ("AggregationEvent", "DELETE", "unpacking"),
        ("AggregationEvent", "ADD", "packing"),
        ("AggregationEvent", "DELETE", "unpacking"),  # the decommissioned pack leaves its case
        ("ObjectEvent", "DELETE", "decommissioning"),
        ("ObjectEvent", "OBSERVE", "packing"),
        ("ObjectEvent", "OBSERVE", "shipping"),
        ("ObjectEvent", "OBSERVE", "dispensing"),
    ]
    assert [e["eventID"] for e in events] == reference_hashes(document)
    assert_valid(document)


def test_commissioning_states_the_lot_and_expiry(lifecycle, batch):
    [event] = EPCISEvent.objects.filter(biz_step="commissioning")
    body = served(event)

    assert body["ilmd"] == {
        "cbvmda:lotNumber": "0012",
        "cbvmda:itemExpirationDate": batch.expiry_date.isoformat(),
    }
    assert body["readPoint"] == {"id": f"https://id.gs1.org/414/{batch.site.gln}"}
    assert len(body["epcList"]) == 12 and body["disposition"] == "active"
    assert (event.serial_first_id, event.serial_last_id) == (
        lifecycle["rows"][0].pk,
        lifecycle["rows"][-1].pk,
    )
    # Named by id range: no index row per commissioned pack, and the packs are written
    # out only when the event is served.
    assert not EPCISEventEPC.objects.filter(event=event).exists()
    assert json.loads(event.document)["epcList"] == epcis.BY_RANGE


def test_a_large_generation_is_stated_in_bounded_events(batch, settings):
    settings.EPCIS_EPCS_PER_EVENT = 7
    generate(batch, 30)

    sizes = [len(served(event)["epcList"]) for event in EPCISEvent.objects.order_by("id")]

    assert sizes == [7, 7, 7, 7, 2]
    assert_valid(stored_document())


def test_the_query_document_validates_and_pages(lifecycle, operator):
    seen, url = [], f"{EVENTS}?perPage=4"
    while url:
        response = operator.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        document = response.json()
        assert document["type"] == "EPCISQueryDocument"
        assert_valid(document)
        seen += document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        link = response.get("Link")
        url = link[1 : link.index(">")] if link else None

    assert len(seen) == EPCISEvent.objects.count() == 9


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ({"EQ_bizStep": "packing"}, 3),
        ({"EQ_bizStep": "https://ref.gs1.org/cbv/BizStep-shipping|unpacking"}, 3),
        ({"EQ_action": "DELETE"}, 3),
        ({"EQ_eventType": "AggregationEvent"}, 4),
        ({"EQ_disposition": "damaged"}, 1),
        ({"GE_eventTime": "2000-01-01T00:00:00Z"}, 9),
        ({"LT_eventTime": "2000-01-01T00:00:00+01:00"}, 0),
    ],
)
def test_query_filters(lifecycle, operator, query, count):
    response = operator.get(EVENTS, query)

    assert response.status_code == 200, response.content
    assert len(response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == count


def _steps(response):
    events = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return [(e["bizStep"], e["action"]) for e in events]


def test_match_epc_finds_a_packs_history_including_its_commissioning(lifecycle, operator):
    row = lifecycle["rows"][0]
    dl = epcis.pack_epc(row.gtin, row.serial)

    by_link = operator.get(EVENTS, {"MATCH_epc": dl})
    by_other_host = operator.get(
        EVENTS, {"MATCH_epc": f"https://example.com/01/{row.gtin}/21/{row.serial}"}
    )

    assert _steps(by_link) == [
        ("commissioning", "ADD"),
        ("packing", "ADD"),
        ("unpacking", "DELETE"),
        ("decommissioning", "DELETE"),
    ]
    assert _steps(by_other_host) == _steps(by_link)


def test_match_parent_and_any_epc(lifecycle, operator):
    case = lifecycle["case"]
    uri = epcis.sscc_epc(case.sscc)
    urn = f"urn:epc:id:sscc:{case.sscc[1:8]}.{case.sscc[0]}{case.sscc[8:17]}"

    as_parent = operator.get(EVENTS, {"MATCH_parentID": uri})
    as_urn = operator.get(EVENTS, {"MATCH_parentID": urn})
    anywhere = operator.get(EVENTS, {"MATCH_anyEPC": uri})

    assert _steps(as_parent) == [
        ("packing", "ADD"),
        ("unpacking", "DELETE"),
        ("unpacking", "DELETE"),
    ]
    assert _steps(as_urn) == _steps(as_parent)
    assert _steps(anywhere) == [
        ("packing", "ADD"),
        ("unpacking", "DELETE"),
        ("packing", "ADD"),  # onto the pallet, as a child
        ("unpacking", "DELETE"),
    ]


def test_biz_location_and_other_sites(lifecycle, operator, site, auth_client):
    stranger = UserFactory()
    assign(stranger, "operator", SiteFactory())

    here = operator.get(EVENTS, {"EQ_bizLocation": epcis.location(site.gln)})
    elsewhere = operator.get(EVENTS, {"EQ_bizLocation": epcis.location("4012345000009")})
    theirs = auth_client(stranger).get(EVENTS)

    assert len(_steps(here)) == 9 and _steps(elsewhere) == []
    assert _steps(theirs) == []


@pytest.mark.parametrize(
    "query",
    [
        {"EQ_action": "UPDATE"},
        {"GE_eventTime": "yesterday"},
        {"perPage": "0"},
        {"perPage": "100000000000"},
        {"nextPageToken": "forged"},
        {"eventCountLimit": "3"},
        {"MATCH_epc": ",".join(["x"] * 1001)},
    ],
)
def test_bad_queries_are_400(operator, query):
    response = operator.get(EVENTS, query)

    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")


def test_the_batch_document_streams_every_event_of_the_batch(lifecycle, batch, operator):
    other = BatchFactory(site=batch.site, status=BatchStatus.IN_PRODUCTION)
    generate(other, 3)

    response = operator.get(f"/api/batches/{batch.pk}/epcis/")

    assert response.status_code == 200 and response.streaming
    document = json.loads(b"".join(response.streaming_content))
    assert_valid(document)
    events = document["epcisBody"]["eventList"]
    assert len(events) == 9  # not the other batch's commissioning
    assert [e["eventID"] for e in events] == reference_hashes(document)


@pytest.mark.django_db
def test_a_100000_pack_batch_streams_valid_in_bounded_pieces(site, operator):
    batch = BatchFactory(site=site, status=BatchStatus.IN_PRODUCTION)
    generate(batch, 100_000)

    response = operator.get(f"/api/batches/{batch.pk}/epcis/")

    pieces = list(response.streaming_content)
    assert max(len(piece) for piece in pieces) < 200_000  # one event at a time
    document = json.loads(b"".join(pieces))
    events = document["epcisBody"]["eventList"]
    assert sum(len(e["epcList"]) for e in events) == 100_000
    assert_valid(document)


def test_events_are_append_only(lifecycle, db_vendor):
    event = EPCISEvent.objects.first()

    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        EPCISEvent.objects.filter(pk=event.pk).update(document="{}")
    for sql in (
        "UPDATE serializations_epcisevent SET document = '{}'",
        "DELETE FROM serializations_epciseventepc",
        "DELETE FROM serializations_epciseventbatch",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    if db_vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE serializations_epcisevent CASCADE")
    assert EPCISEvent.objects.get(pk=event.pk).document == event.document


def test_a_rolled_back_change_states_nothing(batch, site):
    case = services.container_create(site=site, kind="case")
    rows = list(SerialNumber.objects.none())
    generate(batch, 2)
    rows = list(SerialNumber.objects.filter(batch=batch))
    before = EPCISEvent.objects.count()

    with pytest.raises(RuntimeError), transaction.atomic():
        services.container_pack(container=case, codes=[code(r) for r in rows])
        raise RuntimeError("rolled back")

    assert EPCISEvent.objects.count() == before


# --- identifiers and the schema -------------------------------------------------------


def test_epc_urns_and_digital_links_name_the_same_things():
    assert epcis.read_epc("urn:epc:id:sgtin:0614141.812345.6789") == epcis.Identifier(
        gtin="80614141123458", serial="6789"
    )
    assert epcis.read_epc("urn:epc:id:sscc:0614141.1234567890") == epcis.Identifier(
        sscc="106141412345678908"
    )
    assert epcis.read_epc("https://id.example.org/x/01/09506000134352/21/A%2F1") == (
        epcis.Identifier(gtin="09506000134352", serial="A/1")
    )
    assert epcis.read_epc("https://id.gs1.org/414/9520123456788") is None
    assert epcis.read_epc("urn:epc:id:sgtin:x.y.z") is None


def test_sscc_check_digits_follow_gs1():
    assert sscc.is_valid("106141412345678908")  # GS1's example SSCC
    assert not sscc.is_valid("106141412345678907")
    assert not sscc.is_valid("１06141412345678908")
    assert sscc.check_digit("37613032110910342") == "0"  # GS1 General Specifications


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.jsonld")), ids=lambda p: p.name)
def test_gs1s_examples_validate(path):
    assert_valid(json.loads(path.read_text()))


def test_an_unknown_action_does_not_validate():
    document = json.loads((EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_text())
    document["epcisBody"]["eventList"][0]["action"] = "UPSERT"

    errors = epcis.schema_errors(document)

    assert any(e.startswith("$.epcisBody.eventList[0].action:") for e in errors)


def test_formats_are_checked():
    document = json.loads((EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_text())
    event = document["epcisBody"]["eventList"][0]
    event["eventTime"] = "2005-13-45T25:00:00Z"
    event["readPoint"] = {"id": "not a uri"}

    errors = "\n".join(epcis.schema_errors(document))

    assert "is not a 'date-time'" in errors and "is not a 'uri'" in errors


@pytest.mark.parametrize(
    "name",
    ["EQ_bizStep", "EQ_action", "EQ_eventType", "MATCH_epc", "MATCH_anyEPC", "EQ_bizLocation"],
)
def test_hostile_query_values_are_answered_without_a_500(operator, name):
    for value in ("\x00", "é" * 300, "urn:epc:id:sgtin:" + "9" * 400, "%", "https://x/01/"):
        response = operator.get(EVENTS, {name: value})
        assert response.status_code in (200, 400), (name, value, response.content[:200])


@pytest.mark.parametrize(
    "query",
    [
        {"GE_eventTime": "2026-13-45T25:61:00Z"},
        {"LT_eventTime": "\x00"},
        {"perPage": "\x00"},
        {"nextPageToken": "\x00"},
        {"perPage": "٣"},
    ],
)
def test_hostile_times_pages_and_tokens_are_400(operator, query):
    assert operator.get(EVENTS, query).status_code == 400


@pytest.mark.parametrize("prefix", ["", "LOT", "A-", "X/"])
def test_both_ways_of_stating_a_generation_agree_with_gs1s_reference(batch, prefix):
    """Letters-and-digits serials are stated by the database on PostgreSQL, others (and
    SQLite) in Python; both must hash as GS1's reference does and serve the same packs."""
    with transaction.atomic():
        locked = type(batch).objects.select_related("site", "product").get(pk=batch.pk)
        generate_locked(
            locked, GenerationRequest(count=25, strategy="sequential", length=8, prefix=prefix)
        )
    document = stored_document()

    epcs = [epc for e in document["epcisBody"]["eventList"] for epc in e["epcList"]]
    serials = SerialNumber.objects.filter(batch=batch).order_by("id")
    assert epcs == [epcis.pack_epc(s.gtin, s.serial) for s in serials]
    assert [e["eventID"] for e in document["epcisBody"]["eventList"]] == reference_hashes(document)
    assert_valid(document)


def test_json_ld_is_served_when_asked_for(lifecycle, batch, operator):
    query = operator.get(EVENTS, HTTP_ACCEPT="application/ld+json")
    export = operator.get(f"/api/batches/{batch.pk}/epcis/", HTTP_ACCEPT="application/ld+json")

    assert query.status_code == 200 and query["Content-Type"] == "application/ld+json"
    assert export.status_code == 200 and export["Content-Type"] == "application/ld+json"
    assert operator.get(EVENTS)["Content-Type"] == "application/json"


def test_the_schema_offers_no_format_parameter_for_the_epcis_reads(client):
    """A fuzzing finding: a second renderer with a format of its own made the schema
    offer ?format=, and an unknown one was an undocumented 404."""
    schema = client.get("/api/schema/?format=json").json()

    for path in ("/api/epcis/events/", "/api/batches/{batch_pk}/epcis/"):
        names = [p["name"] for p in schema["paths"][path]["get"].get("parameters", [])]
        assert "format" not in names


def test_biz_location_as_an_sgln_urn(lifecycle, operator, site):
    urn = f"urn:epc:id:sgln:{site.gln[:7]}.{site.gln[7:12]}.0"

    response = operator.get(EVENTS, {"EQ_bizLocation": urn})

    assert len(_steps(response)) == 9


def test_a_page_of_commissionings_costs_the_same_queries_however_many(
    batch, operator, settings, django_assert_max_num_queries
):
    settings.EPCIS_EPCS_PER_EVENT = 3
    generate(batch, 6)
    with CaptureQueriesContext(connection) as few:
        assert len(_events(operator.get(EVENTS))) == 2
    generate(batch, 30)

    with django_assert_max_num_queries(len(few)):
        assert len(_events(operator.get(EVENTS))) == 12


def _events(response):
    return response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
