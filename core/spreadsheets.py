"""CSV that a spreadsheet opens as data, never as formulas (OWASP "CSV Injection")."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

# A cell starting with one of these is read as a formula (or, tab and CR, as padding in
# front of one) by Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The cell with a leading ``'`` if a spreadsheet would read it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Line:
    """A file-like object whose ``write`` hands the line back to the caller."""

    def write(self, value: str) -> str:
        return value


class RowWriter:
    """``csv.writer`` that returns each written line (for streaming responses) and
    neutralises every cell."""

    def __init__(self) -> None:
        self._writer = csv.writer(_Line())

    def row(self, cells: Iterable[Any]) -> str:
        result: str = self._writer.writerow([neutralise(cell) for cell in cells])
        return result
