import itertools

from django.db import transaction
from django.utils import timezone
from stdnum import ean

from serializations import epcis
from serializations.choices import ContainerKind, SerialStatus
from serializations.jobs import GenerationRequest, generate_locked
from serializations.models import Container, SerialNumber


def make_serials(batch, serials, status=SerialStatus.COMMISSIONED, reason="", container=None):
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
                container=container,
                status_changed_at=now,
                created_at=now,
            )
            for serial in serials
        ]
    )


_ssccs = itertools.count(1)


def sscc_of(reference: int, prefix: str = "4012345") -> str:
    """A valid SSCC: extension digit 9 (never allocated by the tests' settings), the
    prefix, ``reference``, the check digit."""
    body = f"9{prefix}{reference:0{16 - len(prefix)}d}"
    return body + ean.calc_check_digit(body)


def make_container(site, kind=ContainerKind.CASE, **fields):
    """A container with an SSCC of its own, outside the allocation counter."""
    return Container.objects.create(site=site, kind=kind, sscc=sscc_of(next(_ssccs)), **fields)


def code(row):
    """A serial's GS1 element string, as a scanner reads it."""
    return f"(01){row.gtin}(21){row.serial}"


def generate(batch, count):
    """Generate ``count`` random serials, as the API does, through the service."""
    with transaction.atomic():
        locked = type(batch).objects.select_related("site", "product").get(pk=batch.pk)
        return generate_locked(locked, GenerationRequest(count=count))


def epcis_document(*events):
    """An EPCISDocument holding ``events``, as a trading partner sends one."""
    return {
        "@context": [epcis.CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-12-01T10:00:00.000Z",
        "epcisBody": {"eventList": list(events)},
    }


def epcis_event(site, **fields):
    """An event at ``site`` (its readPoint and bizLocation), with ``fields``."""
    return {
        "eventTime": "2026-12-01T09:00:00.000Z",
        "eventTimeZoneOffset": "+01:00",
        "readPoint": {"id": epcis.location(site.gln)},
        "bizLocation": {"id": epcis.location(site.gln)},
        **fields,
    }


def packing_event(site, parent_sscc, children):
    """An AggregationEvent ADD: ``children`` (serial rows) packed into an SSCC."""
    return epcis_event(
        site,
        type="AggregationEvent",
        action="ADD",
        bizStep="packing",
        parentID=epcis.sscc_epc(parent_sscc),
        childEPCs=[epcis.pack_epc(p.gtin, p.serial) for p in children],
    )
