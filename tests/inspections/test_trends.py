"""The statistics of a trend (``inspections.trends``), against hand-computed values, and
each Nelson rule with a series that breaks it and one that just does not."""

from __future__ import annotations

import math

import pytest

from inspections import trends
from inspections.trends import Point, analyse


def points(values, minimum=None, maximum=None):
    return [Point(value, minimum, maximum) for value in values]


def test_mean_deviation_and_cpk_as_computed_by_hand():
    # mean 100; squared deviations 4, 0, 4, 1, 1 -> variance 10 / 4 = 2.5
    trend = analyse(points([98, 100, 102, 99, 101], 95, 105))
    assert trend.mean == pytest.approx(100)
    assert trend.standard_deviation == pytest.approx(math.sqrt(2.5))
    # min(105 - 100, 100 - 95) / (3 * 1.5811) = 1.0541
    assert trend.cpk == pytest.approx(5 / (3 * math.sqrt(2.5)))
    assert trend.cpk == pytest.approx(1.0541, abs=1e-4)
    assert trend.centre_line == pytest.approx(100)  # the baseline is the whole short series
    assert trend.upper_control_limit == pytest.approx(100 + 3 * math.sqrt(2.5))
    assert trend.lower_control_limit == pytest.approx(100 - 3 * math.sqrt(2.5))


def test_control_limits_come_from_the_baseline_window_only():
    # baseline 10, 12 -> centre 11, sigma sqrt(2); the later 30 moves the mean, not them
    trend = analyse(points([10, 12, 30]), baseline=2)
    assert trend.baseline == 2
    assert trend.centre_line == pytest.approx(11)
    assert trend.upper_control_limit == pytest.approx(11 + 3 * math.sqrt(2))
    assert trend.mean == pytest.approx(52 / 3)
    assert trend.rules == {2: [1]}  # 30 is beyond 11 + 4.24


def test_cpk_is_one_sided_with_one_limit_and_absent_without_spread_or_limits():
    assert trends.cpk(100, 2, None, 106) == pytest.approx(1.0)
    assert trends.cpk(100, 2, 97, None) == pytest.approx(0.5)
    assert trends.cpk(100, 0, 95, 105) is None
    assert trends.cpk(100, 2, None, None) is None


def test_the_specification_limits_in_force_are_the_latest_points():
    series = [Point(100, 90, 110), Point(101, 95, 105)]
    trend = analyse(series)
    assert (trend.lower_specification_limit, trend.upper_specification_limit) == (95, 105)


def test_a_point_outside_its_own_limits_is_out_of_specification():
    series = [Point(96, 95, 105), Point(96, 97, 105), Point(106, None, 105), Point(1)]
    assert analyse(series).out_of_specification == [1, 2]


def test_too_few_points_give_no_limits_and_no_rules():
    assert analyse([]).mean is None
    one = analyse(points([5]))
    assert one.mean == 5 and one.standard_deviation is None and one.centre_line is None
    assert one.rules == {} and one.cpk is None


def test_rule_1_a_point_beyond_three_sigma():
    assert trends.beyond_three_sigma([0, 3.01, -3.01, 2.99, -2.99, 3], 0, 1) == [1, 2]
    assert trends.beyond_three_sigma([0, 2.99, -2.99], 0, 1) == []


def test_rule_2_nine_in_a_row_on_one_side():
    assert trends.same_side([1] * 9, 0) == [8]
    assert trends.same_side([-1] * 10, 0) == [8, 9]
    assert trends.same_side([1] * 8, 0) == []
    assert trends.same_side([1] * 4 + [0] + [1] * 5, 0) == []  # on the line ends it
    assert trends.same_side([1] * 4 + [-1] + [1] * 5, 0) == []


def test_rule_3_six_in_a_row_rising_or_falling():
    assert trends.monotonic([1, 2, 3, 4, 5, 6]) == [5]
    assert trends.monotonic([7, 6, 5, 4, 3, 2, 1]) == [5, 6]
    assert trends.monotonic([1, 2, 3, 4, 5]) == []
    assert trends.monotonic([1, 2, 3, 3, 4, 5, 6]) == []  # a repeat ends it


def test_rule_4_fourteen_in_a_row_alternating():
    assert trends.alternating([1, 2] * 7) == [13]
    assert trends.alternating([2, 1] * 8) == [13, 14, 15]
    assert trends.alternating([1, 2] * 6 + [1]) == []  # thirteen points
    assert trends.alternating([1, 2] * 3 + [2] + [1, 2] * 4) == []  # a flat step ends it


def test_analyse_names_every_rule_each_point_breaks():
    baseline = [10, 11, 9] * 3 + [10]  # centre 10, sigma sqrt(6 / 9)
    rising = [10.1, 10.2, 10.3, 10.4, 10.5, 10.6, 10.7, 10.8, 13]
    trend = analyse(points(baseline + rising), baseline=10)
    assert trend.centre_line == pytest.approx(10)
    assert trend.baseline_sigma == pytest.approx(math.sqrt(6 / 9))
    # 9, 10, 10.1 ... 10.4 (indexes 8 to 13) is six points rising; the nine above the
    # line end at 18, where 13 is also beyond 10 + 2.449.
    assert trend.rules[13] == [3]
    assert trend.rules[17] == [3]
    assert trend.rules[18] == [1, 2, 3]
    assert trend.out_of_trend == [13, 14, 15, 16, 17, 18]


# --- the points, on every database: the first numeric result of each parameter --------

AWKWARD = [
    {"parameter": "assay", "value": "n/a"},  # text: not a point
    {"parameter": "assay", "value": True},  # a boolean is not a number either
    {"parameter": "assay", "value": 99.5, "unit": "%", "min": 95, "max": "105"},
    {"parameter": "assay", "value": 97.0},  # a second numeric one: the first is kept
    {"parameter": 'it\'s "$name" @ $[*]', "value": 1e-7},  # jsonpath's own characters
    {"parameter": "Ünïcødé ✓", "value": -0.0},
    {"value": 3},  # no parameter at all
]


@pytest.mark.django_db
@pytest.mark.parametrize("named", [True, False], ids=["named", "every-parameter"])
def test_trend_points_take_each_parameters_first_numeric_result(named):
    """Named parameters are picked by the database on PostgreSQL; every parameter (the
    quality review) by the loop that every database runs: both keep the same."""
    from inspections import selectors
    from tests.batches.factories import BatchFactory
    from tests.inspections.factories import InspectionFactory

    batch = BatchFactory()
    InspectionFactory(batch=batch, passed=True, results=AWKWARD)
    names = ["assay", AWKWARD[4]["parameter"], "Ünïcødé ✓", "unmeasured"]

    points = selectors.trend_points(
        product_id=batch.product_id, parameters=names if named else None, site_ids=None
    )

    assert sorted(points) == sorted(names[:3])
    [assay] = points["assay"]
    assert (assay["value"], assay["min"], assay["max"], assay["unit"]) == (99.5, 95.0, None, "%")
    assert points[names[1]][0]["value"] == 1e-7
    assert points["Ünïcødé ✓"][0]["value"] == 0.0
