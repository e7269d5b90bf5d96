"""A parameter's results across batches: the statistics of a control chart.

The series is one point per batch (its current inspection's result for the parameter),
in manufacturing order. Its centre line and control limits come from a baseline window
(the first ``baseline`` points: mean ± 3σ), as a Shewhart individuals chart sets them
from a period the process was known to be in control; the mean, standard deviation and
Cpk describe the whole series against the specification limits in force (the latest
point's). σ is the sample standard deviation (n − 1).

Out-of-trend points are flagged by the first four Nelson rules, each against the
baseline's centre line and σ:

1. a point more than 3σ from the centre line;
2. nine points in a row on the same side of the centre line;
3. six points in a row steadily increasing, or steadily decreasing;
4. fourteen points in a row alternating up and down.

A rule flags the point that completes its run and every later point that extends it.
An out-of-specification point is one outside its own batch's limits, whatever the trend.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

DEFAULT_BASELINE = 20
RUN_SAME_SIDE = 9  # rule 2
RUN_MONOTONIC = 6  # rule 3
RUN_ALTERNATING = 14  # rule 4


@dataclass(frozen=True)
class Point:
    value: float
    minimum: float | None = None
    maximum: float | None = None

    @property
    def out_of_specification(self) -> bool:
        return (self.minimum is not None and self.value < self.minimum) or (
            self.maximum is not None and self.value > self.maximum
        )


@dataclass
class Trend:
    points: Sequence[Point]
    baseline: int
    mean: float | None = None
    standard_deviation: float | None = None
    centre_line: float | None = None
    baseline_sigma: float | None = None
    upper_control_limit: float | None = None
    lower_control_limit: float | None = None
    lower_specification_limit: float | None = None
    upper_specification_limit: float | None = None
    cpk: float | None = None
    # index of a point -> the Nelson rules it breaks (1 to 4)
    rules: dict[int, list[int]] = field(default_factory=dict)

    @property
    def out_of_specification(self) -> list[int]:
        return [n for n, point in enumerate(self.points) if point.out_of_specification]

    @property
    def out_of_trend(self) -> list[int]:
        return sorted(self.rules)


def analyse(points: Sequence[Point], baseline: int = DEFAULT_BASELINE) -> Trend:
    values = [point.value for point in points]
    trend = Trend(points=points, baseline=min(baseline, len(points)))
    if not values:
        return trend
    trend.mean = statistics.fmean(values)
    if len(values) > 1:
        trend.standard_deviation = statistics.stdev(values)
    if points:
        trend.lower_specification_limit = points[-1].minimum
        trend.upper_specification_limit = points[-1].maximum
    trend.cpk = cpk(
        trend.mean,
        trend.standard_deviation,
        trend.lower_specification_limit,
        trend.upper_specification_limit,
    )
    window = values[: trend.baseline]
    if len(window) < 2:
        return trend  # no σ from one point: no control limits, no rules
    centre, sigma = statistics.fmean(window), statistics.stdev(window)
    trend.centre_line, trend.baseline_sigma = centre, sigma
    trend.upper_control_limit = centre + 3 * sigma
    trend.lower_control_limit = centre - 3 * sigma
    for rule, flagged in (
        (1, beyond_three_sigma(values, centre, sigma)),
        (2, same_side(values, centre)),
        (3, monotonic(values)),
        (4, alternating(values)),
    ):
        for n in flagged:
            trend.rules.setdefault(n, []).append(rule)
    return trend


def cpk(
    mean: float | None,
    sigma: float | None,
    lower: float | None,
    upper: float | None,
) -> float | None:
    """min(USL − mean, mean − LSL) / 3σ; one-sided with one limit; None without σ."""
    if mean is None or not sigma or (lower is None and upper is None):
        return None
    sides = [(upper - mean) if upper is not None else math.inf]
    sides.append((mean - lower) if lower is not None else math.inf)
    return min(sides) / (3 * sigma)


def beyond_three_sigma(values: Sequence[float], centre: float, sigma: float) -> list[int]:
    return [n for n, value in enumerate(values) if abs(value - centre) > 3 * sigma]


def _runs(signs: Sequence[int], length: int, offset: int) -> list[int]:
    """Indexes (shifted by ``offset``) ending a run of at least ``length`` equal,
    non-zero signs."""
    flagged, run, previous = [], 0, 0
    for n, sign in enumerate(signs):
        run = run + 1 if sign != 0 and sign == previous else (1 if sign != 0 else 0)
        previous = sign
        if run >= length:
            flagged.append(n + offset)
    return flagged


def same_side(values: Sequence[float], centre: float) -> list[int]:
    """Rule 2: nine points in a row above, or below, the centre line (a point on the
    line ends the run)."""
    signs = [(value > centre) - (value < centre) for value in values]
    return _runs(signs, RUN_SAME_SIDE, 0)


def _steps(values: Sequence[float]) -> list[int]:
    return [(b > a) - (b < a) for a, b in zip(values, values[1:], strict=False)]


def monotonic(values: Sequence[float]) -> list[int]:
    """Rule 3: six points in a row, each higher (or each lower) than the one before:
    five steps the same way (a repeated value ends the run)."""
    return _runs(_steps(values), RUN_MONOTONIC - 1, 1)


def alternating(values: Sequence[float]) -> list[int]:
    """Rule 4: fourteen points in a row going up and down in turn: thirteen steps,
    each the other way from the one before."""
    # Steps that alternate are steps of one sign once every other one is turned round.
    turned = [step * (-1) ** n for n, step in enumerate(_steps(values))]
    return _runs(turned, RUN_ALTERNATING - 1, 1)
