from django.utils import timezone

from serializations.choices import SerialStatus
from serializations.models import SerialNumber


def make_serials(batch, serials, status=SerialStatus.COMMISSIONED, reason=""):
    """Rows for ``batch`` with the given serial strings (a test shortcut around the API)."""
    now = timezone.now()
    return SerialNumber.objects.bulk_create(
        [
            SerialNumber(
                batch=batch,
                gtin=batch.product.gtin,
                serial=serial,
                status=status,
                decommission_reason=reason,
                status_changed_at=now,
                created_at=now,
            )
            for serial in serials
        ]
    )
