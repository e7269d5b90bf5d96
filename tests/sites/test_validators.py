"""sites/validators.py: the GLN, the country and the time zone of a site, value by value."""

from __future__ import annotations

import hypothesis
import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from sites.validators import (
    COUNTRY_INVALID,
    GLN_INVALID,
    TIMEZONE_INVALID,
    validate_country,
    validate_gln,
    validate_timezone,
)
from tests.check_digit import gs1_check_digit

# The GLN of the GS1 General Specifications examples; its check digit is 9.
SPEC_GLN = "4012345000009"
digits = st.text(alphabet="0123456789", min_size=12, max_size=12)

# Time is measured by the benchmarks; a deadline on a shared machine only adds flakes.
unhurried = hypothesis.settings(deadline=None)


def refusal(validator, value):
    with pytest.raises(ValidationError) as caught:
        validator(value)
    return caught.value


def test_the_gs1_example_gln_is_valid():
    assert gs1_check_digit(SPEC_GLN[:-1]) == "9"
    validate_gln(SPEC_GLN)


@pytest.mark.parametrize("last", sorted(set("0123456789") - {SPEC_GLN[-1]}))
def test_every_other_check_digit_is_refused(last):
    error = refusal(validate_gln, SPEC_GLN[:-1] + last)

    assert error.code == "invalid_gln"
    assert error.messages == [GLN_INVALID]


@pytest.mark.parametrize(
    "value",
    [
        SPEC_GLN[1:],
        "0" + SPEC_GLN,  # 14 digits: a GTIN-14 is not a GLN
        "",
        f"{SPEC_GLN}\n",
        f" {SPEC_GLN[1:]}",
        "٤٠١٢٣٤٥٠٠٠٠٠٩",  # Arabic-Indic digits
        "４０１２３４５００００００９",  # full-width digits: str.isdigit() says yes
        int(SPEC_GLN),
        None,
    ],
)
def test_what_is_not_thirteen_ascii_digits_is_refused(value):
    assert refusal(validate_gln, value).code == "invalid_gln"


@unhurried
@given(digits)
def test_any_twelve_digits_with_their_check_digit_are_a_gln(body):
    validate_gln(body + gs1_check_digit(body))


@unhurried
@given(digits, st.integers(min_value=1, max_value=9))
def test_any_twelve_digits_with_another_check_digit_are_refused(body, shift):
    wrong = str((int(gs1_check_digit(body)) + shift) % 10)

    assert refusal(validate_gln, body + wrong).code == "invalid_gln"


@pytest.mark.parametrize("value", ["DE", "FR", "CH", "US"])
def test_iso_country_codes(value):
    validate_country(value)


@pytest.mark.parametrize("value", ["de", "DEU", "XX", "", "Germany", " DE"])
def test_other_country_values_are_refused(value):
    error = refusal(validate_country, value)

    assert error.code == "invalid_country"
    assert error.messages == [COUNTRY_INVALID]


@pytest.mark.parametrize("value", ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"])
def test_iana_time_zones(value):
    validate_timezone(value)


@pytest.mark.parametrize("value", ["europe/berlin", "CEST", "Europe/Atlantis", "", "+02:00"])
def test_other_time_zone_values_are_refused(value):
    error = refusal(validate_timezone, value)

    assert error.code == "invalid_timezone"
    assert error.messages == [TIMEZONE_INVALID]
