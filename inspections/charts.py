"""The control chart of a trend (``inspections.trends``), drawn with matplotlib's Agg and
SVG back ends: no display, no pyplot state shared between threads.

Each part of the chart carries an SVG id (``points``, ``centre-line``,
``upper-control-limit``, ``lower-control-limit``, ``upper-specification-limit``,
``lower-specification-limit``, ``out-of-trend``, ``out-of-specification``, ``marked``) so
that a reader or a test can find it. Text stays text in the SVG, and its hash salt and
metadata are fixed, so the same trend always draws the same bytes.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

matplotlib.use("Agg")  # for anything that asks pyplot; this module never does

SVG = "svg"
PNG = "png"
_STYLE: dict[Any, Any] = {
    "svg.hashsalt": "pharma-mes-trend",
    "svg.fonttype": "none",
    "font.size": 9,
}
_LINES = (
    ("upper_specification_limit", "upper-specification-limit", "USL", "#b91c1c", "-"),
    ("lower_specification_limit", "lower-specification-limit", "LSL", "#b91c1c", "-"),
    ("upper_control_limit", "upper-control-limit", "UCL", "#d97706", "--"),
    ("lower_control_limit", "lower-control-limit", "LCL", "#d97706", "--"),
    ("centre_line", "centre-line", "CL", "#15803d", "-."),
)


def control_chart(trend: dict[str, Any], fmt: str, *, marked: Any = None) -> bytes:
    """``trend`` as the trends endpoint answers it, drawn as SVG or PNG; ``marked`` (a
    batch id) is ringed, for the batch a reviewer is looking at."""
    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(9, 4.5), dpi=100, layout="constrained")
        axes = figure.add_subplot()
        points = trend["points"]
        xs = list(range(1, len(points) + 1))
        ys = [point["value"] for point in points]
        (line,) = axes.plot(xs, ys, marker="o", markersize=4, color="#1d4ed8", linewidth=1)
        line.set_gid("points")
        statistics = trend["statistics"]
        for key, gid, label, colour, style in _LINES:
            value = statistics.get(key)
            if value is None:
                continue
            drawn = axes.axhline(value, color=colour, linestyle=style, linewidth=1)
            drawn.set_gid(gid)
            axes.annotate(
                f"{label} {value:.4g}",
                xy=(1, value),
                xycoords=("axes fraction", "data"),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                color=colour,
            )
        _ring(axes, xs, ys, [p["nelson_rules"] != [] for p in points], "out-of-trend", "#d97706")
        out_of_specification = [p["out_of_specification"] for p in points]
        _ring(axes, xs, ys, out_of_specification, "out-of-specification", "#b91c1c")
        _ring(axes, xs, ys, [str(p["batch"]) == str(marked) for p in points], "marked", "#111827")
        unit = f" ({trend['unit']})" if trend.get("unit") else ""
        axes.set_title(f"{trend['product_name']}: {trend['parameter']}{unit}")
        axes.set_xlabel("Batch, in order of manufacture")
        axes.set_ylabel(f"{trend['parameter']}{unit}")
        if points:
            step = max(1, len(points) // 12)
            axes.set_xticks(xs[::step], [p["batch_number"] for p in points][::step], rotation=30)
        axes.grid(True, color="#e5e7eb", linewidth=0.5)
        buffer = io.BytesIO()
        if fmt == SVG:
            FigureCanvasSVG(figure).print_svg(buffer, metadata={"Date": None, "Creator": None})
        else:
            FigureCanvasAgg(figure).print_png(buffer, metadata={"Software": None})
        return buffer.getvalue()


def _ring(axes: Any, xs: list[int], ys: list[float], which: list[bool], gid: str, colour: str):
    chosen = [(x, y) for x, y, flag in zip(xs, ys, which, strict=True) if flag]
    if not chosen:
        return
    rings = axes.scatter(
        [x for x, _ in chosen],
        [y for _, y in chosen],
        s=90 if gid != "marked" else 160,
        facecolors="none",
        edgecolors=colour,
        linewidths=1.5,
        zorder=3,
    )
    rings.set_gid(gid)
