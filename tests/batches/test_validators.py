"""batches/validators.py: the GTIN-14 and the lot (AI 10) number, value by value."""

from __future__ import annotations

import hypothesis
import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from batches.validators import (
    BATCH_NUMBER_FORMULA,
    GTIN_INVALID,
    validate_batch_number,
    validate_gtin,
    validate_new_batch_number,
)
from tests.check_digit import gs1_check_digit

# GS1 General Specifications, the GTIN used throughout its examples (check digit 2),
# and the SSCC and GLN examples, whose check digits are 7 and 9.
SPEC_GTIN = "09506000134352"
SPEC_SSCC = "106141411234567897"
SPEC_GLN = "4012345000009"
AI82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
digits = st.text(alphabet="0123456789", min_size=13, max_size=13)

# Time is measured by the benchmarks; a deadline on a shared machine only adds flakes.
unhurried = hypothesis.settings(deadline=None)


def refusal(validator, value):
    with pytest.raises(ValidationError) as caught:
        validator(value)
    return caught.value


@pytest.mark.parametrize("number", [SPEC_GTIN, SPEC_SSCC, SPEC_GLN])
def test_the_check_digit_of_the_gs1_examples(number):
    assert gs1_check_digit(number[:-1]) == number[-1]


def test_the_gs1_example_gtin_is_valid():
    validate_gtin(SPEC_GTIN)


@pytest.mark.parametrize("last", sorted(set("0123456789") - {SPEC_GTIN[-1]}))
def test_every_other_check_digit_is_refused(last):
    error = refusal(validate_gtin, SPEC_GTIN[:-1] + last)

    assert error.code == "invalid_gtin"
    assert error.messages == [GTIN_INVALID]


@pytest.mark.parametrize(
    "value",
    [
        SPEC_GTIN[1:],  # the GTIN-13 form: a GTIN-14 is asked for
        "0" + SPEC_GTIN,
        "",
        f" {SPEC_GTIN[1:]}",  # a library would strip the space; 14 characters are not enough
        f"{SPEC_GTIN[:7]}-{SPEC_GTIN[7:]}",
        f"{SPEC_GTIN}\n",
        "٠٩٥٠٦٠٠٠١٣٤٣٥٢",  # Arabic-Indic digits: str.isdigit() says yes
        int(SPEC_GTIN),
        None,
    ],
)
def test_what_is_not_fourteen_ascii_digits_is_refused(value):
    assert refusal(validate_gtin, value).code == "invalid_gtin"


def test_full_width_digits_are_refused():
    # str.isdigit() and the check-digit library both take them; the database must not.
    assert refusal(validate_gtin, "０９５０６０００１３４３５２").code == "invalid_gtin"


@unhurried
@given(digits)
def test_any_thirteen_digits_with_their_check_digit_are_a_gtin(body):
    validate_gtin(body + gs1_check_digit(body))


@unhurried
@given(digits, st.integers(min_value=1, max_value=9))
def test_any_thirteen_digits_with_another_check_digit_are_refused(body, shift):
    wrong = str((int(gs1_check_digit(body)) + shift) % 10)

    assert refusal(validate_gtin, body + wrong).code == "invalid_gtin"


@unhurried
@given(digits, st.integers(min_value=0, max_value=12), st.integers(min_value=1, max_value=9))
def test_one_mistyped_digit_is_caught(body, position, shift):
    gtin = body + gs1_check_digit(body)
    typo = gtin[:position] + str((int(gtin[position]) + shift) % 10) + gtin[position + 1 :]

    assert refusal(validate_gtin, typo).code == "invalid_gtin"


# --- the lot number (AI 10) -------------------------------------------------------------


@unhurried
@given(st.text(alphabet=AI82, min_size=1, max_size=20))
def test_one_to_twenty_characters_of_the_ai82_set_are_a_lot(value):
    validate_batch_number(value)


@pytest.mark.parametrize(
    "value",
    ["", "A" * 21, "LOT 1", "LOT1\n", "LOT#1", "LOT~1", "LÖT1", "LOT\x1d1", "[LOT]"],
)
def test_a_lot_outside_the_ai82_set_or_past_twenty_is_refused(value):
    assert refusal(validate_batch_number, value).code == "invalid_batch_number"


@unhurried
@given(st.characters(codec="utf-8").filter(lambda c: c not in AI82))
def test_every_character_outside_ai82_is_refused(char):
    assert refusal(validate_batch_number, f"LOT{char}1").code == "invalid_batch_number"


@pytest.mark.parametrize("value", ["=SUM(A1)", "+1", "-1"])
def test_a_new_lot_may_not_start_like_a_formula(value):
    error = refusal(validate_new_batch_number, value)

    assert error.code == "batch_number_formula"
    assert error.messages == [BATCH_NUMBER_FORMULA]


@pytest.mark.parametrize("value", ["A=1", "1+1", "LOT-1", "/1"])
def test_a_formula_sign_after_the_first_character_is_fine(value):
    validate_new_batch_number(value)
