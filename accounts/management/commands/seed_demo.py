"""Demo data for a first look: an administrator and a few users. Idempotent."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User

DEMO_USERS = [
    ("qa.lead", "qa.lead@example.com", "Quinn", "Adler"),
    ("operator.fra", "operator.fra@example.com", "Olga", "Ferreira"),
    ("auditor", "auditor@example.com", "Ada", "Ruiz"),
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
        demo_password = os.environ.get("DEMO_USER_PASSWORD", "demo-password-2026")
        for name, email, first, last in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=name, defaults={"email": email, "first_name": first, "last_name": last}
            )
            if created:
                user.set_password(demo_password)
                user.save()
                self.stdout.write(f"Demo user created: {name} / {demo_password}")
