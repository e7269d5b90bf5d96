"""Demo serial numbers for the batch in production that ``seed_demo`` creates. Idempotent."""

from __future__ import annotations

from typing import Any

from batches.models import Batch
from core.management.base import SeedCommand
from serializations import gs1, services
from serializations.models import SerialNumber

DEMO_BATCH = "L2026-002"
DEMO_COUNT = 1_000


class Command(SeedCommand):
    help = "Generate demo serial numbers for the demo batch in production."

    def handle_as(self, actor: Any, *args: Any, **options: Any) -> None:
        batch = Batch.objects.select_related("product").filter(batch_number=DEMO_BATCH).first()
        if batch is None:
            self.stdout.write("No demo batch: run seed_demo first.")
            return
        if not SerialNumber.objects.filter(batch=batch).exists():
            services.serials_generate(
                actor=actor, batch=batch, req=services.GenerationRequest(count=DEMO_COUNT)
            )
        serial = SerialNumber.objects.filter(batch=batch).order_by("id").first()
        assert serial is not None
        code = gs1.element_string(serial.gtin, serial.serial, batch.batch_number, batch.expiry_date)
        self.stdout.write(
            f"Demo serials: {SerialNumber.objects.filter(batch=batch).count()} for batch "
            f"{batch.batch_number}; try GET /api/serials/verify/?code={code}"
        )
