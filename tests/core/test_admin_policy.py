"""The admin policy table: every registered admin page against the API's rules.

For each page that writes, three staff users try add, change (every field the page lets
change, plus fields it must not) and delete on a fresh object:

- ``viewer``: only the view codename, at the object's site (globally for rows tied to no
  site);
- ``elsewhere``: the view codename there, and the page's write codenames at another site;
- ``here``: every codename of the page at the object's site (globally for global rows).

Each attempt is made twice, through the admin and through the API, on fresh objects, and
the test compares what the database did with what the table expects: the two doors
must agree. Read-only pages refuse every write to everyone; third-party pages
(django-celery-beat, axes, django-otp, simplejwt's blacklist) are for superusers only.
``test_table_covers_every_registered_admin`` fails when a page is added without a row.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from django.contrib import admin
from django.forms.models import model_to_dict
from rest_framework.test import APIClient

from accounts.models import ElectronicSignature, User, UserSession
from audit.models import AuditLog, AuditSeal
from batches.choices import BatchStatus
from batches.models import Batch, Product
from core.access import site_path
from core.admin_base import REASON_FIELD, ServiceAdmin
from inspections.models import Inspection
from notifications.models import Broadcast
from rbac.models import Permission, Role, RoleAssignment
from reports.models import BatchReview, DailyReportDispatch
from serializations.models import Container, EPCISEvent, SerialJob, SerialNumber
from sites.models import Site
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory, ProductFactory, gtin14
from tests.core.admin_helpers import admin_client, change_form_data, role_with
from tests.inspections.factories import InspectionFactory
from tests.sites.factories import SiteFactory, _gln

pytestmark = pytest.mark.django_db

USERS = ("viewer", "elsewhere", "here")
_serial = itertools.count(1)  # unique names and numbers for each try
NEW_PASSWORD = "a-long-enough-passphrase-1"


@dataclass
class Case:
    """One page that writes. ``make(site)`` builds a fresh object at ``site``; ``change``
    builds valid new values of every field the page lets change; ``hostile`` lists
    fields the page must ignore; ``add`` builds a valid new object's admin and API
    bodies. ``allowed`` says what ``here`` may do; nobody else may do anything."""

    model: type
    make: Callable[[Any], Any]
    api_detail: str
    api_list: str
    change: Callable[[int], dict[str, Any]] | None = None
    hostile: dict[str, Any] = field(default_factory=dict)
    add: Callable[[Any, int], tuple[dict[str, Any], dict[str, Any]]] | None = None
    allowed: frozenset[str] = frozenset({"add", "change", "delete"})


def _site_body(site: Any, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    body = {
        "code": f"NEW-{n:02d}",
        "name": "New plant",
        "gln": _gln(70000 + n),
        "country": "DE",
        "timezone": "UTC",
        "is_active": True,
    }
    return body, body


def _product_body(site: Any, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    body = {"gtin": gtin14(60000 + n), "name": "New product", "strength": "1 mg", "is_active": True}
    return body, body


def _batch_body(site: Any, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    body = {
        "product": ProductFactory().pk,
        "site": site.pk,
        "batch_number": f"L-NEW-{n}",
        "planned_quantity": 100,
        "manufacturing_date": date(2026, 1, 1),
        "expiry_date": date(2028, 1, 1),
    }
    return body, body


def _role_body(site: Any, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        {"name": f"new-role-{n}", "description": "", "permissions": ["role.view"]},
        {"name": f"new-role-{n}", "description": "", "permissions": ["role.view"]},
    )


def _assignment_body(site: Any, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    body = {"user": UserFactory().pk, "role": role_with("role.view").pk, "site": None}
    return body, body


def _user_body(site: Any, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    name = f"new.user{n}"
    return (
        {
            "username": name,
            "email": f"{name}@example.com",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
        {"username": name, "email": f"{name}@example.com", "password": NEW_PASSWORD},
    )


def _assignment(site: Any) -> RoleAssignment:
    return RoleAssignment.objects.create(user=UserFactory(), role=role_with("role.view"))


CASES: dict[type, Case] = {
    # A site-bound grant of site.delete always refers to the site itself (PROTECT), and a
    # site is added only with a global grant: at one site, only changes.
    Site: Case(
        Site,
        make=lambda site: site,
        api_detail="/api/sites/{pk}/",
        api_list="/api/sites/",
        change=lambda n: {
            "name": f"Renamed plant {n}",
            "address": "Elsewhere 1",
            "is_active": False,
        },
        add=_site_body,
        allowed=frozenset({"change"}),
    ),
    Product: Case(
        Product,
        make=lambda site: ProductFactory(),
        api_detail="/api/products/{pk}/",
        api_list="/api/products/",
        change=lambda n: {
            "gtin": gtin14(50000 + n),
            "name": "Renamed",
            "strength": "250 mg",
            "dosage_form": "capsule",
            "is_active": False,
        },
        add=_product_body,
    ),
    Batch: Case(
        Batch,
        make=lambda site: BatchFactory(site=site),
        api_detail="/api/batches/{pk}/",
        api_list="/api/batches/",
        change=lambda n: {
            "planned_quantity": 1,
            "produced_quantity": 1,
            "manufacturing_date": date(2025, 4, 1),
            "expiry_date": date(2027, 4, 1),
        },
        hostile={"status": BatchStatus.RELEASED, "batch_number": "MOVED-1"},
        add=_batch_body,
    ),
    # Inspections are recorded through the API (results, then a signed outcome): the
    # page changes pending ones and adds none.
    Inspection: Case(
        Inspection,
        make=lambda site: InspectionFactory(batch__site=site),
        api_detail="/api/inspections/{pk}/",
        api_list="/api/inspections/",
        change=lambda n: {"notes": "Re-weighed.", "kind": "microbial"},
        hostile={"status": "passed", "results": "[]"},
        allowed=frozenset({"change"}),
    ),
    Role: Case(
        Role,
        make=lambda site: role_with("role.view", name=f"clerks-{next(_serial)}"),
        api_detail="/api/roles/{pk}/",
        api_list="/api/roles/",
        change=lambda n: {
            "name": f"clerks-renamed-{n}",
            "description": "Renamed",
            "permissions": ["role.view", "role.manage"],
        },
        add=_role_body,
    ),
    RoleAssignment: Case(
        RoleAssignment,
        make=_assignment,
        api_detail="/api/role-assignments/{pk}/",
        api_list="/api/role-assignments/",
        add=_assignment_body,
        allowed=frozenset({"add", "delete"}),
    ),
    # Users are deactivated, never deleted: the page offers no delete.
    User: Case(
        User,
        make=lambda site: UserFactory(),
        api_detail="/api/users/{pk}/",
        api_list="/api/users/",
        change=lambda n: {
            "username": f"renamed.user{n}",
            "first_name": "Re",
            "last_name": "Named",
            "email": f"renamed{n}@example.com",
            "phone": "+49 69 1234",
            "address": "Somewhere 2",
            "is_staff": True,
            "is_active": False,
        },
        hostile={"is_superuser": True},
        add=_user_body,
        allowed=frozenset({"add", "change"}),
    ),
}
READ_ONLY = {
    UserSession,
    ElectronicSignature,
    Permission,
    AuditLog,
    AuditSeal,
    SerialNumber,
    SerialJob,
    Container,
    EPCISEvent,
    Broadcast,
    DailyReportDispatch,
    # Edits nothing; it signs releases and rejections through the batch services, which
    # tests/reports/test_batch_review.py tries as holders of a little less than needed.
    BatchReview,
}


def _admin_url(model: type, suffix: str) -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/{suffix}"


def _page(model: type) -> ServiceAdmin:
    page = admin.site._registry[model]
    assert isinstance(page, ServiceAdmin)
    return page


def _actor(model: type, who: str, site: Any, other: Any) -> Any:
    codenames = _page(model).codenames
    on_site = site if site_path(model) is not None else None
    user = UserFactory(is_staff=True)
    view = role_with(codenames["view"])
    writes = [c for action, c in codenames.items() if action != "view"] or [codenames["view"]]
    if who == "viewer":
        RoleAssignment.objects.create(user=user, role=view, site=on_site)
    elif who == "elsewhere":
        RoleAssignment.objects.create(user=user, role=view, site=on_site)
        RoleAssignment.objects.create(user=user, role=role_with(*writes), site=other)
    else:
        RoleAssignment.objects.create(user=user, role=role_with(*codenames.values()), site=on_site)
    return user


def _admin_value(model: type, name: str, value: Any) -> Any:
    if name == "permissions":
        return [str(p.pk) for p in Permission.objects.filter(codename__in=value)]
    if isinstance(value, bool):
        return "on" if value else None
    return "" if value is None else str(value)


def _admin_body(data: dict[str, Any], values: dict[str, Any], model: type) -> dict[str, Any]:
    body = dict(data)
    for name, value in values.items():
        converted = _admin_value(model, name, value)
        if converted is None:
            body.pop(name, None)
        else:
            body[name] = converted
    return body


def _api_body(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}


def _snapshot(obj: Any) -> dict[str, Any]:
    fresh = type(obj).objects.filter(pk=obj.pk).first()
    if fresh is None:
        return {}
    values = model_to_dict(fresh)
    values.pop("updated_at", None)
    if isinstance(fresh, Role):
        values["permissions"] = sorted(p.codename for p in fresh.permissions.all())
    return values


# Both doors give a reason for change (pages that do not ask for one ignore it); the rule
# itself is tested in tests/audit/test_reasons.py.
REASON = "Policy check"


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _try_change(case: Case, who: str, door: str) -> bool:
    """Change every field the page lets change; True if the database moved."""
    site, other = SiteFactory(), SiteFactory()
    obj = case.make(site)
    user = _actor(case.model, who, site, other)
    before = _snapshot(obj)
    assert case.change is not None
    values = case.change(next(_serial))
    if door == "admin":
        client = admin_client(user)
        url = _admin_url(case.model, f"{obj.pk}/change/")
        page = client.get(url)
        data = change_form_data(page) if page.status_code == 200 else {}
        hostile = {**case.hostile, "site": other.pk} if "site" in data else case.hostile
        body = _admin_body(data, {**values, **hostile}, case.model)
        client.post(url, {**body, REASON_FIELD: REASON})
    else:
        _api(user).patch(
            case.api_detail.format(pk=obj.pk),
            _api_body(values),
            format="json",
            HTTP_X_CHANGE_REASON=REASON,
        )
    after = _snapshot(obj)
    for name in case.hostile:  # whoever saved, these never moved
        if name in before and name != "results":
            assert after.get(name) == before[name], (case.model, who, door, name)
    return after != before


def _try_add(case: Case, who: str, door: str) -> bool:
    site, other = SiteFactory(), SiteFactory()
    user = _actor(case.model, who, site, other)
    assert case.add is not None
    admin_body, api_body = case.add(site, next(_serial))
    before = case.model.objects.count()
    if door == "admin":
        admin_client(user).post(
            _admin_url(case.model, "add/"), _admin_body({}, admin_body, case.model)
        )
    else:
        _api(user).post(case.api_list, _api_body(api_body), format="json")
    return case.model.objects.count() != before


def _try_delete(case: Case, who: str, door: str) -> bool:
    site, other = SiteFactory(), SiteFactory()
    obj = case.make(site)
    user = _actor(case.model, who, site, other)
    if door == "admin":
        admin_client(user).post(
            _admin_url(case.model, f"{obj.pk}/delete/"), {"post": "yes", REASON_FIELD: REASON}
        )
    else:
        _api(user).delete(case.api_detail.format(pk=obj.pk), HTTP_X_CHANGE_REASON=REASON)
    return not case.model.objects.filter(pk=obj.pk).exists()


TRIES = {"add": _try_add, "change": _try_change, "delete": _try_delete}
CELLS = [
    pytest.param(model, action, who, id=f"{model.__name__}-{action}-{who}")
    for model, case in CASES.items()
    for action in ("add", "change", "delete")
    for who in USERS
    if (action != "add" or case.add is not None) and (action != "change" or case.change)
]


@pytest.mark.parametrize(("model", "action", "who"), CELLS)
def test_admin_and_api_agree(model, action, who):
    case = CASES[model]
    expected = who == "here" and action in case.allowed
    offered = action in _page(model).codenames

    admin_moved = TRIES[action](case, who, "admin")
    api_moved = TRIES[action](case, who, "api")

    assert admin_moved == (expected and offered), f"admin {action} as {who}"
    if offered:
        assert api_moved == expected == admin_moved, f"api {action} as {who}"


@pytest.mark.parametrize("model", sorted(READ_ONLY, key=lambda m: m.__name__))
def test_read_only_pages_refuse_every_write(model):
    page = admin.site._registry[model]
    everything = UserFactory(is_staff=True)
    RoleAssignment.objects.create(user=everything, role=Role.objects.get(name="admin"))
    client = admin_client(everything)

    assert client.get(_admin_url(model, "")).status_code == 200
    assert client.post(_admin_url(model, "add/"), {}).status_code == 403
    first = page.get_queryset(client.get(_admin_url(model, "")).wsgi_request).first()
    if first is not None:
        before = model_to_dict(first)
        assert client.post(_admin_url(model, f"{first.pk}/change/"), {}).status_code == 403
        assert (
            client.post(_admin_url(model, f"{first.pk}/delete/"), {"post": "yes"}).status_code
            == 403
        )
        assert model_to_dict(type(first).objects.get(pk=first.pk)) == before


def _third_party() -> list[type]:
    ours = set(CASES) | READ_ONLY
    return sorted((m for m in admin.site._registry if m not in ours), key=lambda m: m._meta.label)


@pytest.mark.parametrize("model", _third_party(), ids=lambda m: m._meta.label)
def test_third_party_pages_are_for_superusers_only(model):
    staff = UserFactory(is_staff=True)
    RoleAssignment.objects.create(user=staff, role=Role.objects.get(name="admin"))
    root = UserFactory(is_staff=True, is_superuser=True)

    assert admin_client(staff).get(_admin_url(model, "")).status_code == 403
    assert admin_client(staff).post(_admin_url(model, "add/"), {}).status_code == 403
    assert admin_client(root).get(_admin_url(model, "")).status_code == 200


def test_table_covers_every_registered_admin():
    registered = set(admin.site._registry)
    ours = {m for m, page in admin.site._registry.items() if isinstance(page, ServiceAdmin)}

    assert ours == set(CASES) | READ_ONLY
    assert registered - ours == set(_third_party())
    for model, case in CASES.items():
        offered = {"add", "change", "delete"} & set(_page(model).codenames)
        assert offered, f"{model.__name__} is in CASES but its page writes nothing"
        assert case.allowed <= offered, f"{model.__name__}: allowed beyond what is offered"


def test_a_staff_user_without_roles_sees_no_page():
    nobody = UserFactory(is_staff=True)

    response = admin_client(nobody).get("/admin/")

    assert response.status_code == 200
    assert response.context["app_list"] == []
