"""Demo serial numbers for the batch in production that ``seed_demo`` creates. Idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.models import User
from batches.models import Batch
from core.context import bind_actor
from serializations import gs1, services
from serializations.models import SerialNumber

DEMO_BATCH = "L2026-002"
DEMO_COUNT = 1_000


class Command(BaseCommand):
    help = "Generate demo serial numbers for the demo batch in production."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--admin-username", default="admin")

    def handle(self, *args: Any, **options: Any) -> None:
        batch = Batch.objects.select_related("product").filter(batch_number=DEMO_BATCH).first()
        if batch is None:
            self.stdout.write("No demo batch: run seed_demo first.")
            return
        if not SerialNumber.objects.filter(batch=batch).exists():
            actor = User.objects.filter(username=options["admin_username"]).first()
            with bind_actor(
                user_id=str(actor.pk) if actor else None,
                username=actor.username if actor else "system",
            ):
                services.serials_generate(
                    actor=actor, batch=batch, req=services.GenerationRequest(count=DEMO_COUNT)
                )
        serial = SerialNumber.objects.filter(batch=batch).order_by("id").first()
        assert serial is not None  # noqa: S101
        code = gs1.element_string(serial.gtin, serial.serial, batch.batch_number, batch.expiry_date)
        self.stdout.write(
            f"Demo serials: {SerialNumber.objects.filter(batch=batch).count()} for batch "
            f"{batch.batch_number}; try GET /api/serials/verify/?code={code}"
        )
