"""Demo data for a first look: an administrator, sites, users with roles. Idempotent."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from rbac.models import Role, RoleAssignment
from sites.models import Site

DEMO_SITES = [
    # code, name, GLN (valid check digit), country, time zone
    ("FRA-01", "Frankfurt Solid Dose", "4012345000009", "DE", "Europe/Berlin"),
    ("BCN-02", "Barcelona Sterile Fill", "8412345000003", "ES", "Europe/Madrid"),
]
# username, e-mail, first, last, role, site code (None = global)
DEMO_USERS = [
    ("qa.lead", "qa.lead@example.com", "Quinn", "Adler", "qa", None),
    ("operator.fra", "operator.fra@example.com", "Olga", "Ferreira", "operator", "FRA-01"),
    ("operator.bcn", "operator.bcn@example.com", "Oriol", "Puig", "operator", "BCN-02"),
    ("auditor", "auditor@example.com", "Ada", "Ruiz", "auditor", None),
]


class Command(BaseCommand):
    help = "Create demo users and an administrator (printed). Safe to run again."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--admin-username", default=os.environ.get("DEMO_ADMIN_USERNAME", "admin")
        )
        parser.add_argument("--admin-password", default=os.environ.get("DEMO_ADMIN_PASSWORD", ""))

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
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
            self.stdout.write(
                self.style.SUCCESS(
                    f"Administrator created: username={username} password={password}"
                )
            )
        elif password:
            admin.set_password(password)
            admin.save()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Administrator password reset: username={username} password={password}"
                )
            )
        else:
            self.stdout.write(
                f"Administrator exists: username={username} (password unchanged; pass "
                "--admin-password or DEMO_ADMIN_PASSWORD to reset it)"
            )
        sites = {}
        for code, name, gln, country, tz in DEMO_SITES:
            sites[code], _ = Site.objects.get_or_create(
                code=code, defaults={"name": name, "gln": gln, "country": country, "timezone": tz}
            )
        demo_password = os.environ.get("DEMO_USER_PASSWORD", "demo-password-2026")
        for name, email, first, last, role, site_code in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=name, defaults={"email": email, "first_name": first, "last_name": last}
            )
            if created:
                user.set_password(demo_password)
                user.save()
                self.stdout.write(f"Demo user created: {name} / {demo_password} ({role})")
            site = sites.get(site_code) if site_code else None
            assignment = RoleAssignment.objects.filter(
                user=user, role__name=role, site=site
            ).exists()
            if not assignment:
                RoleAssignment.objects.create(
                    user=user, role=Role.objects.get(name=role), site=site
                )
