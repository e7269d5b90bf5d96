"""/api/containers/: SSCCs, packing rules (all or nothing), unpacking, shipping, scope."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings

from audit.models import AuditLog
from batches.choices import BatchStatus
from core import reasons
from core.exceptions import StateConflict
from serializations import events, services, sscc
from serializations.choices import ContainerStatus, SerialStatus
from serializations.models import Container, EPCISEvent, SerialNumber
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory, gtin14
from tests.concurrency import together
from tests.conftest import assign
from tests.serializations.factories import make_container, make_serials
from tests.sites.factories import SiteFactory

URL = "/api/containers/"
C, P, S, DE = (
    SerialStatus.COMMISSIONED,
    SerialStatus.PACKED,
    SerialStatus.SHIPPED,
    SerialStatus.DECOMMISSIONED,
)


def code(row):
    return f"(01){row.gtin}(21){row.serial}"


@pytest.fixture
def batch(site):
    return BatchFactory(site=site, status=BatchStatus.IN_PRODUCTION)


@pytest.fixture
def packs(batch):
    return make_serials(batch, [f"CASE{n:04d}" for n in range(6)])


def create(client, site, kind="case", **extra):
    response = client.post(URL, {"site": str(site.pk), "kind": kind, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def pack(client, number, children):
    return client.post(f"{URL}{number}/pack/", {"children": children}, format="json")


def release(batch):
    """A test shortcut around the signed release."""
    with reasons.given("Released for the test"):
        type(batch).objects.filter(pk=batch.pk).update(status=BatchStatus.RELEASED)


def statuses(rows):
    return [SerialNumber.objects.get(pk=row.pk).status for row in rows]


# --- making containers ---------------------------------------------------------------


def test_a_new_case_gets_the_next_sscc_of_the_sites_prefix(operator, site):
    site.gs1_company_prefix = "952012"
    site.save()

    first, second = create(operator, site), create(operator, site, "pallet")

    assert first["sscc"] == "0952012" + "0000000001" + first["sscc"][-1]
    assert second["sscc"][:17] == "0952012" + "0000000002"
    for body in (first, second):
        assert sscc.is_valid(body["sscc"])
        assert body["gs1"] == f"(00){body['sscc']}"
        assert body["digital_link"] == f"https://id.gs1.org/00/{body['sscc']}"
        assert body["status"] == "open" and body["parent"] is None
    record = AuditLog.objects.get(resource_id=first["id"])
    assert record.action == "create" and record.site_id == site.pk


@override_settings(GS1_COMPANY_PREFIX="4012345", GS1_SSCC_EXTENSION_DIGIT=3)
def test_without_a_site_prefix_the_setting_numbers_it(operator, site):
    body = create(operator, site)

    assert body["sscc"].startswith("34012345")


@override_settings(GS1_COMPANY_PREFIX="")
def test_no_prefix_at_all_is_a_conflict(operator, site):
    response = operator.post(URL, {"site": str(site.pk), "kind": "case"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "no_company_prefix"
    assert not Container.objects.exists()


@override_settings(GS1_COMPANY_PREFIX="999999999999")
def test_an_exhausted_prefix_is_a_conflict_and_never_reuses_a_number(operator, site):
    # Extension digit + 12-digit prefix leaves 4 digits: 9,999 references.
    from serializations.models import SSCCCounter

    SSCCCounter.objects.create(key="0999999999999", last_reference=9_998)
    assert create(operator, site)["sscc"].startswith("09999999999999999")

    response = operator.post(URL, {"site": str(site.pk), "kind": "case"}, format="json")

    assert response.status_code == 409 and response.json()["code"] == "sscc_exhausted"


def test_a_container_goes_only_to_a_site_where_the_caller_may_pack(operator, site):
    elsewhere = SiteFactory()
    foreign_batch = BatchFactory(site=elsewhere)

    other_site = operator.post(URL, {"site": str(elsewhere.pk), "kind": "case"}, format="json")
    other_batch = operator.post(
        URL, {"site": str(site.pk), "kind": "case", "batch": str(foreign_batch.pk)}, format="json"
    )

    assert other_site.status_code == 400 and "site" in other_site.json()
    assert other_batch.status_code == 400 and "batch" in other_batch.json()
    assert not Container.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "case"},
        {"kind": "crate"},
        {"kind": "case", "sscc": "000000000000000000"},
        {"kind": "case", "status": "shipped"},
        [],
        "case",
    ],
)
def test_bad_creation_bodies_are_400_and_make_nothing(operator, site, body):
    if isinstance(body, dict) and body.get("kind") != "crate" and len(body) > 1:
        body = {"site": str(site.pk), **body}
    response = operator.post(URL, body, format="json")

    assert response.status_code == 400, response.content
    assert not Container.objects.exists()


def test_qa_may_look_but_not_pack(qa, operator, site, packs):
    case = create(operator, site)

    assert qa.get(f"{URL}{case['sscc']}/").status_code == 200
    assert qa.post(URL, {"site": str(site.pk), "kind": "case"}, format="json").status_code == 403
    assert pack(qa, case["sscc"], [code(packs[0])]).status_code == 403
    assert SerialNumber.objects.get(pk=packs[0].pk).container_id is None


def test_containers_of_other_sites_do_not_exist_for_the_caller(operator, site, auth_client):
    stranger = UserFactory()
    assign(stranger, "operator", SiteFactory())
    client = auth_client(stranger)
    case = create(operator, site)

    assert client.get(f"{URL}{case['sscc']}/").status_code == 404
    assert pack(client, case["sscc"], []).status_code == 404
    assert client.get(URL).json()["count"] == 0


# --- packing ------------------------------------------------------------------------


def test_packs_go_into_a_case_and_become_packed(operator, site, packs):
    case = create(operator, site)

    response = pack(operator, case["sscc"], [code(p) for p in packs[:4]])

    assert response.status_code == 200, response.content
    assert response.json() == {
        "container": case["sscc"],
        "packs": 4,
        "containers": 0,
        "pack_count": 4,
    }
    assert statuses(packs[:4]) == [P] * 4 and statuses(packs[4:]) == [C] * 2
    assert set(
        SerialNumber.objects.filter(container__sscc=case["sscc"]).values_list("pk", flat=True)
    ) == {p.pk for p in packs[:4]}
    record = AuditLog.objects.get(action=events.CONTAINER_PACK)
    assert record.new_values["packs"]["count"] == 4
    assert record.new_values["moved_to_packed"] == 4
    # The serials' own change is the pack's record, not a generic bulk record.
    assert not AuditLog.objects.filter(action="bulk_update").exists()
    [event] = EPCISEvent.objects.filter(event_type="AggregationEvent")
    body = json.loads(event.document)
    assert body["action"] == "ADD" and body["bizStep"] == "packing"
    assert body["parentID"] == f"https://id.gs1.org/00/{case['sscc']}"
    assert len(body["childEPCs"]) == 4


def test_cases_and_loose_packs_go_onto_a_pallet(operator, site, packs):
    case, pallet = create(operator, site), create(operator, site, "pallet")
    assert pack(operator, case["sscc"], [code(p) for p in packs[:3]]).status_code == 200

    response = pack(operator, pallet["sscc"], [f"(00){case['sscc']}", code(packs[3])])

    assert response.status_code == 200, response.content
    assert response.json()["pack_count"] == 4 and response.json()["containers"] == 1
    assert Container.objects.get(sscc=case["sscc"]).parent.sscc == pallet["sscc"]
    detail = operator.get(f"{URL}{case['sscc']}/").json()
    assert detail["parent"] == pallet["sscc"]


def test_every_offending_child_is_named_and_nothing_changes(operator, site, batch, packs):
    other_site_pack = make_serials(BatchFactory(site=SiteFactory()), ["FAR0001"])[0]
    [gone] = make_serials(batch, ["GONE0001"], status=DE, reason="damaged")
    [out] = make_serials(batch, ["OUT00001"], status=S)
    full = make_container(site)
    make_serials(batch, ["INSIDE01"], status=P, container=full)
    inside = SerialNumber.objects.get(serial="INSIDE01")
    case, pallet = create(operator, site), create(operator, site, "pallet")
    foreign_case = make_container(SiteFactory())
    children = [
        code(packs[0]),  # fine
        code(other_site_pack),
        code(gone),
        code(out),
        code(inside),
        f"(01){gtin14(998)}(21)NOSUCHPACK",
        f"(00){pallet['sscc']}",
        f"(00){foreign_case.sscc}",
        "not a code",
    ]

    response = pack(operator, case["sscc"], children)

    assert response.status_code == 400
    errors = response.json()["children"]
    assert len(errors) == 1 and errors[0].startswith("not a code")  # codes are read first
    response = pack(operator, case["sscc"], children[:-1])
    errors = response.json()["children"]
    assert len(errors) == len(children) - 2, errors
    joined = "\n".join(errors)
    assert "is decommissioned" in joined and "is shipped" in joined
    assert "already in another container" in joined and "a case holds packs only" in joined
    assert joined.count("not at site") == 2  # another site's pack, an unknown one
    assert joined.count("a case holds packs only") == 2
    assert statuses([packs[0]]) == [C]
    assert not SerialNumber.objects.filter(container__sscc=case["sscc"]).exists()
    assert not AuditLog.objects.filter(action=events.CONTAINER_PACK).exists()
    assert not EPCISEvent.objects.filter(event_type="AggregationEvent").exists()


def test_a_pallet_goes_into_nothing_and_nothing_holds_itself(operator, site):
    pallet, other = create(operator, site, "pallet"), create(operator, site, "pallet")

    onto_pallet = pack(operator, other["sscc"], [f"(00){pallet['sscc']}"])
    itself = pack(operator, pallet["sscc"], [f"(00){pallet['sscc']}"])

    assert "a pallet goes into no container" in onto_pallet.json()["children"][0]
    assert "cannot hold itself" in itself.json()["children"][0]


def test_a_case_holds_one_batch_unless_the_site_allows_mixed_cases(operator, site, packs):
    [stranger] = make_serials(BatchFactory(site=site), ["OTHER001"])
    case = create(operator, site)

    mixed = pack(operator, case["sscc"], [code(packs[0]), code(stranger)])
    assert mixed.status_code == 400
    assert "does not allow mixed cases" in mixed.json()["children"][0]
    assert pack(operator, case["sscc"], [code(packs[0])]).status_code == 200
    later = pack(operator, case["sscc"], [code(stranger)])
    assert later.status_code == 400  # the case's batch is the one already in it

    site.allow_mixed_cases = True
    site.save()
    assert pack(operator, case["sscc"], [code(stranger)]).status_code == 200


def test_a_case_made_for_a_batch_takes_only_that_batch(operator, site, batch, packs):
    [stranger] = make_serials(BatchFactory(site=site), ["OTHER002"])
    case = create(operator, site, batch=str(batch.pk))

    response = pack(operator, case["sscc"], [code(stranger)])

    assert response.status_code == 400 and "holds its own batch only" in str(response.json())


def test_hostile_children_lists_are_400(operator, site, packs):
    case = create(operator, site)
    number = case["sscc"]
    for body in (
        {"children": []},
        {"children": "(01)x"},
        {"children": [1, 2]},
        {"children": [None]},
        {"children": ["x" * 101]},
        {"children": [code(packs[0])] * 10_001},
        {"children": [code(packs[0])], "extra": 1},
        {},
    ):
        response = operator.post(f"{URL}{number}/pack/", body, format="json")
        assert response.status_code == 400, (body if len(str(body)) < 200 else "long", response)
    assert statuses([packs[0]]) == [C]


def test_a_container_that_is_not_an_sscc_is_404(operator):
    assert operator.get(f"{URL}12345/").status_code == 404
    assert (
        operator.post(f"{URL}{'1' * 18}/pack/", {"children": ["x"]}, format="json").status_code
        == 404
    )


# --- unpacking ----------------------------------------------------------------------


def test_unpack_named_children_or_everything(operator, site, packs):
    case = create(operator, site)
    pack(operator, case["sscc"], [code(p) for p in packs[:4]])

    named = operator.post(
        f"{URL}{case['sscc']}/unpack/", {"children": [code(packs[0])]}, format="json"
    )
    assert named.status_code == 200 and named.json()["pack_count"] == 3
    wrong = operator.post(
        f"{URL}{case['sscc']}/unpack/", {"children": [code(packs[5])]}, format="json"
    )
    assert wrong.status_code == 400 and "is not in" in wrong.json()["children"][0]
    everything = operator.post(f"{URL}{case['sscc']}/unpack/", {}, format="json")

    assert everything.status_code == 200 and everything.json()["packs"] == 3
    assert not SerialNumber.objects.filter(container__isnull=False).exists()
    assert statuses(packs[:4]) == [P] * 4  # unpacking does not undo the move to packed
    deletes = EPCISEvent.objects.filter(event_type="AggregationEvent", action="DELETE")
    assert [len(json.loads(e.document)["childEPCs"]) for e in deletes] == [1, 3]
    assert AuditLog.objects.filter(action=events.CONTAINER_UNPACK).count() == 2


# --- shipping -----------------------------------------------------------------------


def _loaded_pallet(operator, site, packs):
    case, pallet = create(operator, site), create(operator, site, "pallet")
    assert pack(operator, case["sscc"], [code(p) for p in packs[:3]]).status_code == 200
    assert (
        pack(operator, pallet["sscc"], [f"(00){case['sscc']}", code(packs[3])]).status_code == 200
    )
    return case, pallet


def ship(client, number, **body):
    return client.post(
        f"{URL}{number}/ship/", {"destination_gln": "4012345000009", **body}, format="json"
    )


def test_a_tree_of_an_unreleased_batch_is_not_shipped(operator, site, batch, packs):
    _, pallet = _loaded_pallet(operator, site, packs)

    response = ship(operator, pallet["sscc"])

    assert response.status_code == 409 and response.json()["code"] == "batch_not_released"
    assert statuses(packs[:4]) == [P] * 4


def test_shipping_a_pallet_ships_its_cases_and_every_pack(operator, site, batch, packs):
    case, pallet = _loaded_pallet(operator, site, packs)
    release(batch)

    nested = ship(operator, case["sscc"])
    response = ship(operator, pallet["sscc"], reference="DN-2026/114")

    assert nested.status_code == 409 and nested.json()["code"] == "container_nested"
    assert response.status_code == 200, response.content
    assert response.json()["packs"] == 4 and response.json()["containers"] == 2
    assert statuses(packs[:4]) == [S] * 4 and statuses(packs[4:]) == [C] * 2
    assert set(Container.objects.values_list("status", flat=True)) == {ContainerStatus.SHIPPED}
    [event] = EPCISEvent.objects.filter(biz_step="shipping")
    body = json.loads(event.document)
    assert body["epcList"] == [f"https://id.gs1.org/00/{pallet['sscc']}"]
    assert body["destinationList"] == [
        {"type": "location", "destination": "https://id.gs1.org/414/4012345000009"}
    ]
    assert body["bizTransactionList"][0]["bizTransaction"].endswith(":DN-2026%2F114")
    record = AuditLog.objects.get(action=events.CONTAINER_SHIP)
    assert record.new_values["packs"]["count"] == 4
    # Shipped: nothing more goes in or out, and it is not shipped twice.
    assert ship(operator, pallet["sscc"]).status_code == 409
    assert pack(operator, pallet["sscc"], [code(packs[4])]).status_code == 409
    assert operator.post(f"{URL}{case['sscc']}/unpack/", {}, format="json").status_code == 409


def test_an_empty_container_is_not_shipped(operator, site):
    pallet = create(operator, site, "pallet")

    assert ship(operator, pallet["sscc"]).json()["code"] == "container_empty"


@pytest.mark.parametrize("gln", ["4012345000008", "401234500000", "x" * 13])
def test_a_bad_destination_is_400(operator, site, gln):
    pallet = create(operator, site, "pallet")

    response = operator.post(
        f"{URL}{pallet['sscc']}/ship/", {"destination_gln": gln}, format="json"
    )

    assert response.status_code == 400 and "destination_gln" in response.json()


def test_a_bad_reference_is_400(operator, site):
    pallet = create(operator, site, "pallet")

    response = ship(operator, pallet["sscc"], reference="a b")

    assert response.status_code == 400 and "reference" in response.json()


# --- status moves of packs in containers ---------------------------------------------


def test_a_pack_in_a_case_is_shipped_with_its_case_only(operator, site, batch, packs):
    case = create(operator, site)
    pack(operator, case["sscc"], [code(packs[0])])
    release(batch)

    response = operator.post(
        "/api/serials/status/",
        {"serials": [code(packs[0])], "status": "shipped"},
        format="json",
        HTTP_X_CHANGE_REASON="Shipping",
    )

    assert response.status_code == 400 and "ship the container" in str(response.json())


def test_decommissioning_a_pack_takes_it_out_of_its_case(operator, site, packs):
    case = create(operator, site)
    pack(operator, case["sscc"], [code(p) for p in packs[:2]])

    response = operator.post(
        "/api/serials/status/",
        {"serials": [code(packs[0])], "status": "decommissioned", "reason": "damaged"},
        format="json",
    )

    assert response.status_code == 200, response.content
    row = SerialNumber.objects.get(pk=packs[0].pk)
    assert row.status == DE and row.container_id is None
    assert SerialNumber.objects.get(pk=packs[1].pk).container.sscc == case["sscc"]
    unpacked = EPCISEvent.objects.get(event_type="AggregationEvent", action="DELETE")
    deleted = EPCISEvent.objects.get(event_type="ObjectEvent", action="DELETE")
    assert json.loads(unpacked.document)["childEPCs"] == [
        f"https://id.gs1.org/01/{packs[0].gtin}/21/{packs[0].serial}"
    ]
    assert json.loads(deleted.document)["disposition"] == "damaged"
    record = AuditLog.objects.get(action=events.SERIAL_STATUS)
    assert record.new_values["touched"]["unpacked_from"] == [case["sscc"]]
    assert "container" in record.changed_fields


def test_verify_names_the_case_and_the_pallet(operator, site, packs):
    case, pallet = _loaded_pallet(operator, site, packs)

    inner = operator.get("/api/serials/verify/", {"code": code(packs[0])}).json()
    loose = operator.get("/api/serials/verify/", {"code": code(packs[3])}).json()
    free = operator.get("/api/serials/verify/", {"code": code(packs[5])}).json()

    assert inner["container"]["sscc"] == case["sscc"] and inner["container"]["kind"] == "case"
    assert inner["top_container"]["sscc"] == pallet["sscc"]
    assert loose["container"]["sscc"] == loose["top_container"]["sscc"] == pallet["sscc"]
    assert free["container"] is None and free["top_container"] is None


# --- the detail and its children -------------------------------------------------------


def test_the_detail_pages_through_cases_then_packs(operator, site, batch):
    rows = make_serials(batch, [f"PAL{n:04d}" for n in range(5)])
    pallet = create(operator, site, "pallet")
    cases = [create(operator, site) for _ in range(2)]
    pack(operator, cases[0]["sscc"], [code(rows[0])])
    pack(
        operator, pallet["sscc"], [f"(00){c['sscc']}" for c in cases] + [code(r) for r in rows[1:]]
    )

    seen, url = [], f"{URL}{pallet['sscc']}/?page_size=2"
    while url:
        body = operator.get(url).json()
        assert body["pack_count"] == 5
        seen += body["children"]["results"]
        url = body["children"]["next"]

    assert [c["type"] for c in seen] == ["case", "case", "pack", "pack", "pack", "pack"]
    assert [c.get("serial") for c in seen[2:]] == [r.serial for r in rows[1:]]
    bad = operator.get(f"{URL}{pallet['sscc']}/?cursor=forged")
    too_big = operator.get(f"{URL}{pallet['sscc']}/?page_size=1001")
    assert bad.status_code == 400 and too_big.status_code == 400


def test_the_list_filters(operator, site):
    case, pallet = create(operator, site), create(operator, site, "pallet")

    kinds = operator.get(URL, {"kind": "pallet"}).json()
    top = operator.get(URL, {"top_level": "true"}).json()

    assert [c["sscc"] for c in kinds["results"]] == [pallet["sscc"]]
    assert {c["sscc"] for c in top["results"]} == {case["sscc"], pallet["sscc"]}
    assert operator.get(URL, {"kind": "crate"}).status_code == 400


# --- concurrency -----------------------------------------------------------------------


THREADS = 20


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only")
def test_concurrent_allocation_never_gives_one_sscc_twice():
    site = SiteFactory()

    numbers = together([lambda: services.container_create(site=site, kind="case").sscc] * THREADS)

    assert len(set(numbers)) == THREADS and all(sscc.is_valid(n) for n in numbers)


def _attempt(call):
    try:
        return call()
    except (ValidationError, StateConflict) as exc:
        return exc


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only")
def test_packing_the_same_children_from_many_threads_puts_them_in_one_case():
    site = SiteFactory()
    batch = BatchFactory(site=site, status=BatchStatus.IN_PRODUCTION)
    rows = make_serials(batch, [f"RACE{n:04d}" for n in range(50)])
    cases = [services.container_create(site=site, kind="case") for _ in range(THREADS)]
    codes = [code(r) for r in rows]

    outcomes = together(
        [
            lambda case=case: _attempt(lambda: services.container_pack(container=case, codes=codes))
            for case in cases
        ]
    )

    won = [o for o in outcomes if isinstance(o, dict)]
    assert len(won) == 1 and won[0]["packs"] == 50
    assert all(isinstance(o, ValidationError) for o in outcomes if o is not won[0])
    assert SerialNumber.objects.filter(container__sscc=won[0]["container"]).count() == 50
    assert EPCISEvent.objects.filter(event_type="AggregationEvent").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only")
def test_cases_and_pallets_locked_from_both_sides_never_deadlock():
    """Packing a case, putting it on a pallet and shipping the pallet at once, many
    times over: every request ends in an answer, never a deadlock or a half change."""
    site = SiteFactory()
    batch = BatchFactory(site=site, status=BatchStatus.RELEASED)
    rows = make_serials(batch, [f"LOCK{n:04d}" for n in range(THREADS * 2)])
    pallet = services.container_create(site=site, kind="pallet")
    case = services.container_create(site=site, kind="case")
    services.container_pack(container=case, codes=[code(rows[0])])
    calls = []
    for n in range(1, THREADS):
        calls.append(
            lambda n=n: _attempt(
                lambda: services.container_pack(container=case, codes=[code(rows[n])])
            )
        )
    calls.append(
        lambda: _attempt(
            lambda: services.container_pack(container=pallet, codes=[f"(00){case.sscc}"])
        )
    )
    calls.append(
        lambda: _attempt(
            lambda: services.container_pack(container=case, codes=[f"(00){pallet.sscc}"])
        )
    )

    outcomes = together(calls)

    assert not [o for o in outcomes if not isinstance(o, dict | ValidationError | StateConflict)]
    assert isinstance(outcomes[-1], ValidationError)  # a case holds packs only
    packed = SerialNumber.objects.filter(container=case).count()
    assert packed == 1 + sum(isinstance(o, dict) for o in outcomes[: THREADS - 1])


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only")
def test_many_threads_unpacking_and_shipping_the_same_tree_act_once():
    site = SiteFactory()
    batch = BatchFactory(site=site, status=BatchStatus.RELEASED)
    rows = make_serials(batch, [f"ONCE{n:04d}" for n in range(40)])
    case = services.container_create(site=site, kind="case")
    services.container_pack(container=case, codes=[code(r) for r in rows[:20]])
    pallet = services.container_create(site=site, kind="pallet")
    services.container_pack(container=pallet, codes=[code(r) for r in rows[20:]])
    named = [code(r) for r in rows[:20]]

    unpacked = together(
        [lambda: _attempt(lambda: services.container_unpack(container=case, codes=named))] * THREADS
    )
    shipped = together(
        [
            lambda: _attempt(
                lambda: services.container_ship(container=pallet, destination_gln=site.gln)
            )
        ]
        * THREADS
    )

    assert sum(isinstance(o, dict) for o in unpacked) == 1
    assert all(isinstance(o, ValidationError) for o in unpacked if not isinstance(o, dict))
    assert not SerialNumber.objects.filter(container=case).exists()
    assert sum(isinstance(o, dict) for o in shipped) == 1
    assert all(isinstance(o, StateConflict) for o in shipped if not isinstance(o, dict))
    assert SerialNumber.objects.filter(container=pallet, status=S).count() == 20
    assert EPCISEvent.objects.filter(biz_step="shipping").count() == 1
    assert EPCISEvent.objects.filter(biz_step="unpacking").count() == 1
