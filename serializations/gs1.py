"""GS1 element strings: reading what a scanner sends, writing what a label shows.

Parsing is biip's (AI patterns, dates, FNC1/GS separators, human-readable form with
parentheses); this module adds what a pack verification needs on top: the four AIs
of a pharmaceutical pack (01 GTIN, 21 serial, 10 lot, 17 expiry), each at most once,
and a valid GTIN check digit.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import quote

from biip import ParseError
from biip.gs1_messages import GS1Message
from django.conf import settings
from django.core.exceptions import ValidationError

from batches.validators import validate_gtin
from serializations.validators import SSCC_LENGTH, is_valid_sscc

GS = "\x1d"
# Symbology identifiers a scanner may put in front of the data (GS1-128, DataMatrix,
# QR, GS1 DataBar).
SYMBOLOGY_IDS = ("]C1", "]d2", "]Q3", "]e0")
PACK_AIS = ("01", "21", "10", "17")
# "(10)" followed by the next "(" or the end: an AI written without its value.
_EMPTY_HRI_AI = re.compile(r"\((\d{2,4})\)(?=\(|$)")
# The human-readable form: "(AI)value" groups. A value holding "(" ("(21)A(B") cannot be
# told from the start of the next AI, so it is refused, never cut short.
_HRI = re.compile(r"(?:\(\d{2,4}\)[^(]*)+")


class CodeError(ValueError):
    """The scanned code is not a usable GS1 element string; the message says why."""


@dataclass(frozen=True)
class PackCode:
    gtin: str
    serial: str
    lot: str | None
    expiry: dt.date | None
    expiry_text: str | None  # YYMMDD as scanned (DD may be 00: end of month)


def _strip(code: str) -> str:
    text = code.strip()
    for prefix in SYMBOLOGY_IDS:
        if text.startswith(prefix):
            return text[len(prefix) :].lstrip(GS)
    return text.lstrip(GS)


def parse_sscc(code: str) -> str | None:
    """The SSCC of a scanned container label, ``(00)`` and 18 digits (or raw ``00…``);
    None when the code is not one. Raises ``CodeError`` for a wrong check digit."""
    text = _strip(code).rstrip(GS)
    if text.startswith("(00)"):
        value = text[4:]
    elif text.startswith("00") and len(text) == 20:
        value = text[2:]
    else:
        return None
    if not (len(value) == SSCC_LENGTH and value.isascii() and value.isdigit()):
        raise CodeError("The (00) SSCC must be 18 digits.")
    if not is_valid_sscc(value):
        raise CodeError("The (00) SSCC has an invalid check digit.")
    return value


def parse(code: str) -> PackCode:
    """Read a scanned pack code: ``(01)…(21)…`` or raw with FNC1/GS separators.

    AIs 01 and 21 are required, 10 and 17 optional, in any order; other AIs are
    ignored. Raises ``CodeError`` naming what is wrong.
    """
    text = _strip(code)
    if not text:
        raise CodeError("The code is empty.")
    if any(ord(c) < 32 and c != GS for c in text) or not text.isascii():
        raise CodeError("The code contains characters outside the GS1 character set.")
    if " " in text:
        raise CodeError("The code contains a space; GS1 element strings have none.")
    empty = _EMPTY_HRI_AI.search(text) if text.startswith("(") else None
    if empty:
        raise CodeError(f"AI ({empty.group(1)}) has no value.")
    try:
        message = GS1Message.parse_hri(text) if text.startswith("(") else GS1Message.parse(text)
    except ParseError as exc:
        raise CodeError(f"Not a valid GS1 element string: {exc}") from exc
    if text.startswith("(") and not _HRI.fullmatch(text):
        raise CodeError(
            "A value holds a parenthesis, which the human-readable form cannot carry; "
            "send the code as scanned (FNC1/GS separators)."
        )
    found: dict[str, str] = {}
    dates: dict[str, dt.date | None] = {}
    for element in message.element_strings:
        ai = element.ai.ai
        if ai not in PACK_AIS:
            continue
        if ai in found:
            raise CodeError(f"AI ({ai}) appears more than once.")
        found[ai] = element.value
        dates[ai] = element.date
    missing = [ai for ai in ("01", "21") if not found.get(ai)]
    if missing:
        names = {"01": "(01) GTIN", "21": "(21) serial number"}
        raise CodeError("The code has no " + " and no ".join(names[ai] for ai in missing) + ".")
    try:
        validate_gtin(found["01"])
    except ValidationError as exc:
        raise CodeError("The (01) GTIN has an invalid check digit.") from exc
    return PackCode(
        gtin=found["01"],
        serial=found["21"],
        lot=found.get("10"),
        expiry=dates.get("17"),
        expiry_text=found.get("17"),
    )


def yymmdd(day: dt.date) -> str:
    return day.strftime("%y%m%d")


def element_string(gtin: str, serial: str, lot: str, expiry: dt.date) -> str:
    """Human-readable GS1 element string, in the order pharma labels print it."""
    return f"(01){gtin}(21){serial}(10){lot}(17){yymmdd(expiry)}"


def digital_link(gtin: str, serial: str, lot: str, expiry: dt.date) -> str:
    """GS1 Digital Link URI; AI values percent-encoded as the standard requires."""
    base = settings.GS1_DIGITAL_LINK_BASE.rstrip("/")
    return (
        f"{base}/01/{gtin}/21/{quote(serial, safe='')}?10={quote(lot, safe='')}&17={yymmdd(expiry)}"
    )


def batch_digital_link(gtin: str, lot: str, expiry: dt.date) -> str:
    """GS1 Digital Link URI of a batch (the lot qualifies the GTIN), as a certificate's
    QR code carries it."""
    base = settings.GS1_DIGITAL_LINK_BASE.rstrip("/")
    return f"{base}/01/{gtin}/10/{quote(lot, safe='')}?17={yymmdd(expiry)}"
