"""core.spreadsheets: CSV cells a spreadsheet would run as a formula get a leading quote."""

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.spreadsheets import FORMULA_STARTS, RowWriter, neutralise


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_a_formula_start_gets_a_leading_quote(start):
    assert neutralise(f"{start}1+2") == f"'{start}1+2"


@pytest.mark.parametrize("value", ["", "LOT-1", "A=1", "'=1", 12, None, "(01)123"])
def test_other_values_are_unchanged(value):
    assert neutralise(value) == value


@given(st.lists(st.text(max_size=12), min_size=1, max_size=6))
def test_no_written_cell_reads_back_as_a_formula(cells):
    line = RowWriter().row(cells)

    [read] = list(csv.reader(io.StringIO(line, newline="")))

    assert len(read) == len(cells)
    assert not any(cell.startswith(FORMULA_STARTS) for cell in read)
    assert [c.removeprefix("'") if c != o else c for c, o in zip(read, cells, strict=True)] == cells
