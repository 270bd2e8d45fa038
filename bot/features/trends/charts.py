"""The geometry of the trend charts: numbers in, shapes out (coordinates in a fixed viewBox the
browser scales to the screen's width); the templates draw them as SVG."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Polyline:
    label: str
    series: int  # the colour (css class series-N)
    points: str


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    series: int
    title: str
    opacity: float = 1.0


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    lines: tuple[Polyline, ...] = ()
    rects: tuple[Rect, ...] = ()
    x_ticks: tuple[Tick, ...] = ()
    y_ticks: tuple[Tick, ...] = ()
    labels: tuple[tuple[float, float, str], ...] = ()  # (x, y, text) written on the chart
    legend: tuple[tuple[int, str], ...] = ()


def _nice_top(value: float) -> int:
    """A round number at or above `value` for the y axis (1, 2, 5 × 10ⁿ)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for k in (1, 2, 5):
            if k * step >= value:
                return k * step
        step *= 10


def _y_ticks(top: int, plot_h: float) -> tuple[Tick, ...]:
    return tuple(Tick(TOP + plot_h - plot_h * f, str(round(top * f))) for f in (0, 0.5, 1))


def _every(n: int, most: int) -> int:
    return max(1, -(-n // most))


def line_chart(x_labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]],
               first_series: int = 0) -> Chart:
    """Lines over the days; the y axis from 0 to a round number above the highest value."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(x_labels)
    top = _nice_top(max((v for _, vs in series for v in vs), default=0))

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    lines = tuple(Polyline(label, first_series + k, " ".join(
        f"{x(i):.1f},{TOP + plot_h - plot_h * v / top:.1f}" for i, v in enumerate(values)))
        for k, (label, values) in enumerate(series))
    step = _every(n, 6)
    ticks = tuple(Tick(x(i), x_labels[i]) for i in range(0, n, step))
    return Chart(WIDTH, HEIGHT, lines=lines, x_ticks=ticks, y_ticks=_y_ticks(top, plot_h),
                 legend=tuple((line.series, line.label) for line in lines))


def stacked_bars(x_labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> Chart:
    """One bar per x, its series stacked from the bottom."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(x_labels)
    totals = [sum(vs[i] for _, vs in series) for i in range(n)]
    top = _nice_top(max(totals, default=0))
    slot = plot_w / max(n, 1)
    bar = slot * 0.7
    rects = []
    for i in range(n):
        y: float = TOP + plot_h
        for k, (label, values) in enumerate(series):
            h = plot_h * values[i] / top
            y -= h
            if values[i]:
                rects.append(Rect(LEFT + slot * i + (slot - bar) / 2, y, bar, h, k,
                                  f"{x_labels[i]} {label} {values[i]}"))
    ticks = tuple(Tick(LEFT + slot * i + slot / 2, x_labels[i]) for i in range(0, n, _every(n, 7)))
    return Chart(WIDTH, HEIGHT, rects=tuple(rects), x_ticks=ticks, y_ticks=_y_ticks(top, plot_h),
                 legend=tuple((k, label) for k, (label, _) in enumerate(series)))


def horizontal_bars(rows: Sequence[tuple[str, int]], *, series: Sequence[int] | None = None) -> Chart:
    """A funnel: one bar per row, its length the row's share of the largest, with its number."""
    row_h, left = 30, 96
    height = TOP + row_h * len(rows) + 8
    top = max((v for _, v in rows), default=0) or 1
    plot_w = WIDTH - left - 80
    rects: list[Rect] = []
    labels: list[tuple[float, float, str]] = []
    for i, (label, value) in enumerate(rows):
        y = TOP + row_h * i
        w = plot_w * value / top
        rects.append(Rect(left, y + 4, max(w, 1.0), row_h - 10, series[i] if series else 0, f"{label} {value}"))
        labels.append((4.0, y + row_h / 2 + 4, label))
        labels.append((left + w + 6, y + row_h / 2 + 4, str(value)))
    return Chart(WIDTH, height, rects=tuple(rects), labels=tuple(labels))


def heat_grid(row_labels: Sequence[str], col_labels: Sequence[str],
              shares: Sequence[Sequence[float | None]]) -> Chart:
    """Cohort retention: one cell per cohort and week after, darker for a larger share."""
    left, cell_h = 96, 26
    cell_w = (WIDTH - left - RIGHT) / max(len(col_labels), 1)
    height = TOP + 18 + cell_h * len(row_labels) + 4
    rects: list[Rect] = []
    labels: list[tuple[float, float, str]] = []
    for j, label in enumerate(col_labels):
        labels.append((left + cell_w * j + cell_w / 2 - 10, TOP + 10, label))
    for i, (row, values) in enumerate(zip(row_labels, shares, strict=True)):
        y = TOP + 18 + cell_h * i
        labels.append((4.0, y + cell_h / 2 + 4, row))
        for j, share in enumerate(values):
            if share is None:
                continue
            x = left + cell_w * j
            rects.append(Rect(x + 1, y + 1, cell_w - 2, cell_h - 2, 0, f"{row} {col_labels[j]} {share:.0%}",
                              opacity=round(0.12 + 0.88 * share, 2)))
            labels.append((x + cell_w / 2 - 12, y + cell_h / 2 + 4, f"{share:.0%}"))
    return Chart(WIDTH, int(height), rects=tuple(rects), labels=tuple(labels))
