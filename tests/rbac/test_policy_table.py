"""The policy table: every API route and method, for every default role.

The routes are read from the URL resolver, so an endpoint added without an entry here
fails ``test_table_covers_every_api_route`` and cannot ship unguarded. Each cell is one
real request through the API, with a fresh set of objects, as a user holding one
default role globally, an authenticated user without any role ("none") and an
anonymous client ("anon").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import User, UserSession
from audit.models import AuditLog
from batches.choices import BatchStatus
from batches.models import Batch, Product
from core.views import api_not_found
from inspections.models import Inspection
from notifications.models import Broadcast
from rbac.models import Permission, Role, RoleAssignment
from serializations.choices import SerialStatus
from serializations.models import Container, SerialJob, SerialNumber
from sites.models import Site
from tests.accounts.factories import UserFactory
from tests.batches.factories import BatchFactory, ProductFactory, gtin14
from tests.conftest import DEFAULT_PASSWORD, assign
from tests.inspections.factories import InspectionFactory
from tests.serializations.factories import (
    epcis_document,
    make_container,
    make_serials,
    packing_event,
)
from tests.sites.factories import SiteFactory
from tests.webhooks.factories import make_delivery
from webhooks import services as webhook_services
from webhooks.models import Subscription

ROLES = ("admin", "qa", "operator", "auditor", "none", "anon")
VIEW_METHODS = ("get", "post", "put", "patch", "delete")
NEW_PASSWORD = "a-long-enough-passphrase-1"

# Anonymous, missing permission, and the success codes.
A, F = 401, 403
OK, NEW, GONE = 200, 201, 204

# fmt: off
# (route, METHOD): expected status for  admin  qa   operator  auditor  none  anon
POLICY: dict[tuple[str, str], tuple[int, int, int, int, int, int]] = {
    # Public: sign-in and token rotation (valid credentials / a valid refresh token).
    ("api/auth/token/", "POST"):                (OK,   OK,  OK,  OK,  OK,  OK),
    ("api/auth/token/refresh/", "POST"):        (OK,   OK,  OK,  OK,  OK,  OK),
    # Own account: any authenticated user.
    ("api/auth/logout/", "POST"):               (GONE, GONE, GONE, GONE, GONE, A),
    ("api/auth/profile/", "GET"):               (OK,   OK,  OK,  OK,  OK,  A),
    ("api/auth/profile/update/", "PUT"):        (OK,   OK,  OK,  OK,  OK,  A),
    ("api/auth/profile/update/", "PATCH"):      (OK,   OK,  OK,  OK,  OK,  A),
    ("api/auth/password/change/", "POST"):      (OK,   OK,  OK,  OK,  OK,  A),
    ("api/auth/sessions/", "GET"):              (OK,   OK,  OK,  OK,  OK,  A),
    ("api/auth/sessions/<pk>/", "GET"):         (OK,   OK,  OK,  OK,  OK,  A),
    ("api/auth/sessions/<pk>/", "DELETE"):      (GONE, GONE, GONE, GONE, GONE, A),
    # Users: user.view (admin, auditor); user.create/update/deactivate (admin).
    ("api/users/", "GET"):                      (OK,   F,   F,   OK,  F,   A),
    ("api/users/", "POST"):                     (NEW,  F,   F,   F,   F,   A),
    ("api/users/active_count/", "GET"):         (OK,   F,   F,   OK,  F,   A),
    ("api/users/<pk>/", "GET"):                 (OK,   F,   F,   OK,  F,   A),
    ("api/users/<pk>/", "PUT"):                 (OK,   F,   F,   F,   F,   A),
    ("api/users/<pk>/", "PATCH"):               (OK,   F,   F,   F,   F,   A),
    ("api/users/<pk>/", "DELETE"):              (GONE, F,   F,   F,   F,   A),
    # Permission catalogue, roles and assignments: role.view (admin, auditor);
    # role.manage (admin).
    ("api/permissions/", "GET"):                (OK,   F,   F,   OK,  F,   A),
    ("api/permissions/<codename>/", "GET"):     (OK,   F,   F,   OK,  F,   A),
    ("api/roles/", "GET"):                      (OK,   F,   F,   OK,  F,   A),
    ("api/roles/", "POST"):                     (NEW,  F,   F,   F,   F,   A),
    ("api/roles/<pk>/", "GET"):                 (OK,   F,   F,   OK,  F,   A),
    ("api/roles/<pk>/", "PUT"):                 (OK,   F,   F,   F,   F,   A),
    ("api/roles/<pk>/", "PATCH"):               (OK,   F,   F,   F,   F,   A),
    ("api/roles/<pk>/", "DELETE"):              (GONE, F,   F,   F,   F,   A),
    ("api/role-assignments/", "GET"):           (OK,   F,   F,   OK,  F,   A),
    ("api/role-assignments/", "POST"):          (NEW,  F,   F,   F,   F,   A),
    ("api/role-assignments/<pk>/", "GET"):      (OK,   F,   F,   OK,  F,   A),
    ("api/role-assignments/<pk>/", "DELETE"):   (GONE, F,   F,   F,   F,   A),
    # Sites: site.view (every default role); site.create/update/delete (admin).
    ("api/sites/", "GET"):                      (OK,   OK,  OK,  OK,  F,   A),
    ("api/sites/", "POST"):                     (NEW,  F,   F,   F,   F,   A),
    ("api/sites/<pk>/", "GET"):                 (OK,   OK,  OK,  OK,  F,   A),
    ("api/sites/<pk>/", "PUT"):                 (OK,   F,   F,   F,   F,   A),
    ("api/sites/<pk>/", "PATCH"):               (OK,   F,   F,   F,   F,   A),
    ("api/sites/<pk>/", "DELETE"):              (GONE, F,   F,   F,   F,   A),
    # Products (global only): product.view (every default role); product.manage (admin).
    ("api/products/", "GET"):                   (OK,   OK,  OK,  OK,  F,   A),
    ("api/products/", "POST"):                  (NEW,  F,   F,   F,   F,   A),
    ("api/products/<pk>/", "GET"):              (OK,   OK,  OK,  OK,  F,   A),
    ("api/products/<pk>/", "PUT"):              (OK,   F,   F,   F,   F,   A),
    ("api/products/<pk>/", "PATCH"):            (OK,   F,   F,   F,   F,   A),
    ("api/products/<pk>/", "DELETE"):           (GONE, F,   F,   F,   F,   A),
    # Batches: batch.view (every default role); batch.create/update/start/complete
    # (admin, operator); batch.delete (admin); batch.release/reject (admin, qa).
    ("api/batches/", "GET"):                    (OK,   OK,  OK,  OK,  F,   A),
    ("api/batches/", "POST"):                   (NEW,  F,   NEW, F,   F,   A),
    ("api/batches/<pk>/", "GET"):               (OK,   OK,  OK,  OK,  F,   A),
    ("api/batches/<pk>/", "PATCH"):             (OK,   F,   OK,  F,   F,   A),
    ("api/batches/<pk>/", "DELETE"):            (GONE, F,   F,   F,   F,   A),
    ("api/batches/<pk>/start/", "POST"):        (OK,   F,   OK,  F,   F,   A),
    ("api/batches/<pk>/complete/", "POST"):     (OK,   F,   OK,  F,   F,   A),
    ("api/batches/<pk>/release/", "POST"):      (OK,   OK,  F,   F,   F,   A),
    ("api/batches/<pk>/reject/", "POST"):       (OK,   OK,  F,   F,   F,   A),
    # Certificate of analysis of a released batch: batch.view (every default role).
    ("api/batches/<uuid:pk>/certificate/", "GET"):  (OK, OK, OK,  OK,  F,   A),
    # Serial numbers: serial.view (every default role); serial.generate and
    # serial.update_status (admin, operator); serial.export (admin, qa, auditor).
    ("api/serials/", "GET"):                    (OK,   OK,  OK,  OK,  F,   A),
    ("api/serials/status/", "POST"):            (OK,   F,   OK,  F,   F,   A),
    ("api/serials/verify/", "GET"):             (OK,   OK,  OK,  OK,  F,   A),
    ("api/serial-jobs/<pk>/", "GET"):           (OK,   OK,  OK,  OK,  F,   A),
    ("api/batches/<uuid:batch_pk>/serials/", "GET"):         (OK,  OK, OK,  OK, F, A),
    ("api/batches/<uuid:batch_pk>/serials/", "POST"):        (NEW, F,  NEW, F,  F, A),
    ("api/batches/<uuid:batch_pk>/serials/export/", "GET"):  (OK,  OK, F,   OK, F, A),
    # Cases and pallets: container.view (every default role); container.pack and
    # container.ship (admin, operator). EPCIS events: serial.view.
    ("api/containers/", "GET"):                 (OK,   OK,  OK,  OK,  F,   A),
    ("api/containers/", "POST"):                (NEW,  F,   NEW, F,   F,   A),
    ("api/containers/<sscc>/", "GET"):          (OK,   OK,  OK,  OK,  F,   A),
    ("api/containers/<sscc>/pack/", "POST"):    (OK,   F,   OK,  F,   F,   A),
    ("api/containers/<sscc>/unpack/", "POST"):  (OK,   F,   OK,  F,   F,   A),
    ("api/containers/<sscc>/ship/", "POST"):    (OK,   F,   OK,  F,   F,   A),
    ("api/epcis/events/", "GET"):               (OK,   OK,  OK,  OK,  F,   A),
    ("api/epcis/capture/", "POST"):             (OK,   F,   OK,  F,   F,   A),
    ("api/batches/<uuid:batch_pk>/epcis/", "GET"):           (OK,  OK, OK,  OK, F, A),
    # Inspections: inspection.view (every default role); inspection.create/update/
    # complete (admin, qa).
    ("api/inspections/", "GET"):                (OK,   OK,  OK,  OK,  F,   A),
    ("api/inspections/", "POST"):               (NEW,  NEW, F,   F,   F,   A),
    ("api/inspections/<pk>/", "GET"):           (OK,   OK,  OK,  OK,  F,   A),
    ("api/inspections/<pk>/", "PATCH"):         (OK,   OK,  F,   F,   F,   A),
    ("api/inspections/<pk>/complete/", "POST"): (OK,   OK,  F,   F,   F,   A),
    # A parameter's trend and the annual quality review: inspection.view.
    ("api/products/<uuid:pk>/trends/", "GET"):  (OK,   OK,  OK,  OK,  F,   A),
    ("api/products/<uuid:pk>/quality-review/", "GET"): (OK, OK, OK, OK, F, A),
    # Audit trail: audit.view (admin, qa, auditor); audit.verify (admin, auditor).
    ("api/audit-logs/", "GET"):                 (OK,   OK,  F,   OK,  F,   A),
    ("api/audit-logs/<pk>/", "GET"):            (OK,   OK,  F,   OK,  F,   A),
    ("api/audit-logs/verify/", "GET"):          (OK,   F,   F,   OK,  F,   A),
    # Daily QA report: audit.view (admin, qa, auditor).
    ("api/reports/daily/", "GET"):              (OK,   OK,  F,   OK,  F,   A),
    # Broadcasts: user.update (admin); 202, the job runs after commit.
    ("api/notifications/", "POST"):             (202,  F,   F,   F,   F,   A),
    ("api/notifications/<pk>/", "GET"):         (OK,   F,   F,   F,   F,   A),
    # Webhook subscriptions: webhook.manage, a global permission (admin).
    ("api/webhooks/", "GET"):                   (OK,   F,   F,   F,   F,   A),
    ("api/webhooks/", "POST"):                  (NEW,  F,   F,   F,   F,   A),
    ("api/webhooks/event-types/", "GET"):       (OK,   F,   F,   F,   F,   A),
    ("api/webhooks/<pk>/", "GET"):              (OK,   F,   F,   F,   F,   A),
    ("api/webhooks/<pk>/", "PATCH"):            (OK,   F,   F,   F,   F,   A),
    ("api/webhooks/<pk>/", "DELETE"):           (GONE, F,   F,   F,   F,   A),
    ("api/webhooks/<pk>/rotate-secret/", "POST"):  (OK,  F, F,   F,   F,   A),
    ("api/webhooks/<pk>/test/", "POST"):        (202,  F,   F,   F,   F,   A),
    ("api/webhooks/<pk>/deliveries/", "GET"):   (OK,   F,   F,   F,   F,   A),
    ("api/webhooks/<pk>/deliveries/<delivery_id>/redeliver/", "POST"): (202, F, F, F, F, A),
    # API documentation: public.
    ("api/schema/", "GET"):                     (OK,   OK,  OK,  OK,  OK,  OK),
    ("api/docs/", "GET"):                       (OK,   OK,  OK,  OK,  OK,  OK),
    ("api/redoc/", "GET"):                      (OK,   OK,  OK,  OK,  OK,  OK),
    ("api/redoc/redoc.standalone.js", "GET"):   (OK,   OK,  OK,  OK,  OK,  OK),
}
# fmt: on


# --- the routes the resolver knows ---------------------------------------------------

_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def _template(pattern: Any) -> str:
    """``^roles/(?P<pk>[^/.]+)/$`` -> ``roles/<pk>/``; route patterns stay as written."""
    text = str(pattern)
    if isinstance(pattern, RegexPattern):
        text = _NAMED_GROUP.sub(r"<\1>", text).removeprefix("^").removesuffix("$")
    return text


def _methods(callback: Any) -> set[str]:
    actions = getattr(callback, "actions", None)
    if actions:  # a DRF viewset route
        return {method.upper() for method in actions if method in VIEW_METHODS}
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is None:
        return set()
    return {method.upper() for method in VIEW_METHODS if hasattr(view_class, method)}


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + _template(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + _template(entry.pattern), entry


def api_routes() -> set[tuple[str, str]]:
    """Every (route template, METHOD) under /api/, but the catch-all JSON 404."""
    found: set[tuple[str, str]] = set()
    for route, entry in _walk(get_resolver().url_patterns):
        if not route.startswith("api/") or entry.callback is api_not_found:
            continue
        methods = _methods(entry.callback)
        assert methods, f"{route}: cannot tell which HTTP methods its view accepts"
        found.update((route, method) for method in methods)
    return found


def test_table_covers_every_api_route() -> None:
    known = api_routes()
    missing = sorted(known - POLICY.keys())
    stale = sorted(POLICY.keys() - known)
    problems = [f"not in the policy table (add its expected statuses): {k}" for k in missing]
    problems += [f"in the policy table but no longer routed (remove it): {k}" for k in stale]
    assert not problems, "\n".join(problems)


# --- one request per cell ------------------------------------------------------------


@dataclass
class World:
    """Fresh objects for one cell; ``caller`` is None for the anonymous client."""

    caller: User | None
    site: Site
    role: Role
    target: User
    assignment: RoleAssignment
    target_refresh: str
    product: Product
    pack: SerialNumber | None = None
    delivery: Any = None

    def own_session(self) -> UserSession:
        # A second session of the caller (the target's for the anonymous client), so
        # that ending it does not end the session the request itself runs in.
        owner = self.caller or self.target
        session, _ = account_services.session_start(user=owner, ip=None, user_agent="policy")
        return session

    def batch(self, status: str = BatchStatus.PLANNED) -> Batch:
        """A batch in ``status``, of another product at another site (the product and
        site above stay deletable). In quarantine it was completed by someone other
        than the caller and has an inspection passed by someone else: releasable."""
        if status != BatchStatus.QUARANTINE:
            return BatchFactory(status=status)
        batch = BatchFactory(status=status, produced_quantity=900, completed_by=UserFactory())
        InspectionFactory(batch=batch, passed=True)
        return batch

    def serial(self) -> SerialNumber:
        """A commissioned serial of a batch in production."""
        [serial] = make_serials(self.batch(BatchStatus.IN_PRODUCTION), ["POLICY0001"])
        return serial

    def serial_job(self) -> SerialJob:
        batch = self.batch(BatchStatus.IN_PRODUCTION)
        return SerialJob.objects.create(batch=batch, count=20_000, strategy="random", length=12)

    def container(self, *, shippable: bool = False) -> Container:
        """A case at a batch's site holding one pack; ``shippable``: a packed pack of a
        released batch. ``self.pack`` is a commissioned pack at its site, in no case."""
        status = BatchStatus.RELEASED if shippable else BatchStatus.IN_PRODUCTION
        batch = self.batch(status)
        case = make_container(batch.site)
        make_serials(batch, ["POLICYIN"], status=SerialStatus.PACKED, container=case)
        [self.pack] = make_serials(batch, ["POLICYOUT"])
        return case

    def partner_document(self) -> dict[str, Any]:
        """A trading partner's EPCIS document: one commissioned pack put into a case."""
        serial = self.serial()
        return epcis_document(packing_event(serial.batch.site, "106141412345678908", [serial]))

    def subscription(self) -> Subscription:
        """A webhook subscription of someone else's, with one failed delivery."""
        creator = UserFactory()
        assign(creator, "admin")
        subscription, _ = webhook_services.subscription_create(
            actor=creator,
            url="http://127.0.0.1:9/hook",
            types=["batch.released"],
        )
        self.delivery = make_delivery(subscription)
        return subscription

    def inspection(self) -> Inspection:
        """A pending inspection, all results in spec, of a batch in production."""
        return InspectionFactory(batch=self.batch(BatchStatus.IN_PRODUCTION))


PATH_ARGS: dict[str, Callable[[World], Any]] = {
    "api/auth/sessions/<pk>/": lambda w: w.own_session().pk,
    "api/users/<pk>/": lambda w: w.target.pk,
    "api/permissions/<codename>/": lambda w: "site.view",
    "api/roles/<pk>/": lambda w: w.role.pk,
    "api/role-assignments/<pk>/": lambda w: w.assignment.pk,
    "api/sites/<pk>/": lambda w: w.site.pk,
    "api/audit-logs/<pk>/": lambda w: AuditLog.objects.filter(site_id__isnull=True).first().pk,
    "api/products/<pk>/": lambda w: w.product.pk,
    "api/batches/<pk>/": lambda w: w.batch().pk,
    "api/batches/<pk>/start/": lambda w: w.batch(BatchStatus.PLANNED).pk,
    "api/batches/<pk>/complete/": lambda w: w.batch(BatchStatus.IN_PRODUCTION).pk,
    "api/batches/<pk>/release/": lambda w: w.batch(BatchStatus.QUARANTINE).pk,
    "api/batches/<pk>/reject/": lambda w: w.batch(BatchStatus.QUARANTINE).pk,
    "api/serial-jobs/<pk>/": lambda w: w.serial_job().pk,
    "api/batches/<uuid:batch_pk>/serials/": lambda w: w.serial().batch_id,
    "api/batches/<uuid:batch_pk>/serials/export/": lambda w: w.serial().batch_id,
    "api/containers/<sscc>/": lambda w: w.container().sscc,
    "api/containers/<sscc>/pack/": lambda w: w.container().sscc,
    "api/containers/<sscc>/unpack/": lambda w: w.container().sscc,
    "api/containers/<sscc>/ship/": lambda w: w.container(shippable=True).sscc,
    "api/batches/<uuid:batch_pk>/epcis/": lambda w: w.serial().batch_id,
    "api/inspections/<pk>/": lambda w: w.inspection().pk,
    "api/batches/<uuid:pk>/certificate/": lambda w: w.batch(BatchStatus.RELEASED).pk,
    "api/products/<uuid:pk>/trends/": lambda w: w.inspection().batch.product_id,
    "api/products/<uuid:pk>/quality-review/": lambda w: w.product.pk,
    "api/inspections/<pk>/complete/": lambda w: w.inspection().pk,
    "api/notifications/<pk>/": lambda w: Broadcast.objects.create(subject="Policy", body="x").pk,
    "api/webhooks/<pk>/": lambda w: w.subscription().pk,
    "api/webhooks/<pk>/rotate-secret/": lambda w: w.subscription().pk,
    "api/webhooks/<pk>/test/": lambda w: w.subscription().pk,
    "api/webhooks/<pk>/deliveries/": lambda w: w.subscription().pk,
    "api/webhooks/<pk>/deliveries/<delivery_id>/redeliver/": lambda w: (
        w.subscription().pk,
        w.delivery.pk,
    ),
}

BODIES: dict[tuple[str, str], Callable[[World], dict[str, Any]]] = {
    ("api/auth/token/", "POST"): lambda w: {
        "username": w.target.username,
        "password": DEFAULT_PASSWORD,
    },
    ("api/auth/token/refresh/", "POST"): lambda w: {"refresh": w.target_refresh},
    ("api/auth/logout/", "POST"): lambda w: {},
    ("api/auth/profile/update/", "PUT"): lambda w: {"first_name": "Policy", "phone": "+49 30 1"},
    ("api/auth/profile/update/", "PATCH"): lambda w: {"first_name": "Policy"},
    ("api/auth/password/change/", "POST"): lambda w: {
        "current_password": DEFAULT_PASSWORD,
        "new_password": NEW_PASSWORD,
    },
    ("api/users/", "POST"): lambda w: {
        "username": "policy.new",
        "email": "policy.new@example.com",
        "password": NEW_PASSWORD,
    },
    ("api/users/<pk>/", "PUT"): lambda w: {
        "username": w.target.username,
        "email": w.target.email,
        "first_name": "Policy",
        "last_name": "Table",
    },
    ("api/users/<pk>/", "PATCH"): lambda w: {"first_name": "Policy"},
    ("api/roles/", "POST"): lambda w: {"name": "policy-new", "permissions": ["site.view"]},
    ("api/roles/<pk>/", "PUT"): lambda w: {
        "name": "policy-renamed",
        "permissions": ["site.view", "user.view"],
    },
    ("api/roles/<pk>/", "PATCH"): lambda w: {"description": "Changed by the policy table."},
    ("api/role-assignments/", "POST"): lambda w: {
        "user": str(w.target.pk),
        "role": str(Role.objects.get(name="operator").pk),
        "site": str(w.site.pk),
    },
    ("api/sites/", "POST"): lambda w: {
        "code": "TST-01",
        "name": "Test plant",
        "gln": "4012345000009",
        "country": "DE",
        "timezone": "Europe/Berlin",
    },
    ("api/sites/<pk>/", "PUT"): lambda w: {
        "code": w.site.code,
        "name": "Renamed plant",
        "gln": w.site.gln,
        "country": "DE",
        "timezone": "Europe/Berlin",
    },
    ("api/sites/<pk>/", "PATCH"): lambda w: {"name": "Renamed plant"},
    ("api/products/", "POST"): lambda w: {"gtin": gtin14(99_999), "name": "Policy product"},
    ("api/products/<pk>/", "PUT"): lambda w: {
        "gtin": w.product.gtin,
        "name": "Renamed product",
        "strength": "1 g",
        "dosage_form": "powder",
        "is_active": True,
    },
    ("api/products/<pk>/", "PATCH"): lambda w: {"name": "Renamed product"},
    ("api/batches/", "POST"): lambda w: {
        "product": str(w.product.pk),
        "site": str(w.site.pk),
        "batch_number": "POLICY-1",
        "planned_quantity": 1000,
        "manufacturing_date": "2025-01-01",
        "expiry_date": "2027-01-01",
    },
    ("api/batches/<pk>/", "PATCH"): lambda w: {"planned_quantity": 1200},
    ("api/batches/<pk>/start/", "POST"): lambda w: {},
    ("api/batches/<pk>/complete/", "POST"): lambda w: {"produced_quantity": 950},
    ("api/batches/<pk>/release/", "POST"): lambda w: {
        "password": DEFAULT_PASSWORD,
        "meaning": "approval",
    },
    ("api/batches/<pk>/reject/", "POST"): lambda w: {
        "password": DEFAULT_PASSWORD,
        "reason": "Rejected by the policy table.",
    },
    ("api/serials/status/", "POST"): lambda w: {"serials": [str(w.serial())], "status": "packed"},
    ("api/batches/<uuid:batch_pk>/serials/", "POST"): lambda w: {"count": 10},
    ("api/containers/", "POST"): lambda w: {"site": str(w.site.pk), "kind": "pallet"},
    ("api/containers/<sscc>/pack/", "POST"): lambda w: {"children": [str(w.pack)]},
    ("api/containers/<sscc>/unpack/", "POST"): lambda w: {},
    ("api/containers/<sscc>/ship/", "POST"): lambda w: {"destination_gln": w.site.gln},
    ("api/epcis/capture/", "POST"): lambda w: w.partner_document(),
    ("api/inspections/", "POST"): lambda w: {
        "batch": str(w.batch(BatchStatus.IN_PRODUCTION).pk),
        "kind": "visual",
        "results": [{"parameter": "defects", "value": 0, "unit": "count", "max": 0}],
    },
    ("api/inspections/<pk>/", "PATCH"): lambda w: {"notes": "Changed by the policy table."},
    ("api/notifications/", "POST"): lambda w: {
        "subject": "Policy table",
        "body": "Sent by the policy table.",
        "role": "qa",
    },
    ("api/webhooks/", "POST"): lambda w: {
        "url": "http://127.0.0.1:9/hook",
        "events": ["batch.released"],
    },
    ("api/webhooks/<pk>/", "PATCH"): lambda w: {"description": "Changed by the policy table."},
    ("api/webhooks/<pk>/rotate-secret/", "POST"): lambda w: {},
    ("api/webhooks/<pk>/test/", "POST"): lambda w: {},
    ("api/webhooks/<pk>/deliveries/<delivery_id>/redeliver/", "POST"): lambda w: {},
    ("api/inspections/<pk>/complete/", "POST"): lambda w: {
        "outcome": "passed",
        "password": DEFAULT_PASSWORD,
        "meaning": "approval",
    },
}


# Query strings a GET needs to succeed.
QUERIES: dict[str, Callable[[World], str]] = {
    "api/serials/verify/": lambda w: f"?code={quote(str(w.serial()))}",
    "api/products/<uuid:pk>/trends/": lambda w: "?parameter=assay",
    "api/products/<uuid:pk>/quality-review/": lambda w: "?year=2026",
}


def _url(route: str, world: World) -> str:
    query = QUERIES[route](world) if route in QUERIES else ""
    if "<" not in route:
        return f"/{route}{query}"
    assert route in PATH_ARGS, f"{route}: add how to fill its URL arguments to PATH_ARGS"
    values = PATH_ARGS[route](world)
    # One value for every argument, or a tuple of them in the route's order.
    parts = iter(values if isinstance(values, tuple) else ())
    filled = re.sub(
        r"<[\w:]+>", lambda _: str(next(parts) if isinstance(values, tuple) else values), route
    )
    return "/" + filled + query


@pytest.fixture
def world_for(db: Any) -> Callable[[str], World]:
    def _world(role_name: str) -> World:
        caller = None if role_name == "anon" else UserFactory()
        if caller is not None and role_name != "none":
            assign(caller, role_name)
        site = SiteFactory()
        role = Role.objects.create(name="policy-role", description="For the policy table.")
        role.permissions.set(Permission.objects.filter(codename="site.view"))
        target = UserFactory()
        # At another site: the one above must stay deletable (assignments protect it).
        assignment = RoleAssignment.objects.create(user=target, role=role, site=SiteFactory())
        _, tokens = account_services.session_start(user=target, ip=None, user_agent="policy")
        return World(caller, site, role, target, assignment, tokens.refresh, ProductFactory())

    return _world


CELLS = [
    pytest.param(route, method, role, statuses[i], id=f"{method} {route} [{role}]")
    for (route, method), statuses in sorted(POLICY.items())
    for i, role in enumerate(ROLES)
]


@pytest.mark.parametrize(("route", "method", "role", "expected"), CELLS)
def test_policy_cell(
    route: str,
    method: str,
    role: str,
    expected: int,
    world_for: Callable[[str], World],
    auth_client: Callable[[Any], APIClient],
) -> None:
    world = world_for(role)
    client = APIClient() if world.caller is None else auth_client(world.caller)
    url = _url(route, world)
    send = getattr(client, method.lower())
    # A valid write names its reason for change (required for GMP records; the rule is
    # tested in tests/audit/test_reasons.py).
    reason = {} if method == "GET" else {"HTTP_X_CHANGE_REASON": "Policy check"}
    if method in ("POST", "PUT", "PATCH"):
        assert (route, method) in BODIES, f"{method} {route}: add a valid body to BODIES"
        response = send(url, BODIES[route, method](world), format="json", **reason)
    else:
        response = send(url, **reason)

    assert response.status_code == expected, (
        f"{method} {url} as {role}: expected {expected}, got {response.status_code}: "
        f"{response.content[:500]!r}"
    )
