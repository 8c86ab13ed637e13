"""Matplotlib charts as deterministic SVG, each drawn twice: wide (laptops, paper) and narrow (phones).

Chart code draws what it is given (site/views/charts.py prepares every series, stack base, band and
marker from the report model): no arithmetic on figures here. A chart's artists are made once; the
figure is then resized and laid out for each variant and saved again (the legend, the ticks and the
labels at the edges are the only things redone), which costs far less than drawing it twice. The ticks,
the grid and the y label are a few artists of ticks.py, the legend plain artists placed by legend.py, and
each series' bars one patch (`_bars`), not Matplotlib's many per tick and per bar and its legend's nested
boxes, and each text is measured and laid out once per process (text_metrics.py): the same marks in the
same places in under a third of the time (tests/test_charts.py compares them with Matplotlib's own).

The SVG keeps text as text (`svg.fonttype = none`), carries no date and no fixed size (a `viewBox`:
it scales to its container), uses a fixed hash salt, and prefixes its ids with a hash of its own
content, so two charts inlined in one page never share an id. Colours are written as
`var(--cw-<meaning>, #hex)` (style.py). Only charts/cache.py imports this module, and only when a
chart is missing from the cache: a fully cached build never loads Matplotlib.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import io
import math
import pickle
import re
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path
from matplotlib.ticker import FixedFormatter, FixedLocator, FuncFormatter, MaxNLocator, PercentFormatter

from generator.charts.legend import ChartLegend, column_sizes
from generator.charts.style import CATEGORIES, CATEGORY_VARS, COLORS, FONT, NARROW, OTHER, STYLE, WIDE
from generator.charts.text_metrics import share_svg_metrics
from generator.charts.ticks import draw_ticks, hide_axes, y_label

share_svg_metrics()  # each text measured once per process, not at every save

RC = {**STYLE, "axes.prop_cycle": matplotlib.cycler(color=list(CATEGORIES))}
THOUSANDS = FuncFormatter(lambda v, _pos: f"{v:,.0f}")
C = COLORS
CHAR = 0.62 * FONT  # the width of an average character of DejaVu Sans at FONT, a little generous
LINE = 1.25 * FONT  # the height of a line of text
VARIANTS = (("wide", WIDE), ("narrow", NARROW))

Layout = Callable[[Figure, Axes, str, tuple[float, float]], None]


# --- the SVG text -------------------------------------------------------------------------------------

_VAR = {hex_: name for name, hex_ in COLORS.items()} | CATEGORY_VARS | {OTHER: "other"}
# One pass over the SVG's markup. The text between two tags (a label: Matplotlib escapes `<` and `>` in it)
# is matched first and kept as it is, so a label that reads like a colour or an id is never rewritten. A
# colour in a presentation attribute becomes a style property (an attribute cannot hold var()), any other
# colour a var(); an id, where it is given, linked to or used in url(), gets the chart's prefix (every link
# in Matplotlib's SVG is to an id of the same file). Every branch starts with a fixed character (Matplotlib
# puts a space before each attribute), which lets the regular-expression engine skip ahead: twice as fast.
_MARKUP = re.compile(r'>[^<]*<'
                     r'| (?P<attr>fill|stroke)="(?P<attr_hex>#[0-9a-f]{6})"|(?P<hex>#[0-9a-f]{6})\b'
                     r'|(?P<id_at> id="|href="#|url\(#)(?P<id>[^")\s]+)')


def _colour(hex_: str) -> str:
    name = _VAR.get(hex_)
    return f"var(--cw-{name}, {hex_})" if name else hex_


def _between(text: str, start: str, end: str) -> str:
    """`text` without its first `start` … `end` (and the whitespace before it), if there is one."""
    at = text.find(start)
    if at < 0:
        return text
    stop = text.index(end, at) + len(end)
    return text[:len(text[:at].rstrip())] + text[stop:]


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]  # no XML declaration or doctype: the same text works inlined in HTML
    text = _between(_between(text, "<metadata>", "</metadata>"), '<style type="text/css">', "</style>")
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1', text, count=1)
    prefix = "c" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:8] + "-"

    def rewritten(match: re.Match[str]) -> str:
        if match.lastindex is None:  # text between tags
            return match.group(0)
        if match["attr"]:
            return f' style="{match["attr"]}: {_colour(match["attr_hex"])}"'
        if match["hex"]:
            return _colour(match["hex"])
        return match["id_at"] + prefix + match["id"]

    return _MARKUP.sub(rewritten, text)


# --- layout shared by every chart ---------------------------------------------------------------------


def _blank() -> tuple[Figure, Axes]:
    # The object API, not pyplot: no global figure registry, nothing to close. Margins are computed in
    # points per variant rather than by a layout engine, which would draw every figure twice more.
    fig = Figure(figsize=(WIDE[0] / 72, WIDE[1] / 72), dpi=72)  # the SVG's own: texts are measured as they are written
    ax = fig.subplots()
    hide_axes(ax)  # ticks.py draws the ticks, the grid and this label
    return fig, ax


_BLANK: bytes | None = None


def _copy_of_blank() -> tuple[Figure, Axes]:
    """A copy of one blank figure made once per process (under RC, as every chart is drawn): unpickling
    takes half the time of making the axes again, their ticks, spines and clip paths. tests/test_charts.py
    requires the same SVG as from a figure made anew."""
    global _BLANK
    if _BLANK is None:
        _BLANK = pickle.dumps(_blank())
    return pickle.loads(_BLANK)  # type: ignore[no-any-return]  # (our own bytes, made just above)


def _figure(ylabel: str) -> tuple[Figure, Axes]:
    fig, ax = _copy_of_blank()
    y_label(fig, ax, ylabel)
    return fig, ax


def _bars(ax: Axes, x: Sequence[Any], heights: Sequence[float], bottoms: Sequence[float] | None, width: float,
          label: str, colour: str, hatched: Sequence[bool] | None = None) -> None:
    """Bars as Axes.bar draws them (centred on x, from bottom to bottom + height; a legend entry after the
    lines'), but one patch for the plain bars and one for the hatched ones rather than a patch each."""
    if x and isinstance(x[0], dt.date):
        x = list(mdates.date2num(x))
    bottoms = bottoms if bottoms is not None else [0.0] * len(x)
    hatched = hatched if hatched is not None else [False] * len(x)
    patches = []
    for striped in (False, True):
        boxes = [[(c - width / 2, b), (c + width / 2, b), (c + width / 2, b + h), (c - width / 2, b + h)]
                 for c, h, b, s in zip(x, heights, bottoms, hatched, strict=True) if s == striped]
        if not boxes:
            continue
        corners = np.asarray(boxes, dtype=float)
        patch = PathPatch(Path.make_compound_path_from_polys(corners), facecolor=colour, edgecolor=None,
                          hatch="///" if striped else None, linewidth=0, label="_bar")
        patch.sticky_edges.y.extend(b for b, s in zip(bottoms, hatched, strict=True) if s == striped)
        # What add_patch does, but the data limits widened by the corners at once: add_patch finds them by
        # splitting the path into Bezier segments, ~1.7 ms for a month of daily bars (the same points).
        ax.add_artist(patch)
        ax.update_datalim(corners.reshape(-1, 2))
        patches.append(patch)
    if hatched and hatched[0]:
        patches.reverse()  # the legend shows the first bar's look, as for Axes.bar
    ax.add_container(BarContainer(patches, label=label))
    ax.autoscale_view()  # (add_patch widens the data limits only; Axes.bar asks for the view to follow)


def _text_width(text: str) -> float:
    return max((len(line) for line in text.split("\n")), default=0) * CHAR


def legend_columns(labels: Sequence[str], width: float) -> int:
    """The most legend columns whose estimated width fits `width` points (entries split as legend.py splits them)."""
    n = len(labels)
    handle = (STYLE["legend.handlelength"] + STYLE["legend.handletextpad"]) * FONT  # type: ignore[operator]
    gap = STYLE["legend.columnspacing"] * FONT  # type: ignore[operator]
    for cols in range(n, 0, -1):
        start, total = 0, 0.0
        for j, size in enumerate(column_sizes(n, cols)):
            total += handle + max(_text_width(t) for t in labels[start:start + size]) + (gap if j else 0)
            start += size
        if total <= width - 12:
            return cols
    return 1


def _y_label_width(ax: Axes) -> float:
    low, high = ax.get_ylim()
    ticks = ax.yaxis.get_major_locator().tick_values(low, high)
    fmt = ax.yaxis.get_major_formatter()
    fmt.set_locs(ticks)
    return max((_text_width(fmt(t, i)) for i, t in enumerate(ticks) if low <= t <= high), default=CHAR)


def _save(fig: Figure, ax: Axes, layout: Layout | None = None, right: float = 10.0, x_lines: int = 1) -> tuple[str, str]:
    """The chart, laid out and saved once per variant: (wide SVG, narrow SVG)."""
    handles, labels = ax.get_legend_handles_labels()
    legend = ChartLegend(fig, handles, labels) if handles else None
    left = 8 + LINE + 6 + _y_label_width(ax) + 8
    out = []
    drawn: list[Any] = []  # this variant's ticks and legend
    for name, (w, plot_h) in VARIANTS:
        for old in drawn:
            old.remove()
        rows = cols = 0
        if legend is not None:
            cols = legend_columns(labels, w)
            rows = math.ceil(len(labels) / cols)
        bottom = 6 + x_lines * LINE + 6 + rows * 1.45 * FONT + 4
        h = 14 + plot_h + bottom
        fig.set_size_inches(w / 72, h / 72)
        fig.subplots_adjust(left=left / w, right=1 - right / w, top=1 - 14 / h, bottom=bottom / h)
        if layout is not None:
            layout(fig, ax, name, (w - left - right, h - 14 - bottom))
        drawn = draw_ticks(ax) + (legend.draw(cols, w) if legend is not None else [])
        out.append(_svg(fig))
    return out[0], out[1]


def _day_axis(ax: Axes) -> None:
    ax.xaxis.set_major_locator(mdates.DayLocator(bymonthday=(1, 8, 15, 22)))
    ax.margins(x=0.01)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%-d %b"))


def _today(ax: Axes, today: dt.date | None) -> None:
    if today is not None:
        ax.axvline(today, color=C["muted"], linestyle="-.", linewidth=1.1, zorder=1,
                   label=f"today, {today:%-d %b}")


# --- the charts ---------------------------------------------------------------------------------------


def daily_bars(days: Sequence[dt.date], credits: Sequence[float], target: float,
               highlighted: Sequence[float | None] | None = None, today: dt.date | None = None) -> tuple[str, str]:
    """Credits per day; `highlighted` holds the credits of spike days (None elsewhere); `today` marks as_of's day."""
    with matplotlib.rc_context(RC):
        fig, ax = _figure("credits per day")
        _bars(ax, days, credits, None, 0.8, "credits used", C["used"])
        spikes = [(d, v) for d, v in zip(days, highlighted or [None] * len(days), strict=True) if v is not None]
        if spikes:
            _bars(ax, [d for d, _ in spikes], [v for _, v in spikes], None, 0.8, "spike day", C["warn"],
                  hatched=[True] * len(spikes))
        ax.axhline(target, color=C["pace"], linestyle="--", linewidth=1.3, label="daily target")
        _today(ax, today)
        ax.yaxis.set_major_formatter(THOUSANDS)
        _day_axis(ax)
        return _save(fig, ax)


def _levels(levels: Sequence[tuple[str, float]]) -> Layout:
    """The notify levels' labels right of the axes, nudged apart so they never overlap (redone per variant)."""
    made: list[Any] = []

    def layout(fig: Figure, ax: Axes, _name: str, size: tuple[float, float]) -> None:
        for a in made:
            a.remove()
        made.clear()
        low, high = ax.get_ylim()
        per_point = (high - low) / size[1]
        last = -math.inf
        for label, level in sorted(levels, key=lambda lv: lv[1]):
            if not low <= level <= high:
                continue
            y = max(level, last + LINE * per_point)
            last = y
            made.append(ax.annotate(label, (1.0, y), xycoords=("axes fraction", "data"), xytext=(3, 0),
                                    textcoords="offset points", color=C["muted"], va="center",
                                    annotation_clip=False))

    return layout


def cumulative_vs_pace(days: Sequence[dt.date], cumulative: Sequence[float], pace: Sequence[float],
                       allocation: float, thresholds: Sequence[tuple[str, float]],
                       projection: Sequence[tuple[dt.date, float]] | None = None,
                       band: Sequence[tuple[dt.date, float, float]] | None = None, band_label: str = "",
                       today: dt.date | None = None, run_out: tuple[dt.date, str] | None = None) -> tuple[str, str]:
    """Used so far against even pace, with the allocation and the notify levels; in the current cycle the
    projection at the burn rate, its likely range (`band`: day, low, high), today and the projected run-out."""
    with matplotlib.rc_context(RC):
        fig, ax = _figure("credits used so far")
        for _label, level in thresholds:
            ax.axhline(level, color=C["muted"], linestyle=":", linewidth=0.8)
        ax.axhline(allocation, color=C["ink"], linewidth=1.3, label="allocation")
        ax.plot(days, pace, color=C["pace"], linestyle="--", linewidth=1.3, label="even pace")
        if band:
            ax.fill_between([d for d, _, _ in band], [lo for _, lo, _ in band], [hi for _, _, hi in band],
                            color=C["used"], alpha=0.18, linewidth=0, label=band_label)
        if projection:
            ax.plot([d for d, _ in projection], [v for _, v in projection], color=C["used"], linestyle=(0, (1, 1.6)),
                    linewidth=1.8, label="projected at the burn rate")
        ax.plot(days[: len(cumulative)], cumulative, color=C["used"], linewidth=2.2, label="used")
        _today(ax, today)
        if run_out is not None:
            day, label = run_out
            ax.axvline(day, color=C["warn"], linestyle=":", linewidth=1.4, zorder=1)
            ax.plot([day], [allocation], marker="X", markersize=8, color=C["warn"], linestyle="none", zorder=4,
                    label=label)
        ax.yaxis.set_major_formatter(THOUSANDS)
        _day_axis(ax)
        right = 8 + max((_text_width(label) for label, _ in thresholds), default=0) + 4
        return _save(fig, ax, _levels(thresholds), right=right)


def _cycle_label(name: str, first: bool) -> str:
    """"2026-05" → "May" (with the year under it for the first label and each January)."""
    month = dt.date(int(name[:4]), int(name[5:7]), 1)
    return f"{month:%b}\n{month:%Y}" if first or month.month == 1 else f"{month:%b}"


def _cycle_axis(cycles: Sequence[str]) -> Layout:
    """Every k-th cycle named, k as small as the variant's width allows (redone per variant)."""

    def layout(_fig: Figure, ax: Axes, _name: str, size: tuple[float, float]) -> None:
        n = len(cycles)
        step = max(1, math.ceil(n * (4 * CHAR + 8) / size[0]))
        shown = list(range(0, n, step))
        ax.xaxis.set_major_locator(FixedLocator(shown))
        ax.xaxis.set_major_formatter(FixedFormatter([_cycle_label(cycles[i], j == 0) for j, i in enumerate(shown)]))
        ax.xaxis.set_minor_locator(FixedLocator(list(range(n))))
        ax.set_xlim(-0.6, n - 0.4)

    return layout


def _so_far(ax: Axes, x: int, top: float) -> None:
    # on a patch of the page's colour: a reference line passing behind never runs through the words
    ax.annotate("so far", (x, top), xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                color=C["ink"], annotation_clip=False, zorder=5,
                bbox={"boxstyle": "square,pad=0.15", "facecolor": C["paper"], "edgecolor": "none"})


def _series_colour(i: int, label: str) -> str:
    return OTHER if label == "other" else CATEGORIES[i % len(CATEGORIES)]


def stacked_cycle_bars(cycles: Sequence[str], series: Sequence[dict[str, Any]], markers: dict[str, Any] | None,
                       line: dict[str, Any] | None, ylabel: str, in_progress: bool = False) -> tuple[str, str]:
    """Bars per cycle, stacked: each series has `label`, `values` and `bottoms` (where its segment starts).

    `markers` (label, values) draws a short horizontal mark per cycle (e.g. its allocation);
    `line` (label, value) a horizontal line across all cycles (e.g. a budget). With `in_progress` the
    last cycle's bar is striped and labelled "so far".
    """
    with matplotlib.rc_context(RC):
        fig, ax = _figure(ylabel)
        x = list(range(len(cycles)))
        n = len(cycles)
        for i, s in enumerate(series):
            colour = _series_colour(i, s["label"])
            _bars(ax, x, s["values"], s["bottoms"], 0.65, s["label"], colour, [in_progress and j == n - 1 for j in x])
        if markers is not None:
            ax.plot(x, markers["values"], marker="_", markersize=16, markeredgewidth=2.2, color=C["ink"],
                    linestyle="none", zorder=3, label=markers["label"])
        if line is not None:
            ax.axhline(line["value"], color=C["ink"], linestyle="--", linewidth=1.3, label=line["label"])
        if in_progress and series:
            top = max(0.0, *(s["bottoms"][-1] + s["values"][-1] for s in series))
            _so_far(ax, n - 1, top)
        ax.yaxis.set_major_formatter(THOUSANDS)
        ax.yaxis.set_major_locator(MaxNLocator(5))
        _stripes_legend(ax, in_progress)
        return _save(fig, ax, _cycle_axis(cycles), x_lines=2)


def _stripes_legend(ax: Axes, in_progress: bool) -> None:
    """A legend entry saying what the stripes mean."""
    if in_progress:
        ax.bar([0], [0], width=0, color=C["muted"], hatch="///", linewidth=0, label="in progress, so far")


def utilization_bars(cycles: Sequence[str], utilization: Sequence[float], upgrade: float, downgrade: float,
                     in_progress: bool = False) -> tuple[str, str]:
    with matplotlib.rc_context(RC):
        fig, ax = _figure("share of the allocation used")
        x = list(range(len(cycles)))
        n = len(cycles)
        _bars(ax, x, utilization, None, 0.65, "utilization", C["used"], [in_progress and j == n - 1 for j in x])
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
        ax.axhline(1, color=C["ink"], linewidth=1.3, label="allocation (100%)")
        ax.axhline(upgrade, color=C["warn"], linestyle="--", linewidth=1.2, label="upgrade indicator")
        ax.axhline(downgrade, color=C["low"], linestyle=(0, (1, 1.4)), linewidth=1.6, label="downgrade indicator")
        if in_progress and n:
            _so_far(ax, n - 1, utilization[-1])
        _stripes_legend(ax, in_progress)
        return _save(fig, ax, _cycle_axis(cycles), x_lines=2)


FUNCTIONS = {f.__name__: f for f in (daily_bars, cumulative_vs_pace, stacked_cycle_bars, utilization_bars)}


def draw(function: str, args: dict[str, Any]) -> tuple[str, str]:
    """(wide SVG, narrow SVG) of one chart.

    The garbage collector waits while a chart is drawn: a chart makes tens of thousands of objects that
    all live until it is saved, and each collection in between walked them (and Matplotlib's modules)
    for nothing, a tenth of a chart's time. What the chart leaves is collected once it is done."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return FUNCTIONS[function](**args)
    finally:
        if collecting:
            gc.enable()
