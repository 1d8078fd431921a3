"""Bar charts as geometry for server-rendered SVG: no scripts, no third-party requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence, Tuple


@dataclass(frozen=True)
class Bar:
    """One bar: where it is drawn and what it says."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: float
    title: str
    # Where clicking the bar goes (the list of what it counts); "" for no link.
    href: str = ""


@dataclass(frozen=True)
class BarChart:
    """A chart's bars and its axis labels."""

    width: int
    height: int
    bars: List[Bar]
    max_value: float
    axis_labels: List[Tuple[float, str]]
    horizontal: bool
    unit: str = ""

    @property
    def max_label(self) -> str:
        """The tallest bar's value, for the chart's scale."""
        return _fmt(self.max_value) + self.unit


def column_chart(
    points: Sequence[Tuple[str, float]],
    width: int = 1000,
    height: int = 200,
    label_every: int = 7,
    unit: str = "",
    links: Sequence[str] = (),
) -> BarChart:
    """Vertical bars, one per point (e.g. per day), with every n-th label under the axis."""
    top, bottom = 16, 24
    max_value = max((v for _, v in points), default=0) or 1
    slot = width / max(1, len(points))
    bars, axis = [], []
    for index, (label, value) in enumerate(points):
        bar_height = (height - top - bottom) * value / max_value
        x = index * slot
        bars.append(
            Bar(
                x + slot * 0.1,
                height - bottom - bar_height,
                max(1.0, slot * 0.8),
                bar_height,
                label,
                value,
                f"{label}: {_fmt(value)}{unit}",
                links[index] if index < len(links) else "",
            )
        )
        if index % label_every == 0:
            axis.append((x + slot / 2, label))
    return BarChart(width, height, bars, max_value, axis, horizontal=False, unit=unit)


def row_chart(
    points: Sequence[Tuple[str, float]],
    width: int = 560,
    row_height: int = 24,
    label_width: int = 220,
    unit: str = "",
    links: Sequence[str] = (),
) -> BarChart:
    """Horizontal bars with their labels on the left (e.g. top topics)."""
    max_value = max((v for _, v in points), default=0) or 1
    usable = width - label_width - 60
    bars = [
        Bar(
            label_width,
            index * row_height + 3,
            max(1.0, usable * value / max_value),
            row_height - 6,
            label,
            value,
            f"{label}: {_fmt(value)}{unit}",
            links[index] if index < len(links) else "",
        )
        for index, (label, value) in enumerate(points)
    ]
    return BarChart(width, max(row_height, row_height * len(points)), bars, max_value, [], horizontal=True, unit=unit)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
