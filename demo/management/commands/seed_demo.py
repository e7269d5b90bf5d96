"""Demo data for a first look: an administrator, sites, users with roles, products,
batches in several states and inspections. Idempotent. Lives in the demo app, above
every domain app, because it creates rows of all of them."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.core.management import call_command
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import SignatureMeaning, User
from accounts.signatures import Reauthentication, reauthentication
from batches import services
from batches.models import Batch, Product
from core.context import bind_actor
from core.management.base import SeedCommand
from inspections import services as inspections
from rbac.models import Role, RoleAssignment
from serializations import gs1
from serializations import services as serial_services
from serializations.models import SerialNumber
from sites.models import Site

DEMO_SITES = [
    # code, name, GLN (valid check digit), country, time zone, GS1 company prefix
    ("FRA-01", "Frankfurt Solid Dose", "4012345000009", "DE", "Europe/Berlin", "4012345"),
    ("BCN-02", "Barcelona Sterile Fill", "8412345000003", "ES", "Europe/Madrid", "8412345"),
]
DEMO_PRODUCTS = [
    # GTIN-14 (valid check digit), name, strength, dosage form
    ("04012345000016", "Paracetamol", "500 mg", "tablet"),
    ("04012345000023", "Amoxicillin", "250 mg", "capsule"),
]
# The story the demo tells, each step through the services as the API takes it:
# Paracetamol's ten past batches at FRA-01, released, their assay drifting down towards
# its lower limit (the review page's chart and the trends endpoint show it); the last of
# them carries packs whose printed code verifies; batch L2026-003 waits in quarantine
# with its inspection passed, for a QA person to review and sign; L2026-002 is in
# production (seed_demo_serials gives it serials) and L2026-001 and L2026-004 planned.
PARACETAMOL, AMOXICILLIN = "04012345000016", "04012345000023"
PAST_BATCHES = [f"L2025-{n}" for n in range(101, 111)]
ASSAY = [100.6, 100.2, 100.4, 100.1, 99.8, 99.5, 99.3, 98.9, 98.6, 98.4]  # % of label claim
DISSOLUTION = [91.0, 89.5, 92.0, 90.5, 88.0, 91.5, 90.0, 89.0, 92.5, 90.0]  # % in 30 min
QUARANTINE_ASSAY, QUARANTINE_DISSOLUTION = 98.2, 89.5
RELEASED_PACKS = 100
OPEN_BATCHES = [
    # batch number, product GTIN, site, started
    ("L2026-001", PARACETAMOL, "FRA-01", False),
    ("L2026-002", PARACETAMOL, "FRA-01", True),
    ("L2026-004", AMOXICILLIN, "BCN-02", False),
]
QUARANTINE_BATCH = "L2026-003"
# username, e-mail, first, last, role, site code (None = global)
DEMO_USERS = [
    ("qa.lead", "qa.lead@example.com", "Quinn", "Adler", "qa", None),
    ("operator.fra", "operator.fra@example.com", "Olga", "Ferreira", "operator", "FRA-01"),
    ("operator.bcn", "operator.bcn@example.com", "Oriol", "Puig", "operator", "BCN-02"),
    ("auditor", "auditor@example.com", "Ada", "Ruiz", "auditor", None),
]
PEOPLE = [username for username, *_ in DEMO_USERS]
# Who works in the admin too: QA reviews batches there, the auditor reads the trail.
STAFF = {"qa.lead", "auditor"}


def demo_password() -> str:
    return os.environ.get("DEMO_USER_PASSWORD", "demo-password-2026")


class Command(SeedCommand):
    help = "Create demo users and an administrator (printed). Safe to run again."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--admin-username", default=os.environ.get("DEMO_ADMIN_USERNAME", "admin")
        )
        parser.add_argument("--admin-password", default=os.environ.get("DEMO_ADMIN_PASSWORD", ""))
        parser.add_argument(
            "--no-serials",
            dest="serials",
            action="store_false",
            help="do not run seed_demo_serials afterwards",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self._credentials: list[str] = []
        serials = options.pop("serials", True)
        super().handle(*args, **options)
        if serials:
            call_command("seed_demo_serials", stdout=self.stdout, stderr=self.stderr)
        # Last and framed, where it cannot scroll past between other lines unseen.
        width = max(len(line) for line in self._credentials) + 4
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("+" + "-" * (width - 2) + "+"))
        for line in self._credentials:
            self.stdout.write(self.style.SUCCESS(f"| {line.ljust(width - 4)} |"))
        self.stdout.write(self.style.SUCCESS("+" + "-" * (width - 2) + "+"))

    def handle_as(self, actor: Any, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            sites, products = self._people_and_places(options)
        # Step by step, each in its service's own transaction: a signature's password
        # check must outlive a refused act, so it never runs inside another transaction.
        Story(self, sites, products).tell()

    def _people_and_places(
        self, options: dict[str, Any]
    ) -> tuple[dict[str, Site], dict[str, Product]]:
        username = options["admin_username"]
        admin = User.objects.filter(username=username).first()
        password = options["admin_password"]
        if admin is None:
            password = password or secrets.token_urlsafe(12)
            admin = User(
                username=username,
                email=f"{username}@example.com",
                is_staff=True,
                is_superuser=True,
                first_name="Demo",
                last_name="Administrator",
            )
            admin.set_password(password)
            admin.save()
            self._credentials += [
                "Administrator created. Sign in at /admin/ with",
                f"  username: {username}",
                f"  password: {password}",
                "The password is shown this once; it is stored only as a hash.",
            ]
        elif password:
            admin.set_password(password)
            admin.save()
            self._credentials += [
                "Administrator password reset. Sign in at /admin/ with",
                f"  username: {username}",
                f"  password: {password}",
            ]
        else:
            self._credentials += [
                f"Administrator exists: {username} (password unchanged; pass",
                "--admin-password or DEMO_ADMIN_PASSWORD to reset it).",
            ]
        sites = {}
        for code, name, gln, country, tz, prefix in DEMO_SITES:
            sites[code], _ = Site.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "gln": gln,
                    "country": country,
                    "timezone": tz,
                    "gs1_company_prefix": prefix,
                },
            )
        password = demo_password()
        created_users = []
        for name, email, first, last, role, site_code in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=name,
                defaults={
                    "email": email,
                    "first_name": first,
                    "last_name": last,
                    "is_staff": name in STAFF,
                },
            )
            if created:
                user.set_password(password)
                user.save()
                self.stdout.write(f"Demo user created: {name} ({role})")
                created_users.append(name)
            site = sites.get(site_code) if site_code else None
            assignment = RoleAssignment.objects.filter(
                user=user, role__name=role, site=site
            ).exists()
            if not assignment:
                RoleAssignment.objects.create(
                    user=user, role=Role.objects.get(name=role), site=site
                )
        if created_users:
            self._credentials += [
                f"Demo users {', '.join(created_users)}:",
                f"  password: {password}",
            ]
        products = {}
        for gtin, name, strength, form in DEMO_PRODUCTS:
            products[gtin], _ = Product.objects.get_or_create(
                gtin=gtin, defaults={"name": name, "strength": strength, "dosage_form": form}
            )
        return sites, products


class Story:
    """The demo's batches, made the way people make them: planned, started and
    completed by the site's operator, inspected, signed and released by QA, through the
    same services as the API, each step's records naming the person who took it."""

    def __init__(self, command: Command, sites: dict[str, Site], products: dict[str, Any]):
        self.command, self.sites, self.products = command, sites, products
        self.password = demo_password()
        self.people = {user.username: user for user in User.objects.filter(username__in=PEOPLE)}
        # What a signature's password check looks at in place of a browser's request.
        self.request = HttpRequest()
        self.request.META = {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": "manage.py seed_demo"}
        self.today = timezone.now().date()

    def tell(self) -> None:
        qa = self.people["qa.lead"]
        if not qa.check_password(self.password):
            self.command.stdout.write(
                "Demo batches not seeded: qa.lead's password is not DEMO_USER_PASSWORD, "
                "so the demo cannot sign for them."
            )
            return
        paracetamol = self.products[PARACETAMOL]
        for n, number in enumerate(PAST_BATCHES):
            made = self.today - timedelta(days=30 * (len(PAST_BATCHES) + 1 - n))
            batch = self.plan(number, paracetamol, "FRA-01", made)
            if batch is None:
                continue
            last = number == PAST_BATCHES[-1]
            batch = self.produce(batch, "operator.fra", packs=RELEASED_PACKS if last else 0)
            self.inspect(batch, ASSAY[n], DISSOLUTION[n])
            with self.as_person(qa):
                services.batch_release(
                    reauth=self.signer(qa), batch=batch, meaning=SignatureMeaning.APPROVAL
                )
        batch = self.plan(QUARANTINE_BATCH, paracetamol, "FRA-01", self.today - timedelta(days=3))
        if batch is not None:
            self.produce(batch, "operator.fra")
            self.inspect(batch, QUARANTINE_ASSAY, QUARANTINE_DISSOLUTION)
        for number, gtin, site, started in OPEN_BATCHES:
            batch = self.plan(number, self.products[gtin], site, self.today)
            if batch is not None and started:
                operator = self.operator_of(site)
                with self.as_person(operator):
                    services.batch_start(actor=operator, batch=batch)
        self.show_a_pack()

    @contextmanager
    def as_person(self, user: User) -> Iterator[None]:
        with bind_actor(user_id=str(user.pk), username=user.username):
            yield

    def signer(self, user: User) -> Reauthentication:
        return reauthentication(request=self.request, user=user, password=self.password)

    def operator_of(self, site: str) -> User:
        return self.people["operator.fra" if site == "FRA-01" else "operator.bcn"]

    def plan(self, number: str, product: Product, site: str, made: Any) -> Batch | None:
        """The batch planned by the site's operator; None when it exists already."""
        if Batch.objects.filter(product=product, batch_number=number).exists():
            return None
        operator = self.operator_of(site)
        with self.as_person(operator):
            return services.batch_create(
                actor=operator,
                product=product,
                site=self.sites[site],
                batch_number=number,
                planned_quantity=100_000,
                manufacturing_date=made,
                expiry_date=made + timedelta(days=730),
            )

    def produce(self, batch: Batch, username: str, packs: int = 0) -> Batch:
        """Started, serialised (``packs``), completed: in quarantine."""
        operator = self.people[username]
        with self.as_person(operator):
            batch = services.batch_start(actor=operator, batch=batch)
            if packs:
                serial_services.serials_generate(
                    actor=operator, batch=batch, req=serial_services.GenerationRequest(count=packs)
                )
            return services.batch_complete(actor=operator, batch=batch, produced_quantity=99_500)

    def inspect(self, batch: Batch, assay: float, dissolution: float) -> None:
        """The QC release testing, recorded and signed by QA as reviewed: passed."""
        qa = self.people["qa.lead"]
        with self.as_person(qa):
            inspection = inspections.inspection_create(
                actor=qa,
                batch=batch,
                kind="assay",
                results=[
                    {"parameter": "assay", "value": assay, "unit": "%", "min": 95.0, "max": 105.0},
                    {"parameter": "dissolution", "value": dissolution, "unit": "%", "min": 80.0},
                ],
            )
            inspections.inspection_complete(
                reauth=self.signer(qa),
                inspection=inspection,
                outcome="passed",
                meaning=SignatureMeaning.REVIEW,
            )

    def show_a_pack(self) -> None:
        serial = (
            SerialNumber.objects.filter(batch__batch_number=PAST_BATCHES[-1])
            .select_related("batch")
            .order_by("id")
            .first()
        )
        if serial is None:
            return
        batch = serial.batch
        code = gs1.element_string(serial.gtin, serial.serial, batch.batch_number, batch.expiry_date)
        self.command.stdout.write(
            f"Demo released batch {batch.batch_number}: a pack that verifies: "
            f"GET /api/serials/verify/?code={code}"
        )
