"""serializations/gs1.py: reading scanned pack codes, writing element strings and
GS1 Digital Link URIs."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, unquote, urlsplit

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from serializations import gs1
from serializations.gs1 import GS, CodeError, PackCode
from tests.check_digit import gs1_check_digit

# The GTIN and SSCC of the GS1 General Specifications examples.
GTIN = "09506000134352"
SSCC = "106141411234567897"
AI82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
EXPIRY = dt.date(2027, 12, 31)

gtins = st.text(alphabet="0123456789", min_size=13, max_size=13).map(
    lambda body: body + gs1_check_digit(body)
)
ai82_values = st.text(alphabet=AI82, min_size=1, max_size=20)
# In the human-readable form "(" would open the next AI: those values are read back
# only from the raw form.
hri_values = st.text(alphabet=AI82.replace("(", ""), min_size=1, max_size=20)
# YYMMDD carries no century: GS1 reads it within 49 years back and 50 ahead of today.
expiries = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2070, 12, 31))

# Time is measured by the benchmarks; a deadline on a shared machine only adds flakes.
unhurried = hypothesis.settings(deadline=None)


def raw(gtin, serial, lot, expiry):
    """The data a scanner sends: variable-length AIs ended by GS, the last by nothing."""
    return f"01{gtin}21{serial}{GS}10{lot}{GS}17{gs1.yymmdd(expiry)}"


def refused(code):
    with pytest.raises(CodeError) as caught:
        gs1.parse(code)
    return str(caught.value)


# --- writing ------------------------------------------------------------------------


def test_element_string_in_label_order():
    assert gs1.element_string(GTIN, "ABC123", "LOT-7", EXPIRY) == (
        "(01)09506000134352(21)ABC123(10)LOT-7(17)271231"
    )


def test_yymmdd():
    assert gs1.yymmdd(dt.date(2030, 2, 5)) == "300205"


def test_digital_link(settings):
    settings.GS1_DIGITAL_LINK_BASE = "https://id.gs1.org/"

    link = gs1.digital_link(GTIN, "ABC123", "LOT-7", EXPIRY)

    assert link == "https://id.gs1.org/01/09506000134352/21/ABC123?10=LOT-7&17=271231"


def test_digital_link_percent_encodes_the_values(settings):
    settings.GS1_DIGITAL_LINK_BASE = "https://id.example.com"

    link = gs1.digital_link(GTIN, "A/B%1", "L&1=?", EXPIRY)

    assert link == "https://id.example.com/01/09506000134352/21/A%2FB%251?10=L%261%3D%3F&17=271231"


@unhurried
@given(gtin=gtins, serial=ai82_values, lot=ai82_values, expiry=expiries)
def test_digital_link_reads_back_to_its_values(gtin, serial, lot, expiry):
    parts = urlsplit(gs1.digital_link(gtin, serial, lot, expiry))

    segments = parts.path.split("/")
    assert segments[1:4:2] == ["01", "21"]
    assert (segments[2], unquote(segments[4])) == (gtin, serial)
    assert parse_qs(parts.query, keep_blank_values=True) == {
        "10": [lot],
        "17": [gs1.yymmdd(expiry)],
    }


# --- reading ------------------------------------------------------------------------


def test_parse_human_readable():
    assert gs1.parse("(01)09506000134352(21)ABC123(10)LOT-7(17)271231") == PackCode(
        gtin=GTIN, serial="ABC123", lot="LOT-7", expiry=EXPIRY, expiry_text="271231"
    )


def test_parse_raw_with_group_separators_in_any_order():
    code = f"]d210LOT-7{GS}17271231010950600013435221ABC123"

    assert gs1.parse(code) == PackCode(
        gtin=GTIN, serial="ABC123", lot="LOT-7", expiry=EXPIRY, expiry_text="271231"
    )


@pytest.mark.parametrize("prefix", [*gs1.SYMBOLOGY_IDS, GS, "  "])
def test_symbology_identifier_leading_separator_and_blanks_are_dropped(prefix):
    assert gs1.parse(f"{prefix}0109506000134352" + "21ABC").serial == "ABC"


def test_lot_and_expiry_are_optional():
    assert gs1.parse("(01)09506000134352(21)ABC") == PackCode(
        gtin=GTIN, serial="ABC", lot=None, expiry=None, expiry_text=None
    )


def test_other_ais_are_ignored():
    code = f"(00){SSCC}(01){GTIN}(21)ABC(30)12"

    assert gs1.parse(code) == PackCode(
        gtin=GTIN, serial="ABC", lot=None, expiry=None, expiry_text=None
    )


@pytest.mark.parametrize(
    ("scanned", "day"),
    [
        ("270200", dt.date(2027, 2, 28)),  # day 00: the last day of the month
        ("280200", dt.date(2028, 2, 29)),
        ("271100", dt.date(2027, 11, 30)),
    ],
)
def test_expiry_day_zero_is_the_end_of_the_month(scanned, day):
    pack = gs1.parse(f"(01){GTIN}(21)ABC(17){scanned}")

    assert (pack.expiry, pack.expiry_text) == (day, scanned)


@unhurried
@given(gtin=gtins, serial=hri_values, lot=hri_values, expiry=expiries)
def test_parse_reads_back_an_element_string(gtin, serial, lot, expiry):
    assert gs1.parse(gs1.element_string(gtin, serial, lot, expiry)) == PackCode(
        gtin=gtin, serial=serial, lot=lot, expiry=expiry, expiry_text=gs1.yymmdd(expiry)
    )


@unhurried
@given(gtin=gtins, serial=ai82_values, lot=ai82_values, expiry=expiries)
def test_parse_reads_back_the_raw_form(gtin, serial, lot, expiry):
    assert gs1.parse(raw(gtin, serial, lot, expiry)) == PackCode(
        gtin=gtin, serial=serial, lot=lot, expiry=expiry, expiry_text=gs1.yymmdd(expiry)
    )


# --- hostile input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "The code is empty."),
        (f"  {GS}", "The code is empty."),
        ("]d2", "The code is empty."),
        (f"(01){GTIN}(21)AB C", "The code contains a space; GS1 element strings have none."),
        (f"(01){GTIN}(21)ABÄ", "The code contains characters outside the GS1 character set."),
        (f"(01){GTIN}(21)AB\x00", "The code contains characters outside the GS1 character set."),
        (f"(01){GTIN}(21)AB\n1", "The code contains characters outside the GS1 character set."),
        (f"(01){GTIN}(10)(21)ABC", "AI (10) has no value."),
        ("(01)", "AI (01) has no value."),
        (f"(01){GTIN}(21)A(21)B", "AI (21) appears more than once."),
        (f"01{GTIN}21A{GS}01{GTIN}21A", "AI (01) appears more than once."),
        (f"(01){GTIN}", "The code has no (21) serial number."),
        ("(21)ABC", "The code has no (01) GTIN."),
        ("(30)12", "The code has no (01) GTIN and no (21) serial number."),
        (f"(01){GTIN[:-1]}3(21)ABC", "The (01) GTIN has an invalid check digit."),
    ],
)
def test_each_refusal_says_why(code, message):
    assert refused(code) == message


@pytest.mark.parametrize(
    "code",
    [
        f"(01){GTIN[:-1]}(21)ABC",  # 13 digits in a fixed-length AI
        f"(01){GTIN}(21){'A' * 21}",  # AI 21 holds at most 20
        f"(01){GTIN}(21)ABC(17)271301",  # month 13
        f"(01){GTIN}(21)ABC(17)2712",
        "((((",
        "01" + "9" * 200,
        "NOTACODE",
    ],
)
def test_malformed_element_strings_are_refused(code):
    assert refused(code).startswith("Not a valid GS1 element string: ")


@unhurried
@given(st.text(max_size=120))
def test_any_text_is_a_pack_code_or_a_code_error(text):
    try:
        pack = gs1.parse(text)
    except CodeError:
        return
    assert isinstance(pack, PackCode)


@unhurried
@given(st.text(alphabet="0123456789()]dCQe" + GS + "ABZaz!%-/_", max_size=80))
def test_near_miss_codes_are_a_pack_code_or_a_code_error(text):
    try:
        pack = gs1.parse(text)
    except CodeError:
        return
    assert len(pack.gtin) == 14 and 1 <= len(pack.serial) <= 20


@unhurried
@given(gtin=gtins, serial=ai82_values)
def test_a_cut_off_code_is_a_pack_code_or_a_code_error(gtin, serial):
    code = raw(gtin, serial, "LOT1", EXPIRY)
    for end in range(len(code)):
        try:
            gs1.parse(code[:end])
        except CodeError:
            pass


@pytest.mark.parametrize("serial", ["A(B", "A(", "A(1", "AB(99"])
def test_an_opening_parenthesis_in_a_human_readable_value_is_refused_not_cut(serial):
    # "(21)A(B(10)LOT1" once came back as serial "A": a verification of another pack.
    with pytest.raises(CodeError, match="parenthesis"):
        gs1.parse(f"(01){GTIN}(21){serial}(10)LOT1")


def test_a_closing_parenthesis_in_a_human_readable_value_is_kept():
    assert gs1.parse(f"(01){GTIN}(21)A)B(10)LOT1").serial == "A)B"


def test_a_parenthesis_in_a_raw_value_is_kept():
    pack = gs1.parse(f"01{GTIN}21A(B{gs1.GS}10LOT1")

    assert pack.serial == "A(B"
