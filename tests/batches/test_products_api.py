"""Products: GTIN-14 with a valid check digit, unique; global permissions only."""

import pytest

from audit.choices import Action
from audit.models import AuditLog
from batches.models import Product
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory, ProductFactory, gtin14
from tests.conftest import assign
from tests.serializations.factories import make_serials
from tests.sites.factories import SiteFactory

# Changes of GMP records need a reason (tests/audit/test_reasons.py tests that rule).
REASON = "Corrected after review"

PRODUCTS = "/api/products/"
VALID_GTIN = gtin14(777)
VALID = {
    "gtin": VALID_GTIN,
    "name": "Ibuprofen",
    "strength": "400 mg",
    "dosage_form": "film-coated tablet",
}


def _detail(product):
    return f"{PRODUCTS}{product.pk}/"


# --- create and read -----------------------------------------------------------------


@pytest.mark.django_db
def test_create_product(admin):
    response = admin.post(PRODUCTS, VALID)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["gtin"] == VALID_GTIN
    assert body["is_active"] is True
    product = Product.objects.get(pk=body["id"])
    assert (product.name, product.strength, product.dosage_form) == (
        "Ibuprofen",
        "400 mg",
        "film-coated tablet",
    )


@pytest.mark.django_db
def test_create_is_audited(admin):
    response = admin.post(PRODUCTS, VALID)

    record = AuditLog.objects.get(
        action=Action.CREATE, resource_type="batches.product", resource_id=response.json()["id"]
    )
    assert record.new_values["gtin"] == VALID_GTIN


@pytest.mark.django_db
@pytest.mark.parametrize(
    "gtin",
    [
        VALID_GTIN[:-1] + str((int(VALID_GTIN[-1]) + 1) % 10),  # wrong check digit
        VALID_GTIN[1:],  # 13 digits
        VALID_GTIN + "0",  # 15 digits
        VALID_GTIN[:-2] + "AB",  # letters
        "0401234500001X",
        " " + VALID_GTIN[1:],
        "",
    ],
    ids=["check-digit", "13-digits", "15-digits", "letters", "letter-x", "space", "empty"],
)
def test_invalid_gtin_refused(admin, gtin):
    response = admin.post(PRODUCTS, {**VALID, "gtin": gtin})

    assert response.status_code == 400, response.content
    assert "gtin" in response.json()
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_duplicate_gtin_refused(admin):
    ProductFactory(gtin=VALID_GTIN)

    response = admin.post(PRODUCTS, {**VALID, "name": "Another name"})

    assert response.status_code == 400
    assert "gtin" in response.json()
    assert Product.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"gtin": VALID_GTIN}, "name"),
        ({**VALID, "name": ""}, "name"),
        ({**VALID, "name": "x" * 201}, "name"),
        ({**VALID, "unknown": 1}, "unknown"),
        ({**VALID, "id": "00000000-0000-0000-0000-000000000000"}, "id"),
    ],
    ids=["name-missing", "name-blank", "name-too-long", "unknown-field", "read-only-id"],
)
def test_bad_input_refused(admin, body, field):
    response = admin.post(PRODUCTS, body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_list_and_detail(admin):
    ProductFactory(name="Bravo")
    alpha = ProductFactory(name="Alpha")

    listed = admin.get(PRODUCTS)
    detail = admin.get(_detail(alpha))

    assert listed.status_code == 200
    assert set(listed.json()) == {"count", "next", "previous", "results"}
    assert [p["name"] for p in listed.json()["results"]] == ["Alpha", "Bravo"]
    assert detail.status_code == 200
    assert detail.json()["gtin"] == alpha.gtin


@pytest.mark.django_db
def test_filters_search_and_ordering(admin):
    ProductFactory(name="Alpha", dosage_form="tablet")
    ProductFactory(name="Bravo", dosage_form="capsule", is_active=False)
    charlie = ProductFactory(name="Charlie", dosage_form="tablet")

    inactive = admin.get(PRODUCTS, {"is_active": "false"}).json()["results"]
    tablets = admin.get(PRODUCTS, {"dosage_form": "tablet"}).json()["results"]
    by_gtin = admin.get(PRODUCTS, {"search": charlie.gtin}).json()["results"]
    newest_name_first = admin.get(PRODUCTS, {"ordering": "-name"}).json()["results"]

    assert [p["name"] for p in inactive] == ["Bravo"]
    assert [p["name"] for p in tablets] == ["Alpha", "Charlie"]
    assert [p["name"] for p in by_gtin] == ["Charlie"]
    assert [p["name"] for p in newest_name_first] == ["Charlie", "Bravo", "Alpha"]


@pytest.mark.django_db
def test_unknown_product_is_404(admin):
    response = admin.get(f"{PRODUCTS}00000000-0000-0000-0000-000000000000/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- change --------------------------------------------------------------------------


@pytest.mark.django_db
def test_put_back_what_was_read(admin):
    product = ProductFactory()
    read = admin.get(_detail(product)).json()

    response = admin.put(
        _detail(product), {**read, "name": "Renamed"}, format="json", HTTP_X_CHANGE_REASON=REASON
    )

    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert product.name == "Renamed"


@pytest.mark.django_db
def test_patch_deactivates(admin):
    product = ProductFactory()

    response = admin.patch(_detail(product), {"is_active": False}, HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 200
    product.refresh_from_db()
    assert product.is_active is False


@pytest.mark.django_db
def test_patch_to_invalid_gtin_refused_and_nothing_changed(admin):
    product = ProductFactory(name="Original")
    original = product.gtin

    response = admin.patch(
        _detail(product),
        {"gtin": original[:-1] + "X", "name": "Changed"},
        HTTP_X_CHANGE_REASON=REASON,
    )

    assert response.status_code == 400
    assert "gtin" in response.json()
    product.refresh_from_db()
    assert (product.gtin, product.name) == (original, "Original")


@pytest.mark.django_db
def test_patch_to_taken_gtin_refused(admin):
    taken = ProductFactory()
    product = ProductFactory()

    response = admin.patch(_detail(product), {"gtin": taken.gtin}, HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 400
    assert "gtin" in response.json()


@pytest.mark.django_db
def test_patch_read_only_field_with_another_value_refused(admin):
    product = ProductFactory()

    response = admin.patch(
        _detail(product), {"created_at": "2020-01-01T00:00:00Z"}, HTTP_X_CHANGE_REASON=REASON
    )

    assert response.status_code == 400
    assert response.json() == {"created_at": ["This field is read-only."]}


# --- delete --------------------------------------------------------------------------


@pytest.mark.django_db
def test_delete_product_without_batches(admin):
    product = ProductFactory()

    response = admin.delete(_detail(product), HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()


@pytest.mark.django_db
def test_delete_product_with_batches_is_409_and_kept(admin):
    batch = BatchFactory()

    response = admin.delete(_detail(batch.product), HTTP_X_CHANGE_REASON=REASON)

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "product_in_use"
    assert batch.product.gtin in body["detail"]
    assert Product.objects.filter(pk=batch.product.pk).exists()


# --- permissions: products are global -------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "list", None),
        ("post", "list", VALID),
        ("get", "detail", None),
        ("put", "detail", {**VALID, "name": "x"}),
        ("patch", "detail", {"name": "x"}),
        ("delete", "detail", None),
    ],
)
def test_admin_at_one_site_only_is_forbidden(auth_client, method, path, body):
    product = ProductFactory()
    user = UserFactory()
    assign(user, "admin", site=SiteFactory())
    url = PRODUCTS if path == "list" else _detail(product)

    response = getattr(auth_client(user), method)(url, body, format="json")

    assert response.status_code == 403
    product.refresh_from_db()
    assert product.name != "x"
    assert Product.objects.count() == 1


@pytest.mark.django_db
def test_global_operator_reads_but_cannot_manage(auth_client):
    product = ProductFactory()
    operator = UserFactory()
    assign(operator, "operator")
    client = auth_client(operator)

    assert client.get(PRODUCTS).status_code == 200
    assert client.get(_detail(product)).status_code == 200
    assert client.post(PRODUCTS, VALID).status_code == 403
    assert (
        client.patch(_detail(product), {"name": "x"}, HTTP_X_CHANGE_REASON=REASON).status_code
        == 403
    )
    assert client.delete(_detail(product), HTTP_X_CHANGE_REASON=REASON).status_code == 403
    denied = AuditLog.objects.filter(action=Action.PERMISSION_DENIED, actor_id=operator.pk)
    assert {r.new_values["codename"] for r in denied} == {"product.manage"}


@pytest.mark.django_db
def test_anonymous_is_401(api_client):
    assert api_client.get(PRODUCTS).status_code == 401
    assert api_client.post(PRODUCTS, VALID).status_code == 401


@pytest.mark.django_db
def test_gtin_frozen_once_serials_exist(admin):
    """The reported defect: the product and its packs would disagree on the number."""
    batch = BatchFactory(status="in_production")
    make_serials(batch, ["FROZEN1"])
    product = batch.product

    response = admin.patch(
        _detail(product), {"gtin": gtin14(88888)}, format="json", HTTP_X_CHANGE_REASON=REASON
    )
    renamed = admin.patch(
        _detail(product), {"name": "Still fine"}, format="json", HTTP_X_CHANGE_REASON=REASON
    )

    assert response.status_code == 409
    assert response.json()["code"] == "gtin_frozen"
    product.refresh_from_db()
    assert product.gtin == batch.product.gtin
    assert renamed.status_code == 200 and product.name == "Still fine"


@pytest.mark.django_db
def test_gtin_may_change_while_no_serial_carries_it(admin):
    product = ProductFactory()
    BatchFactory(product=product)

    response = admin.patch(
        _detail(product), {"gtin": gtin14(88889)}, format="json", HTTP_X_CHANGE_REASON=REASON
    )

    assert response.status_code == 200, response.content
