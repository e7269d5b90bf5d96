"""Batches: create, list, detail, PATCH and DELETE, with every refusal; site scoping;
filters, search and ordering; a list whose query count does not grow with its rows."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.choices import Action
from audit.models import AuditLog
from batches.choices import BatchStatus
from batches.models import Batch
from batches.validators import BATCH_NUMBER_FORMULA
from sites.models import Site
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory, ProductFactory
from tests.conftest import assign
from tests.sites.factories import SiteFactory

# Changes of GMP records need a reason (tests/audit/test_reasons.py tests that rule).
REASON = "Corrected after review"

BATCHES = "/api/batches/"
ALL_STATUSES = [s.value for s in BatchStatus]
NOT_PLANNED = [s for s in ALL_STATUSES if s != BatchStatus.PLANNED]
NOT_EDITABLE = [BatchStatus.QUARANTINE, BatchStatus.RELEASED, BatchStatus.REJECTED]


def _detail(batch, action=""):
    return f"{BATCHES}{batch.pk}/" + (f"{action}/" if action else "")


def _body(product, site, **overrides):
    body = {
        "product": str(product.pk),
        "site": str(site.pk),
        "batch_number": "B-2025/001",
        "planned_quantity": 50_000,
        "manufacturing_date": "2025-06-01",
        "expiry_date": "2027-05-31",
    }
    return body | overrides


def _snapshot(batch):
    """Every stored column of the batch, to show that a refused request changed nothing."""
    fresh = Batch.objects.get(pk=batch.pk)
    return {f.attname: getattr(fresh, f.attname) for f in Batch._meta.concrete_fields}


# --- create ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_operator_plans_a_batch_at_own_site(operator, operator_user, product, site):
    response = operator.post(BATCHES, _body(product, site), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "planned"
    assert body["batch_number"] == "B-2025/001"
    assert body["product"] == {
        "id": str(product.pk),
        "gtin": product.gtin,
        "name": product.name,
        "strength": product.strength,
    }
    assert (body["site"], body["site_code"]) == (str(site.pk), site.code)
    assert body["created_by"] == str(operator_user.pk)
    assert body["release_signature"] is None
    assert body["rejection_signature"] is None
    batch = Batch.objects.get(pk=body["id"])
    assert (batch.planned_quantity, batch.produced_quantity) == (50_000, None)
    assert (batch.manufacturing_date, batch.expiry_date) == (date(2025, 6, 1), date(2027, 5, 31))
    assert AuditLog.objects.filter(
        action=Action.CREATE, resource_type="batches.batch", resource_id=str(batch.pk)
    ).exists()


@pytest.mark.django_db
def test_every_gs1_ai82_character_is_accepted(operator, product, site):
    number = "Az09!\"%&'()*+,-./:;<"
    assert len(number) == 20

    response = operator.post(BATCHES, _body(product, site, batch_number=number), format="json")

    assert response.status_code == 201, response.content
    assert Batch.objects.get().batch_number == number


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"batch_number": ""}, "batch_number"),
        ({"batch_number": "B 001"}, "batch_number"),  # space is not in AI 82
        ({"batch_number": "B#001"}, "batch_number"),
        ({"batch_number": "CHARGE-\u00c4"}, "batch_number"),
        ({"batch_number": "B" * 21}, "batch_number"),
        ({"planned_quantity": 0}, "planned_quantity"),
        ({"planned_quantity": -5}, "planned_quantity"),
        ({"planned_quantity": "many"}, "planned_quantity"),
        ({"manufacturing_date": "2025-02-30"}, "manufacturing_date"),
        ({"expiry_date": "soon"}, "expiry_date"),
        ({"product": "00000000-0000-0000-0000-000000000000"}, "product"),
        ({"product": "not-a-uuid"}, "product"),
        ({"site": "00000000-0000-0000-0000-000000000000"}, "site"),
        ({"status": "released"}, "status"),
        ({"status": "planned"}, "status"),
        ({"produced_quantity": 10}, "produced_quantity"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_input_refused(operator, product, site, overrides, field):
    response = operator.post(BATCHES, _body(product, site) | overrides, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Batch.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "number",
    [
        '=HYPERLINK("x")',
        "=1+2",
        "+SUM(1)",
        "-2+3",
        "@SUM(1)",
        "\tLOT-1",
        "\rLOT-1",
        " LOT-1",
        "LOT-1 ",
        "LOT\n1",
        "LOT\x001",
        "ＬＯＴ-1",  # fullwidth letters
    ],
)
def test_a_batch_number_a_spreadsheet_would_run_is_refused(operator, product, site, number):
    # Given a batch number outside the GS1 AI 82 set or starting like a formula
    body = _body(product, site, batch_number=number)

    # When it is posted
    response = operator.post(BATCHES, body, format="json")

    # Then it is a 400 on the field, and nothing is stored
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["batch_number"]
    assert not Batch.objects.exists()


@pytest.mark.django_db
def test_a_formula_start_is_explained(operator, product, site):
    response = operator.post(BATCHES, _body(product, site, batch_number="=1+2"), format="json")

    assert response.json() == {"batch_number": [BATCH_NUMBER_FORMULA]}


@pytest.mark.django_db
def test_a_lot_stored_before_the_formula_rule_stays_editable(operator, site):
    # Given a planned batch whose number starts with "-", stored before the rule
    batch = BatchFactory(site=site, batch_number="-OLD-1")

    # When its quantity is changed
    response = operator.patch(
        _detail(batch), {"planned_quantity": 7}, format="json", HTTP_X_CHANGE_REASON=REASON
    )

    # Then the change is accepted and the number kept
    assert response.status_code == 200, response.content
    batch.refresh_from_db()
    assert (batch.batch_number, batch.planned_quantity) == ("-OLD-1", 7)


@pytest.mark.django_db
@pytest.mark.parametrize("missing", ["product", "site", "batch_number", "expiry_date"])
def test_required_fields(operator, product, site, missing):
    body = _body(product, site)
    del body[missing]

    response = operator.post(BATCHES, body, format="json")

    assert response.status_code == 400
    assert missing in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("expiry", ["2025-06-01", "2025-05-31"], ids=["same-day", "before"])
def test_expiry_must_be_after_manufacturing(operator, product, site, expiry):
    response = operator.post(BATCHES, _body(product, site, expiry_date=expiry), format="json")

    assert response.status_code == 400
    assert "expiry date must be after" in str(response.json())
    assert not Batch.objects.exists()


@pytest.mark.django_db
def test_batch_number_unique_per_product(operator, product, site):
    BatchFactory(product=product, site=site, batch_number="B-2025/001")
    other_product = ProductFactory()

    duplicate = operator.post(BATCHES, _body(product, site), format="json")
    same_number_other_product = operator.post(BATCHES, _body(other_product, site), format="json")

    assert duplicate.status_code == 400
    assert "already has a batch with this number" in str(duplicate.json())
    assert same_number_other_product.status_code == 201
    assert Batch.objects.filter(batch_number="B-2025/001").count() == 2


@pytest.mark.django_db
def test_inactive_product_or_site_refused(operator, product, site):
    inactive_product = ProductFactory(is_active=False)

    by_product = operator.post(BATCHES, _body(inactive_product, site), format="json")
    Site.objects.filter(pk=site.pk).update(is_active=False)
    by_site = operator.post(BATCHES, _body(product, site), format="json")

    assert by_product.status_code == 400
    assert "product" in by_product.json()
    assert by_site.status_code == 400
    assert "site" in by_site.json()
    assert not Batch.objects.exists()


@pytest.mark.django_db
def test_create_at_a_site_without_batch_create_is_400(operator, product, site):
    other = SiteFactory()

    response = operator.post(BATCHES, _body(product, other), format="json")

    assert response.status_code == 400
    assert "site" in response.json()
    assert not Batch.objects.exists()


@pytest.mark.django_db
def test_create_at_a_site_where_only_viewing_is_400(auth_client, operator_user, product):
    viewer_site = SiteFactory()
    assign(operator_user, "auditor", site=viewer_site)

    response = auth_client(operator_user).post(BATCHES, _body(product, viewer_site), format="json")

    assert response.status_code == 400
    assert "site" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["qa", "auditor"])
def test_create_without_batch_create_anywhere_is_403(auth_client, product, site, role):
    user = UserFactory()
    assign(user, role)

    response = auth_client(user).post(BATCHES, _body(product, site), format="json")

    assert response.status_code == 403
    assert not Batch.objects.exists()


@pytest.mark.django_db
def test_anonymous_is_401(api_client, product, site):
    batch = BatchFactory(site=site)

    assert api_client.get(BATCHES).status_code == 401
    assert api_client.get(_detail(batch)).status_code == 401
    assert api_client.post(BATCHES, _body(product, site), format="json").status_code == 401
    assert api_client.post(_detail(batch, "start")).status_code == 401


# --- list and detail ------------------------------------------------------------------


@pytest.mark.django_db
def test_list_rows(admin, site):
    batch = BatchFactory(site=site, produced_quantity=None)

    response = admin.get(BATCHES)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    [row] = body["results"]
    assert row["id"] == str(batch.pk)
    assert row["site_code"] == site.code
    assert row["product"]["gtin"] == batch.product.gtin
    assert "release_signature" not in row


@pytest.mark.django_db
def test_detail(admin, site):
    batch = BatchFactory(site=site)

    response = admin.get(_detail(batch))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(batch.pk)
    assert body["status"] == "planned"
    for key in ("started_at", "completed_by", "released_at", "release_signature"):
        assert body[key] is None


@pytest.mark.django_db
def test_unknown_batch_is_404(admin):
    response = admin.get(f"{BATCHES}00000000-0000-0000-0000-000000000000/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_put_is_not_offered(admin, site):
    batch = BatchFactory(site=site)
    read = admin.get(_detail(batch)).json()

    response = admin.put(_detail(batch), read, format="json", HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 405


@pytest.mark.django_db
def test_filters(admin, site):
    other_site = SiteFactory()
    other_product = ProductFactory()
    old = BatchFactory(
        site=site,
        batch_number="OLD-1",
        manufacturing_date=date(2024, 1, 10),
        expiry_date=date(2025, 1, 10),
    )
    mid = BatchFactory(
        site=site,
        batch_number="MID-1",
        status=BatchStatus.QUARANTINE,
        manufacturing_date=date(2024, 6, 1),
        expiry_date=date(2026, 6, 1),
    )
    new = BatchFactory(
        site=other_site,
        product=other_product,
        batch_number="NEW-1",
        status=BatchStatus.RELEASED,
        manufacturing_date=date(2025, 2, 1),
        expiry_date=date(2028, 2, 1),
    )

    def numbers(**params):
        response = admin.get(BATCHES, params)
        assert response.status_code == 200, response.content
        return sorted(b["batch_number"] for b in response.json()["results"])

    assert numbers() == ["MID-1", "NEW-1", "OLD-1"]
    assert numbers(site=site.pk) == ["MID-1", "OLD-1"]
    assert numbers(product=other_product.pk) == ["NEW-1"]
    assert numbers(status="quarantine") == ["MID-1"]
    assert admin.get(f"{BATCHES}?status=quarantine&status=released").json()["count"] == 2
    assert numbers(manufactured_after="2024-06-01") == ["MID-1", "NEW-1"]
    assert numbers(manufactured_before="2024-06-01") == ["MID-1", "OLD-1"]
    assert numbers(manufactured_after="2024-02-01", manufactured_before="2024-12-31") == ["MID-1"]
    assert numbers(expires_after="2026-06-01") == ["MID-1", "NEW-1"]
    assert numbers(expires_before="2025-12-31") == ["OLD-1"]
    assert numbers(site=site.pk, status="planned") == ["OLD-1"]
    assert {old.pk, mid.pk, new.pk} == set(Batch.objects.values_list("pk", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"status": "shipped"},
        {"site": "FRA-01"},
        {"product": "nope"},
        {"manufactured_after": "yesterday"},
        {"expires_before": "2025-13-01"},
    ],
)
def test_bad_filter_values_are_400(admin, params):
    response = admin.get(BATCHES, params)

    assert response.status_code == 400
    assert set(params) <= set(response.json())


@pytest.mark.django_db
def test_search_on_batch_number(admin, site):
    BatchFactory(site=site, batch_number="ABC-100")
    BatchFactory(site=site, batch_number="ABC-200")
    BatchFactory(site=site, batch_number="XYZ-100")

    found = admin.get(BATCHES, {"search": "abc"}).json()["results"]
    exact = admin.get(BATCHES, {"search": "XYZ-100"}).json()["results"]

    assert sorted(b["batch_number"] for b in found) == ["ABC-100", "ABC-200"]
    assert [b["batch_number"] for b in exact] == ["XYZ-100"]


@pytest.mark.django_db
def test_ordering(admin, site):
    BatchFactory(
        site=site,
        batch_number="B",
        manufacturing_date=date(2025, 1, 1),
        expiry_date=date(2026, 1, 1),
    )
    BatchFactory(
        site=site,
        batch_number="A",
        manufacturing_date=date(2024, 1, 1),
        expiry_date=date(2027, 1, 1),
    )
    BatchFactory(
        site=site,
        batch_number="C",
        manufacturing_date=date(2023, 1, 1),
        expiry_date=date(2025, 1, 1),
    )

    def order(ordering=None):
        params = {"ordering": ordering} if ordering else {}
        return [b["batch_number"] for b in admin.get(BATCHES, params).json()["results"]]

    assert order() == ["B", "A", "C"]  # newest manufacturing date first
    assert order("batch_number") == ["A", "B", "C"]
    assert order("-batch_number") == ["C", "B", "A"]
    assert order("expiry_date") == ["C", "B", "A"]
    assert order("-expiry_date") == ["A", "B", "C"]
    assert order("manufacturing_date") == ["C", "A", "B"]


@pytest.mark.django_db
def test_pagination(admin, site):
    BatchFactory.create_batch(5, site=site)

    first = admin.get(BATCHES, {"page_size": 2}).json()
    last = admin.get(BATCHES, {"page_size": 2, "page": 3}).json()

    assert first["count"] == 5
    assert len(first["results"]) == 2
    assert first["next"] is not None
    assert len(last["results"]) == 1
    assert last["next"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("scope", ["global-admin", "site-operator"])
def test_list_query_count_is_constant_in_the_number_of_rows(
    auth_client, staff_user, operator_user, site, scope
):
    user = staff_user if scope == "global-admin" else operator_user
    client = auth_client(user)
    products = ProductFactory.create_batch(3)
    sites = [site, SiteFactory()] if scope == "global-admin" else [site]

    def add(n):
        for i in range(n):
            BatchFactory(product=products[i % 3], site=sites[i % len(sites)])

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(BATCHES, {"page_size": 100})
        assert response.status_code == 200
        return len(response.json()["results"]), queries

    add(10)
    client.get(BATCHES, {"page_size": 100})  # warm-up: user, session, permissions cached
    rows_10, few = count_queries()
    add(30)
    rows_40, many = count_queries()

    assert (rows_10, rows_40) == (10, 40)
    # 1. SELECT COUNT(*) FROM batches_batch [WHERE site_id IN (the caller's sites)]
    #    for the paginator.
    # 2. SELECT the page of batches JOIN batches_product JOIN sites_site (select_related,
    #    only the listed columns) [same WHERE] ORDER BY manufacturing_date DESC,
    #    batch_number LIMIT 100.
    # Authentication, the session and the caller's permissions come from the cache.
    assert len(few) == 2, [q["sql"] for q in few.captured_queries]
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


# --- PATCH ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("status", [BatchStatus.PLANNED, BatchStatus.IN_PRODUCTION])
def test_patch_quantities_and_dates_while_editable(operator, site, status):
    batch = BatchFactory(site=site, status=status)
    changes = {
        "planned_quantity": 12_345,
        "produced_quantity": 12_000,
        "manufacturing_date": "2025-04-01",
        "expiry_date": "2027-04-01",
    }

    response = operator.patch(_detail(batch), changes, format="json", HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 200, response.content
    assert response.json()["planned_quantity"] == 12_345
    batch.refresh_from_db()
    assert batch.planned_quantity == 12_345
    assert batch.produced_quantity == 12_000
    assert (batch.manufacturing_date, batch.expiry_date) == (date(2025, 4, 1), date(2027, 4, 1))
    assert batch.status == status
    record = AuditLog.objects.get(
        action=Action.UPDATE, resource_type="batches.batch", resource_id=str(batch.pk)
    )
    assert "planned_quantity" in record.changed_fields


@pytest.mark.django_db
@pytest.mark.parametrize("status", NOT_EDITABLE)
def test_patch_after_production_is_409_and_changes_nothing(admin, site, status):
    batch = BatchFactory(site=site, status=status)
    before = _snapshot(batch)

    response = admin.patch(
        _detail(batch), {"planned_quantity": 1}, format="json", HTTP_X_CHANGE_REASON=REASON
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "invalid_status"
    assert body["status"] == status
    assert body["detail"]
    assert _snapshot(batch) == before


@pytest.mark.django_db
@pytest.mark.parametrize("target", NOT_PLANNED)
def test_patch_status_to_another_value_is_refused(admin, site, target):
    batch = BatchFactory(site=site)
    before = _snapshot(batch)

    response = admin.patch(
        _detail(batch),
        {"status": target, "planned_quantity": 1},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 400
    assert response.json() == {"status": ["This field is read-only."]}
    assert _snapshot(batch) == before


@pytest.mark.django_db
def test_patch_status_of_a_released_batch_is_refused(admin, site):
    batch = BatchFactory(site=site, status=BatchStatus.RELEASED)
    before = _snapshot(batch)

    response = admin.patch(
        _detail(batch), {"status": "planned"}, format="json", HTTP_X_CHANGE_REASON=REASON
    )

    assert response.status_code == 400
    assert "status" in response.json()
    assert _snapshot(batch) == before


@pytest.mark.django_db
def test_patch_with_the_same_status_is_accepted(operator, site):
    batch = BatchFactory(site=site)

    response = operator.patch(
        _detail(batch),
        {"status": "planned", "planned_quantity": 777},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 200, response.content
    batch.refresh_from_db()
    assert (batch.status, batch.planned_quantity) == ("planned", 777)


@pytest.mark.django_db
def test_patch_back_what_was_read(operator, operator_user, site):
    batch = BatchFactory(
        site=site,
        status=BatchStatus.IN_PRODUCTION,
        created_by=operator_user,
        started_by=operator_user,
    )
    read = operator.get(_detail(batch)).json()

    response = operator.patch(
        _detail(batch),
        {**read, "planned_quantity": 4321},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 200, response.content
    batch.refresh_from_db()
    assert batch.planned_quantity == 4321


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"batch_number": "RENAMED"}, "batch_number"),
        ({"site_code": "XXX-01"}, "site_code"),
        ({"completed_by": "00000000-0000-0000-0000-000000000000"}, "completed_by"),
        ({"colour": "blue"}, "colour"),
        ({"planned_quantity": 0}, "planned_quantity"),
        ({"planned_quantity": None}, "planned_quantity"),
        ({"produced_quantity": -1}, "produced_quantity"),
        ({"expiry_date": "not a date"}, "expiry_date"),
    ],
)
def test_patch_bad_input_refused_and_nothing_changed(admin, site, changes, field):
    batch = BatchFactory(site=site)
    before = _snapshot(batch)

    response = admin.patch(_detail(batch), changes, format="json", HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 400
    assert field in response.json()
    assert _snapshot(batch) == before


@pytest.mark.django_db
def test_patch_expiry_before_manufacturing_refused(admin, site):
    batch = BatchFactory(site=site)
    before = _snapshot(batch)

    response = admin.patch(
        _detail(batch),
        {"expiry_date": "2024-01-01", "planned_quantity": 3},
        format="json",
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 400
    assert "expiry date must be after" in str(response.json())
    assert _snapshot(batch) == before


@pytest.mark.django_db
def test_patch_without_batch_update_is_403(auth_client, site):
    batch = BatchFactory(site=site)
    qa = UserFactory()
    assign(qa, "qa")
    before = _snapshot(batch)

    response = auth_client(qa).patch(
        _detail(batch), {"planned_quantity": 1}, format="json", HTTP_X_CHANGE_REASON=REASON
    )

    assert response.status_code == 403
    assert _snapshot(batch) == before
    [denied] = AuditLog.objects.filter(action=Action.PERMISSION_DENIED, actor_id=qa.pk)
    assert denied.new_values == {"codename": "batch.update", "method": "PATCH"}


# --- DELETE ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_delete_planned_batch(admin, site):
    batch = BatchFactory(site=site)

    response = admin.delete(_detail(batch), HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 204
    assert not Batch.objects.filter(pk=batch.pk).exists()
    assert AuditLog.objects.filter(
        action=Action.DELETE, resource_type="batches.batch", resource_id=str(batch.pk)
    ).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("status", NOT_PLANNED)
def test_delete_after_planning_is_409(admin, site, status):
    batch = BatchFactory(site=site, status=status)

    response = admin.delete(_detail(batch), HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 409
    assert response.json()["status"] == status
    assert response.json()["code"] == "invalid_status"
    assert Batch.objects.filter(pk=batch.pk).exists()


@pytest.mark.django_db
def test_operator_may_not_delete(operator, site):
    batch = BatchFactory(site=site)

    response = operator.delete(_detail(batch), HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 403
    assert Batch.objects.filter(pk=batch.pk).exists()


@pytest.mark.django_db
def test_delete_site_with_batches_is_409(admin, site):
    BatchFactory(site=site)

    response = admin.delete(f"/api/sites/{site.pk}/", HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 409
    assert response.json()["code"] == "site_in_use"
    assert "batch" in response.json()["detail"]
    assert Site.objects.filter(pk=site.pk).exists()


# --- site scoping ---------------------------------------------------------------------


@pytest.fixture
def site_a_admin(auth_client, site):
    user = UserFactory()
    assign(user, "admin", site=site)
    return auth_client(user)


@pytest.mark.django_db
def test_list_shows_only_own_sites(site_a_admin, site):
    own = BatchFactory(site=site)
    BatchFactory(site=SiteFactory())

    response = site_a_admin.get(BATCHES)

    assert [b["id"] for b in response.json()["results"]] == [str(own.pk)]
    assert response.json()["count"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "action", "body"),
    [
        ("get", "", None),
        ("patch", "", {"planned_quantity": 1}),
        ("delete", "", None),
        ("post", "start", {}),
        ("post", "complete", {"produced_quantity": 1}),
        ("post", "release", {"password": "x", "meaning": "approval"}),
        ("post", "reject", {"password": "x", "reason": "Contaminated"}),
    ],
)
@pytest.mark.parametrize("status", ALL_STATUSES)
def test_other_site_batches_are_404_on_every_method(site_a_admin, method, action, body, status):
    batch = BatchFactory(site=SiteFactory(), status=status)
    before = _snapshot(batch)

    response = getattr(site_a_admin, method)(_detail(batch, action), body, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert _snapshot(batch) == before


@pytest.mark.django_db
def test_create_at_another_site_is_400(site_a_admin, product):
    other = SiteFactory()

    response = site_a_admin.post(BATCHES, _body(product, other), format="json")

    assert response.status_code == 400
    assert "site" in response.json()
    assert not Batch.objects.exists()


@pytest.mark.django_db
def test_filtering_by_another_site_shows_nothing(site_a_admin):
    other = BatchFactory(site=SiteFactory())

    response = site_a_admin.get(BATCHES, {"site": other.site_id})

    assert response.status_code == 200
    assert response.json()["count"] == 0
