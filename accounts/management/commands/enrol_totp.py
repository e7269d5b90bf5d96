"""Enrol an authenticator app (TOTP) for a staff account's admin sign-in.

    manage.py enrol_totp alice@example.com --actor admin
    manage.py enrol_totp alice --replace --actor admin   # a lost phone: the old device stops

``--actor`` names the administrator who enrols the device (who must hold
``user.update``); the audit records of the device name them.

Prints the otpauth:// URI (paste or QR-encode it into the app) and the base32 secret.
Both are shown once and are not recoverable: the secret is stored only in the device row.
"""

from __future__ import annotations

from base64 import b32encode
from typing import Any

from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Q
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from core.management.base import ActorCommand


class Command(ActorCommand):
    actor_codename = "user.update"
    help = "Enrol a TOTP authenticator for a user (by username or e-mail); prints its URI."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument("user", help="username or e-mail address")
        parser.add_argument(
            "--name", default="authenticator", help="device name (default: %(default)s)"
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="remove the user's existing TOTP devices first",
        )

    def handle_as(self, actor: Any, *args: Any, **options: Any) -> None:
        ident = options["user"].strip()
        users = list(User.objects.filter(Q(username=ident) | Q(email__iexact=ident))[:2])
        if len(users) != 1:
            raise CommandError(f"No single user with username or e-mail {ident!r}.")
        user = users[0]
        if not user.is_active:
            raise CommandError(f"{user.username} is deactivated.")
        with transaction.atomic():
            existing = TOTPDevice.objects.filter(user=user)
            if existing.exists():
                if not options["replace"]:
                    raise CommandError(
                        f"{user.username} already has an authenticator; pass --replace to "
                        "remove it and enrol a new one."
                    )
                for device in existing:
                    device.delete()
            device = TOTPDevice.objects.create(user=user, name=options["name"], confirmed=True)
        if not user.is_staff:
            self.stderr.write(
                f"Note: {user.username} is not staff; the device matters only for the admin."
            )
        self.stdout.write(f"Authenticator enrolled for {user.username}.")
        self.stdout.write(f"URI:    {device.config_url}")
        self.stdout.write(f"Secret: {b32encode(device.bin_key).decode()}")
