"""The axes' tick marks, tick labels, y grid and y label, drawn as a handful of artists.

Matplotlib's own axes make five artists per tick (two marks, a grid line, two labels), create them
anew for each axes, and measure every label at each save to place the axis label: about 40 % of
drawing a chart (docs/performance.md). Here the positions and texts still come from each axis'
locator and formatter, for the size the figure has when it is saved; the marks of an axis are one
line of markers, the grid one collection, each label one text, placed in points from the axes with
the style's tick sizes and pads, where Matplotlib would put them. Matplotlib's axes are hidden.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import TICKDOWN, TICKLEFT, Line2D
from matplotlib.text import Text
from matplotlib.transforms import ScaledTranslation, Transform, blended_transform_factory

YLABEL_LEFT = 8.0  # points from the figure's left edge to the y label (draw.py leaves room for it)


def hide_axes(ax: Axes) -> None:
    """Matplotlib's tick machinery off: its locators and formatters stay in use for positions and texts."""
    ax.xaxis.set_visible(False)
    ax.yaxis.set_visible(False)


def y_label(fig: Figure, ax: Axes, text: str) -> Text:
    """The y axis' label, turned up, at a fixed distance from the figure's left edge, centred on the axes."""
    where = blended_transform_factory(fig.dpi_scale_trans, ax.transAxes)
    return unclipped_text(ax, YLABEL_LEFT / 72, 0.5, text, transform=where, rotation=90, ha="left", va="center",
                          color=mpl.rcParams["axes.labelcolor"], fontsize=mpl.rcParams["axes.labelsize"])


def unclipped_text(ax: Axes, x: float, y: float, text: str, **props: object) -> Text:
    """What `ax.text(..., clip_on=False)` makes, without the clip path `Axes.text` gives every text: an
    unclipped text never uses it, and making it took about 5 % of a chart's time (docs/performance.md)."""
    made = Text(x, y, text, clip_on=False, **props)  # type: ignore[arg-type]
    return ax._add_text(made)  # type: ignore[no-any-return]


def _inside(locs: Sequence[float], interval: tuple[float, float]) -> list[int]:
    """Indexes of the locations Matplotlib would draw: inside the view, give or take a rounding error."""
    low, high = sorted(interval)
    slack = (high - low) * 1e-10
    return [i for i, v in enumerate(locs) if low - slack <= v <= high + slack]


def _ticks(axis: Axis, minor: bool) -> tuple[list[float], list[str]]:
    """The drawn tick locations of one axis, and their labels."""
    locs = [float(v) for v in (axis.get_minorticklocs() if minor else axis.get_majorticklocs())]
    ticker = axis.minor if minor else axis.major
    labels = ticker.formatter.format_ticks(locs)  # formatted all together, as Matplotlib does
    keep = _inside(locs, axis.get_view_interval())
    return [locs[i] for i in keep], [labels[i] for i in keep]


def _marks(ax: Axes, locs: list[float], name: str, kind: str, transform: Transform) -> Line2D:
    on_x = name == "x"
    rc = mpl.rcParams
    marks = Line2D(locs if on_x else [0.0] * len(locs), [0.0] * len(locs) if on_x else locs, transform=transform,
                   marker=TICKDOWN if on_x else TICKLEFT, linestyle="none", color=rc[f"{name}tick.color"],
                   markersize=rc[f"{name}tick.{kind}.size"], markeredgewidth=rc[f"{name}tick.{kind}.width"],
                   zorder=0.5, clip_on=False)
    ax.add_artist(marks)
    return marks


def _labels(ax: Axes, locs: list[float], texts: list[str], name: str, transform: Transform) -> list[Artist]:
    rc = mpl.rcParams
    away = (rc[f"{name}tick.major.size"] + rc[f"{name}tick.major.pad"]) / 72  # inches, outwards
    fig = ax.figure
    if name == "x":
        at = transform + ScaledTranslation(0, -away, fig.dpi_scale_trans)
        style = {"ha": "center", "va": "top"}
    else:
        at = transform + ScaledTranslation(-away, 0, fig.dpi_scale_trans)
        style = {"ha": "right", "va": "center_baseline"}
    out: list[Artist] = []
    for loc, text in zip(locs, texts, strict=True):
        x, y = (loc, 0.0) if name == "x" else (0.0, loc)
        out.append(unclipped_text(ax, x, y, text, transform=at, color=rc[f"{name}tick.labelcolor"],
                                  fontsize=rc[f"{name}tick.labelsize"], zorder=0.5, **style))
    return out


def draw_ticks(ax: Axes) -> list[Artist]:
    """Both axes' marks and labels, and the y grid, for the axes' current view and size; remove them (the
    list returned) before the figure is resized and drawn again."""
    out: list[Artist] = []
    for name, axis, transform in (("x", ax.xaxis, ax.get_xaxis_transform()), ("y", ax.yaxis, ax.get_yaxis_transform())):
        locs, texts = _ticks(axis, minor=False)
        if name == "y" and locs:
            grid = LineCollection([[(0.0, v), (1.0, v)] for v in locs], transform=transform, zorder=0.5,
                                  colors=mpl.rcParams["grid.color"], linewidths=mpl.rcParams["grid.linewidth"])
            ax.add_artist(grid)  # (not add_collection: the grid must not widen the data limits)
            out.append(grid)
        if locs:
            out.append(_marks(ax, locs, name, "major", transform))
            out.extend(_labels(ax, locs, texts, name, transform))
        minor, _ = _ticks(axis, minor=True)
        if minor:
            out.append(_marks(ax, minor, name, "minor", transform))
    return out
