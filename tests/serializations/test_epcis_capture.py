"""POST /api/epcis/capture/: GS1's schema, our rules, all or nothing, idempotent by
eventID, and a round trip: a batch's document rebuilds its hierarchy and statuses."""

import copy
import json
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from batches.choices import BatchStatus
from core import reasons
from serializations import epcis, services
from serializations.models import Container, EPCISEvent, SerialNumber
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory
from tests.conftest import assign
from tests.serializations.factories import (
    epcis_document,
    epcis_event,
    make_serials,
    packing_event,
)
from tests.sites.factories import SiteFactory

URL = "/api/epcis/capture/"
EXAMPLES = Path(__file__).parent / "epcis_examples"
TABLES = (
    "serializations_epciseventepc",
    "serializations_epciseventbatch",
    "serializations_epcisevent",
    "serializations_serialnumber",
    "serializations_container",
    "serializations_sscccounter",
)


def send(client, document, **extra):
    return client.post(URL, json.dumps(document), content_type="application/json", **extra)


def hierarchy():
    """Every pack's status and container, and every container's kind, parent, status."""
    packs = sorted(SerialNumber.objects.values_list("gtin", "serial", "status", "container__sscc"))
    boxes = sorted(Container.objects.values_list("sscc", "kind", "parent__sscc", "status"))
    return packs, boxes


def wipe():
    """Empty the serialization data the way a second, empty database of ours is: the
    master data (sites, products, batches) stays, as capture needs it."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            for table in TABLES[:3]:
                for op in ("update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op}")
        cursor.execute("UPDATE serializations_container SET parent_id = NULL")
        for table in TABLES:
            cursor.execute(f"DELETE FROM {table}")
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


# --- the round trip -------------------------------------------------------------------


def test_a_batchs_document_captured_into_an_empty_database_rebuilds_it(lifecycle, batch, operator):
    exported = json.loads(
        b"".join(operator.get(f"/api/batches/{batch.pk}/epcis/").streaming_content)
    )
    before = hierarchy()
    event_ids = sorted(EPCISEvent.objects.values_list("event_id", flat=True))
    wipe()
    assert SerialNumber.objects.count() == 0 == EPCISEvent.objects.count()

    response = send(operator, exported)

    assert response.status_code == 200, response.content
    assert response.json()["captured"] == len(event_ids) and response.json()["duplicates"] == 0
    assert hierarchy() == before
    assert sorted(EPCISEvent.objects.values_list("event_id", flat=True)) == event_ids
    assert set(EPCISEvent.objects.values_list("captured", flat=True)) == {True}
    # The events are served as they were sent.
    again = json.loads(b"".join(operator.get(f"/api/batches/{batch.pk}/epcis/").streaming_content))
    assert again["epcisBody"] == exported["epcisBody"]
    # The same document again changes nothing.
    second = send(operator, exported)
    assert second.json() == {"captured": 0, "duplicates": len(event_ids), "event_ids": []}
    assert hierarchy() == before


def test_events_this_service_stated_are_duplicates(lifecycle, batch, operator):
    exported = json.loads(
        b"".join(operator.get(f"/api/batches/{batch.pk}/epcis/").streaming_content)
    )
    before = hierarchy()

    response = send(operator, exported)

    assert response.json()["captured"] == 0 and hierarchy() == before


# --- a partner's events ----------------------------------------------------------------


@pytest.fixture
def partner_packs(batch):
    return make_serials(batch, [f"CMO{n:05d}" for n in range(4)])


def test_a_contract_manufacturers_commissioning_and_packing_apply(operator, site, batch):
    sscc = "106141412345678908"
    commissioned = epcis_event(
        site,
        type="ObjectEvent",
        action="ADD",
        bizStep="commissioning",
        disposition="active",
        epcList=[epcis.pack_epc(batch.product.gtin, f"CMO-{n}") for n in range(3)],
        ilmd={"cbvmda:lotNumber": batch.batch_number},
    )
    packed = epcis_event(
        site,
        type="AggregationEvent",
        action="ADD",
        bizStep="packing",
        parentID=f"urn:epc:id:sscc:0614141.{sscc[0]}{sscc[8:17]}",
        childEPCs=commissioned["epcList"],
    )

    response = send(operator, epcis_document(commissioned, packed))

    assert response.status_code == 200, response.content
    assert response.json()["captured"] == 2
    rows = SerialNumber.objects.filter(serial__startswith="CMO-")
    assert rows.count() == 3 and {r.status for r in rows} == {"packed"}
    assert {r.container.sscc for r in rows} == {sscc}
    assert Container.objects.get(sscc=sscc).kind == "case"
    # Computed eventIDs for events sent without one; the commissioning's packs are found.
    [stored] = EPCISEvent.objects.filter(biz_step="commissioning")
    assert stored.event_id == epcis.event_hash(commissioned)
    found = operator.get("/api/epcis/events/", {"MATCH_epc": commissioned["epcList"][0]}).json()[
        "epcisBody"
    ]["queryResults"]["resultsBody"]["eventList"]
    assert [e["bizStep"] for e in found] == ["commissioning", "packing"]


def test_one_refused_event_refuses_the_document_and_names_it(operator, site, partner_packs):
    other_site = SiteFactory()
    good = packing_event(site, "106141412345678908", partner_packs[:2])
    unknown = epcis_event(
        site,
        type="ObjectEvent",
        action="OBSERVE",
        bizStep="dispensing",
        epcList=[epcis.pack_epc(partner_packs[0].gtin, "NOSUCH")],
    )
    elsewhere = epcis_event(
        other_site,
        type="ObjectEvent",
        action="OBSERVE",
        bizStep="packing",
        epcList=[epcis.pack_epc(p.gtin, p.serial) for p in partner_packs[2:]],
    )
    receiving = epcis_event(
        site,
        type="ObjectEvent",
        action="OBSERVE",
        bizStep="receiving",
        epcList=[epcis.pack_epc(partner_packs[3].gtin, partner_packs[3].serial)],
    )

    response = send(operator, epcis_document(good, unknown, elsewhere, receiving))

    assert response.status_code == 400
    errors = response.json()["events"]
    assert [e.split(":")[0] for e in errors] == ["eventList[1]", "eventList[2]", "eventList[3]"]
    assert "unknown serial number" in errors[0]
    assert "not one of your sites" in errors[1]
    assert "bizStep receiving is not one this service applies" in errors[2]
    assert not Container.objects.exists() and not EPCISEvent.objects.exists()
    assert {s.status for s in SerialNumber.objects.all()} == {"commissioned"}


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.jsonld")), ids=lambda p: p.name)
def test_gs1s_examples_are_refused_by_our_rules_with_a_clear_error(operator, path):
    response = send(operator, json.loads(path.read_text()))

    assert response.status_code == 400, response.content
    errors = response.json()["events"]
    assert errors and all(e.startswith("eventList[") for e in errors)
    assert not EPCISEvent.objects.exists()


def test_a_gs1_example_rewritten_to_our_packs_is_accepted(operator, site, partner_packs):
    document = json.loads((EXAMPLES / "Example_9.6.3-AggregationEvent.jsonld").read_text())
    [example] = document["epcisBody"]["eventList"]
    example.update(
        action="ADD",
        bizStep="packing",
        parentID="urn:epc:id:sscc:0614141.1234567890",
        childEPCs=[
            f"urn:epc:id:sgtin:{p.gtin[1:8]}.{p.gtin[0]}{p.gtin[8:13]}.{p.serial}"
            for p in partner_packs
        ],
        readPoint={"id": f"urn:epc:id:sgln:{site.gln[:7]}.{site.gln[7:12]}.0"},
        bizLocation={"id": epcis.location(site.gln)},
    )
    del example["childQuantityList"]

    response = send(operator, document)

    assert response.status_code == 200, response.content
    stored = EPCISEvent.objects.get()
    assert json.loads(stored.document)["example:myField"] == example["example:myField"]
    assert stored.event_id == example["eventID"]
    assert set(SerialNumber.objects.values_list("container__sscc", flat=True)) == {
        "106141412345678908"
    }


# --- bad documents ---------------------------------------------------------------------


def test_schema_errors_are_named_by_their_path(operator, site, partner_packs):
    bad = packing_event(site, "106141412345678908", partner_packs)
    bad["action"] = "UPSERT"

    response = send(operator, epcis_document(bad))

    assert response.status_code == 400
    assert any(e.startswith("$.epcisBody.eventList[0].action") for e in response.json()["document"])


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        '"x"',
        "{",
        "{}",
        json.dumps({"@context": [], "type": "EPCISQueryDocument", "epcisBody": {}}),
        json.dumps(epcis_document({"type": "ObjectEvent"})),
    ],
)
def test_malformed_documents_are_400_never_500(operator, body):
    response = operator.post(URL, body, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")


def test_a_query_document_is_not_captured(operator, lifecycle):
    query = operator.get("/api/epcis/events/").json()

    response = send(operator, query)

    assert response.status_code == 400 and "EPCISDocument" in str(response.json())


@override_settings(EPCIS_CAPTURE_MAX_EVENTS=1)
def test_too_many_events_are_refused(operator, site, partner_packs):
    events = [packing_event(site, "106141412345678908", [p]) for p in partner_packs[:2]]

    response = send(operator, epcis_document(*events))

    assert response.status_code == 400 and "At most 1 events" in str(response.json())


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1_000)
def test_a_document_over_the_body_limit_is_413(operator, site, partner_packs):
    document = epcis_document(packing_event(site, "106141412345678908", partner_packs))
    document["epcisBody"]["eventList"][0]["example:pad"] = "x" * 2_000

    assert send(operator, document).status_code == 413


def test_json_ld_is_accepted(operator, site, partner_packs):
    document = epcis_document(packing_event(site, "106141412345678908", partner_packs[:1]))

    response = operator.post(URL, json.dumps(document), content_type="application/ld+json")

    assert response.status_code == 200, response.content


def test_capture_needs_serial_update_status(qa, site, partner_packs, auth_client):
    document = epcis_document(packing_event(site, "106141412345678908", partner_packs[:1]))
    stranger = UserFactory()
    assign(stranger, "operator", SiteFactory())

    assert send(qa, document).status_code == 403
    refused = send(auth_client(stranger), document)
    assert refused.status_code == 400 and "not one of your sites" in str(refused.json())
    assert not EPCISEvent.objects.exists()


def test_shipping_a_captured_pallet_needs_a_released_batch(operator, site, batch, partner_packs):
    case = services.container_create(site=site, kind="case")
    services.container_pack(
        container=case, codes=[f"(01){p.gtin}(21){p.serial}" for p in partner_packs]
    )
    shipping = epcis_event(
        site,
        type="ObjectEvent",
        action="OBSERVE",
        bizStep="shipping",
        disposition="in_transit",
        epcList=[epcis.sscc_epc(case.sscc)],
        destinationList=[{"type": "location", "destination": epcis.location("4012345000009")}],
    )
    refused = send(operator, epcis_document(copy.deepcopy(shipping)))
    assert refused.status_code == 400 and "not released" in str(refused.json())

    with reasons.given("Test"):
        type(batch).objects.filter(pk=batch.pk).update(status=BatchStatus.RELEASED)
    accepted = send(operator, epcis_document(shipping))

    assert accepted.status_code == 200, accepted.content
    assert {s.status for s in SerialNumber.objects.filter(container=case)} == {"shipped"}
    assert Container.objects.get(pk=case.pk).destination_gln == "4012345000009"


def test_a_batch_of_another_product_is_never_commissioned_into(operator, site):
    mine = BatchFactory(site=site, status=BatchStatus.IN_PRODUCTION)
    other = BatchFactory(site=site, status=BatchStatus.IN_PRODUCTION)
    commissioning = epcis_event(
        site,
        type="ObjectEvent",
        action="ADD",
        bizStep="commissioning",
        epcList=[epcis.pack_epc(other.product.gtin, "X1")],
        ilmd={"cbvmda:lotNumber": mine.batch_number},
    )

    response = send(operator, epcis_document(commissioning))

    assert response.status_code == 400 and "No batch" in str(response.json())
    assert not SerialNumber.objects.exists()


# --- the command line -------------------------------------------------------------------


def test_the_command_applies_a_file_as_its_actor(tmp_path, site, operator_user, partner_packs):
    from django.core.management import CommandError, call_command

    from audit.models import AuditLog

    path = tmp_path / "cmo.json"
    path.write_text(
        json.dumps(epcis_document(packing_event(site, "106141412345678908", partner_packs)))
    )

    call_command("epcis_capture", str(path), actor=operator_user.username)
    call_command("epcis_capture", str(path), actor=operator_user.username)  # a duplicate

    assert SerialNumber.objects.filter(container__sscc="106141412345678908").count() == 4
    record = AuditLog.objects.get(action="container_pack")
    assert record.actor_username == operator_user.username
    assert record.path == "manage.py epcis_capture"
    assert EPCISEvent.objects.count() == 1
    stranger = UserFactory()
    assign(stranger, "qa", site)
    unpacking = packing_event(site, "106141412345678908", partner_packs[:1])
    unpacking.update(action="DELETE", bizStep="unpacking")
    other = tmp_path / "unpack.json"
    other.write_text(json.dumps(epcis_document(unpacking)))
    with pytest.raises(CommandError, match="not one of your sites"):
        call_command("epcis_capture", str(other), actor=stranger.username)
    assert SerialNumber.objects.filter(container__sscc="106141412345678908").count() == 4


def test_the_command_refuses_what_the_api_refuses(tmp_path, site, operator_user):
    from django.core.management import CommandError, call_command

    bad, missing = tmp_path / "bad.json", tmp_path / "none.json"
    bad.write_text("{not json")

    with pytest.raises(CommandError, match="not a JSON document"):
        call_command("epcis_capture", str(bad), actor=operator_user.username)
    with pytest.raises(CommandError, match="No such file"):
        call_command("epcis_capture", str(missing), actor=operator_user.username)
    with pytest.raises(CommandError):
        call_command("epcis_capture", str(bad))  # no --actor


# --- what the API's own rules refuse, capture refuses too --------------------------------


def test_a_parent_with_a_wrong_check_digit_is_no_sscc(operator, site, partner_packs):
    event = packing_event(site, "106141412345678908", partner_packs[:1])
    event["parentID"] = "https://id.gs1.org/00/106141412345678907"

    response = send(operator, epcis_document(event))

    assert response.status_code == 400 and "is no SSCC" in str(response.json())
    assert not Container.objects.exists()


def test_no_container_is_made_at_an_inactive_site(operator, site, partner_packs):
    type(site).objects.filter(pk=site.pk).update(is_active=False)

    response = send(
        operator, epcis_document(packing_event(site, "106141412345678908", partner_packs))
    )

    assert response.status_code == 400 and "inactive" in str(response.json())
    assert not Container.objects.exists()


def test_our_numbering_skips_an_sscc_a_partner_already_used(operator, site, partner_packs):
    from serializations.sscc import check_digit

    site.gs1_company_prefix = "4012345"
    site.save()
    taken = "0" + "4012345" + "000000001"
    taken += check_digit(taken)
    assert (
        send(operator, epcis_document(packing_event(site, taken, partner_packs))).status_code == 200
    )

    made = services.container_create(site=site, kind="case")

    assert made.sscc != taken and made.sscc[:17] == "0" + "4012345" + "000000002"


def test_vocabulary_in_full_is_found_by_its_bare_name(operator, site, partner_packs):
    event = packing_event(site, "106141412345678908", partner_packs[:1])
    event.update(bizStep="https://ref.gs1.org/cbv/BizStep-packing", disposition="in_progress")
    assert send(operator, epcis_document(event)).status_code == 200

    found = operator.get("/api/epcis/events/", {"EQ_bizStep": "packing"}).json()

    assert len(found["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 1


@pytest.mark.parametrize(
    "field",
    [
        {"eventID": "urn:uuid:" + "a" * 200},
        {"disposition": "https://example.com/" + "d" * 100},
    ],
)
def test_values_longer_than_their_columns_are_400_not_500(operator, site, partner_packs, field):
    event = packing_event(site, "106141412345678908", partner_packs[:1])
    event.update(field)

    response = send(operator, epcis_document(event))

    assert response.status_code == 400 and "longer than" in str(response.json())
    assert not EPCISEvent.objects.exists()
