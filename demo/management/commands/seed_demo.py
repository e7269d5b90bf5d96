"""Demo data for a first look: an administrator, sites, users with roles, products,
batches in several states and inspections. Idempotent. Lives in the demo app, above
every domain app, because it creates rows of all of them."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from typing import Any

from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from batches.choices import BatchStatus
from batches.models import Batch, Product
from core.management.base import SeedCommand
from inspections.models import Inspection
from rbac.models import Role, RoleAssignment
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
# batch number, product GTIN, site, status
DEMO_BATCHES = [
    ("L2026-001", "04012345000016", "FRA-01", BatchStatus.PLANNED),
    ("L2026-002", "04012345000016", "FRA-01", BatchStatus.IN_PRODUCTION),
    ("L2026-003", "04012345000023", "BCN-02", BatchStatus.QUARANTINE),
]
# username, e-mail, first, last, role, site code (None = global)
DEMO_USERS = [
    ("qa.lead", "qa.lead@example.com", "Quinn", "Adler", "qa", None),
    ("operator.fra", "operator.fra@example.com", "Olga", "Ferreira", "operator", "FRA-01"),
    ("operator.bcn", "operator.bcn@example.com", "Oriol", "Puig", "operator", "BCN-02"),
    ("auditor", "auditor@example.com", "Ada", "Ruiz", "auditor", None),
]


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

    @transaction.atomic
    def handle_as(self, actor: Any, *args: Any, **options: Any) -> None:
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
        demo_password = os.environ.get("DEMO_USER_PASSWORD", "demo-password-2026")
        created_users = []
        for name, email, first, last, role, site_code in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=name, defaults={"email": email, "first_name": first, "last_name": last}
            )
            if created:
                user.set_password(demo_password)
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
                f"  password: {demo_password}",
            ]
        self._batches(sites, admin)

    def _batches(self, sites: dict[str, Site], admin: User) -> None:
        products = {}
        for gtin, name, strength, form in DEMO_PRODUCTS:
            products[gtin], _ = Product.objects.get_or_create(
                gtin=gtin, defaults={"name": name, "strength": strength, "dosage_form": form}
            )
        today = timezone.now().date()
        for number, gtin, site_code, status in DEMO_BATCHES:
            # Created complete: a seed writes new rows, it changes none (that would need a
            # reason for change).
            completed = (
                {"produced_quantity": 99_500, "completed_by": admin}
                if status == BatchStatus.QUARANTINE
                else {}
            )
            batch, created = Batch.objects.get_or_create(
                product=products[gtin],
                batch_number=number,
                defaults={
                    "site": sites[site_code],
                    "planned_quantity": 100_000,
                    "manufacturing_date": today,
                    "expiry_date": today + timedelta(days=730),
                    "status": status,
                    "created_by": admin,
                    **completed,
                },
            )
            if created and status == BatchStatus.QUARANTINE:
                Inspection.objects.create(
                    batch=batch,
                    kind="assay",
                    performed_by=User.objects.get(username="qa.lead"),
                    results=[
                        {
                            "parameter": "assay",
                            "value": 99.1,
                            "unit": "%",
                            "min": 95.0,
                            "max": 105.0,
                            "in_spec": True,
                        }
                    ],
                )
