from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django.core.exceptions import ValidationError
from django_countries import countries
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumValidationError

GLN_INVALID = "Enter a GS1 GLN: 13 digits with a valid check digit."
COUNTRY_INVALID = "Enter an ISO 3166-1 alpha-2 country code, e.g. DE."
TIMEZONE_INVALID = "Enter an IANA time zone, e.g. Europe/Berlin."


def validate_gln(value: str) -> None:
    if not (isinstance(value, str) and len(value) == 13 and value.isascii() and value.isdigit()):
        raise ValidationError(GLN_INVALID, code="invalid_gln")
    try:
        ean.validate(value)
    except StdnumValidationError as exc:
        raise ValidationError(GLN_INVALID, code="invalid_gln") from exc


def validate_country(value: str) -> None:
    if value not in dict(countries):
        raise ValidationError(COUNTRY_INVALID, code="invalid_country")


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _timezones():
        raise ValidationError(TIMEZONE_INVALID, code="invalid_timezone")
