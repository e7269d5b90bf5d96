"""Serial Shipping Container Codes (GS1 AI 00): numbering cases and pallets.

An SSCC is 18 digits: the extension digit, the GS1 company prefix, a serial reference
filling the rest up to 17 digits, and the GS1 check digit. References are counted per
extension digit and prefix in ``SSCCCounter``, whose row is locked while a number is
taken: concurrent allocations never collide, and a number is never given twice (nor one
a captured container already carries).
"""

from __future__ import annotations

from django.conf import settings

from core.exceptions import StateConflict
from serializations.models import Container, SSCCCounter
from serializations.validators import SSCC_LENGTH as LENGTH
from serializations.validators import check_digit
from serializations.validators import is_valid_sscc as is_valid
from serializations.validators import validate_sscc as validate
from sites.models import Site

__all__ = ["LENGTH", "allocate", "check_digit", "is_valid", "validate"]

NO_PREFIX = (
    "Site {code} has no GS1 company prefix and the GS1_COMPANY_PREFIX setting is blank: "
    "set one before making cases or pallets."
)
EXHAUSTED = "Every serial reference of GS1 company prefix {prefix} is used: use another prefix."


def company_prefix(site: Site) -> str:
    prefix = site.gs1_company_prefix or settings.GS1_COMPANY_PREFIX
    if not prefix:
        raise StateConflict(NO_PREFIX.format(code=site.code), code="no_company_prefix")
    return str(prefix)


def allocate(site: Site) -> str:
    """The next SSCC of ``site``'s company prefix; call inside the creating transaction,
    so a rolled-back container gives its number back to no one (the counter rolls back
    with it, and nothing else saw the number)."""
    prefix = company_prefix(site)
    extension = str(settings.GS1_SSCC_EXTENSION_DIGIT)
    key = extension + prefix
    width = LENGTH - 1 - len(key)
    SSCCCounter.objects.bulk_create([SSCCCounter(key=key)], ignore_conflicts=True)
    counter = SSCCCounter.objects.select_for_update().get(key=key)
    reference = counter.last_reference
    while True:
        reference += 1
        if reference >= 10**width:
            raise StateConflict(EXHAUSTED.format(prefix=prefix), code="sscc_exhausted")
        body = f"{key}{reference:0{width}d}"
        number = body + check_digit(body)
        # A partner's captured container may already carry a number of our prefix.
        if not Container.objects.filter(sscc=number).exists():
            break
    SSCCCounter.objects.filter(key=key).update(last_reference=reference)
    return number


def element_string(sscc: str) -> str:
    return f"(00){sscc}"


def digital_link(sscc: str) -> str:
    return f"{settings.GS1_DIGITAL_LINK_BASE.rstrip('/')}/00/{sscc}"
