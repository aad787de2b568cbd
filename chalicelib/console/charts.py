"""Bar charts computed on the server, drawn by `console/_macros.html` as SVG.

Geometry only (no markup here): the template escapes every label. Each chart carries its own
title, a sentence describing it, and the table of the same numbers for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bar:
    label: str
    display: str
    x: float
    y: float
    w: float
    h: float
    tick: str | None = None
    low: float | None = None  # an interval's ends, as y coordinates
    high: float | None = None


@dataclass(frozen=True)
class Datum:
    """One bar: its label, value, how the value reads, and an optional interval."""

    label: str
    value: float
    display: str
    tick: str | None = None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    bars: list[Bar]
    max_label: str
    columns: list[str]
    rows: list[list[str]]
    width: int = 640
    height: int = 200
    left: int = 56
    top: int = 8
    baseline: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)


def bar_chart(chart_id: str, title: str, description: str, data: Sequence[Datum], *,
              columns: list[str], rows: list[list[str]], max_label: str | None = None,
              width: int = 640, height: int = 200) -> Chart:
    """Vertical bars scaled to the largest value (or interval end) in `data`."""
    left, top, bottom = 56, 8, 22
    baseline = height - bottom
    span = baseline - top
    top_value = max([d.value for d in data] + [d.high or 0 for d in data] + [0]) or 1
    slot = (width - left - 8) / max(len(data), 1)
    bar_w = max(min(slot * 0.7, 60), 2)
    bars = []
    for i, d in enumerate(data):
        h = span * max(d.value, 0) / top_value
        x = left + i * slot + (slot - bar_w) / 2
        y_of = lambda v: round(baseline - span * max(v, 0) / top_value, 1)  # noqa: E731
        bars.append(Bar(d.label, d.display, round(x, 1), round(baseline - h, 1), round(bar_w, 1),
                        round(h, 1), d.tick,
                        y_of(d.low) if d.low is not None else None,
                        y_of(d.high) if d.high is not None else None))
    return Chart(chart_id, title, description, bars, max_label or f"{top_value:g}", columns, rows,
                 width, height, left, top, baseline)
