"""inspections/services.py ``evaluate``: each result judged against its specification
limits, before any inspection is stored."""

from __future__ import annotations

import math

import hypothesis
from hypothesis import given
from hypothesis import strategies as st

from inspections.services import evaluate

# Time is measured by the benchmarks; a deadline on a shared machine only adds flakes.
unhurried = hypothesis.settings(deadline=None)

finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)


def in_spec(value, low=None, high=None):
    [result] = evaluate([{"parameter": "p", "value": value, "min": low, "max": high}])
    return result["in_spec"]


def test_a_result_comes_back_with_its_limits_and_verdict():
    results = [
        {"parameter": "assay", "value": 99.1, "unit": "%", "min": 95, "max": 105},
        {"parameter": "water", "value": 0.6, "unit": "%", "min": None, "max": 0.5},
    ]

    assert evaluate(results) == [
        {**results[0], "in_spec": True},
        {**results[1], "in_spec": False},
    ]


def test_both_limits_are_inside_the_specification():
    assert in_spec(95.0, 95.0, 105.0) is True
    assert in_spec(105.0, 95.0, 105.0) is True
    assert in_spec(94.99, 95.0, 105.0) is False
    assert in_spec(105.01, 95.0, 105.0) is False


def test_a_missing_limit_is_open_on_that_side():
    assert in_spec(-1e9, None, 0.5) is True
    assert in_spec(1e9, 95.0, None) is True
    assert in_spec(0.0) is True
    assert in_spec(0.0, 0.0, 0.0) is True


def test_a_missing_unit_or_limit_is_stored_as_empty():
    [result] = evaluate([{"parameter": "appearance", "value": 1}])

    assert result == {
        "parameter": "appearance",
        "value": 1,
        "unit": "",
        "min": None,
        "max": None,
        "in_spec": True,
    }


def test_a_verdict_sent_along_is_recomputed_and_other_keys_dropped():
    [result] = evaluate(
        [{"parameter": "assay", "value": 90, "min": 95, "max": 105, "in_spec": True, "x": 1}]
    )

    assert result["in_spec"] is False
    assert set(result) == {"parameter", "value", "unit", "min", "max", "in_spec"}


def test_the_order_of_the_results_is_kept():
    names = [f"p{i}" for i in range(20)]

    results = evaluate([{"parameter": name, "value": 1} for name in names])

    assert [r["parameter"] for r in results] == names


def test_no_results_no_verdicts():
    assert evaluate([]) == []


@unhurried
@given(finite, finite)
def test_the_limits_themselves_pass_and_the_next_float_outside_fails(a, b):
    low, high = min(a, b), max(a, b)

    assert in_spec(low, low, high) and in_spec(high, low, high)
    assert not in_spec(math.nextafter(low, -math.inf), low, high)
    assert not in_spec(math.nextafter(high, math.inf), low, high)


@unhurried
@given(finite, finite, finite)
def test_in_spec_is_between_the_limits(value, a, b):
    low, high = min(a, b), max(a, b)

    assert in_spec(value, low, high) is (low <= value <= high)
    assert in_spec(value, low, None) is (value >= low)
    assert in_spec(value, None, high) is (value <= high)
