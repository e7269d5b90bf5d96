"""Serial Shipping Container Codes (GS1 AI 00): numbering cases and pallets.

An SSCC is 18 digits: the extension digit, the GS1 company prefix, a serial reference
filling the rest up to 17 digits, and the GS1 check digit. References are counted per
extension digit and prefix in ``SSCCCounter``, whose row is locked while a number is
taken: concurrent allocations never collide, and a number is never given twice.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from stdnum import ean

from core.exceptions import StateConflict
from serializations.models import SSCCCounter
from sites.models import Site

LENGTH = 18
NO_PREFIX = (
    "Site {code} has no GS1 company prefix and the GS1_COMPANY_PREFIX setting is blank: "
    "set one before making cases or pallets."
)
EXHAUSTED = "Every serial reference of GS1 company prefix {prefix} is used: use another prefix."


def check_digit(body: str) -> str:
    """The GS1 mod-10 check digit of ``body`` (the first 17 digits of an SSCC)."""
    return str(ean.calc_check_digit(body))


def is_valid(sscc: str) -> bool:
    return (
        len(sscc) == LENGTH
        and sscc.isascii()
        and sscc.isdigit()
        and check_digit(sscc[:-1]) == sscc[-1]
    )


def validate(sscc: str) -> None:
    if not is_valid(sscc):
        raise ValidationError("Enter an SSCC: 18 digits with a valid GS1 check digit.")


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
    reference = counter.last_reference + 1
    if reference >= 10**width:
        raise StateConflict(EXHAUSTED.format(prefix=prefix), code="sscc_exhausted")
    SSCCCounter.objects.filter(key=key).update(last_reference=reference)
    body = f"{key}{reference:0{width}d}"
    return body + check_digit(body)


def element_string(sscc: str) -> str:
    return f"(00){sscc}"


def digital_link(sscc: str) -> str:
    return f"{settings.GS1_DIGITAL_LINK_BASE.rstrip('/')}/00/{sscc}"
