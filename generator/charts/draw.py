"""Matplotlib charts as deterministic SVG.

Chart code draws what it is given (chart_specs.py prepares every series, stack base and line from
the report model): no arithmetic here. SVGs keep text as text (`svg.fonttype = none`), carry no
date, and use a fixed hash salt so ids are stable. Only chart_cache.py imports this module, and only
when a chart is missing from the cache: a fully cached build never loads Matplotlib.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

import matplotlib
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from generator.charts.style import GUIDE, HIGHLIGHT, MAIN, PACE, PALETTE, SIZE, STYLE, TARGET

RC = {**STYLE, "axes.prop_cycle": matplotlib.cycler(color=list(PALETTE))}
THOUSANDS = FuncFormatter(lambda v, _pos: f"{v:,.0f}")


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def _figure(title: str, ylabel: str, right: float = 0.98, bottom: float = 0.27) -> tuple[Figure, Axes]:
    # The object API, not pyplot: no global figure registry, nothing to close. Fixed margins rather than a
    # layout engine: constrained layout draws every figure twice, which doubled the time per chart.
    fig = Figure(figsize=SIZE)
    fig.subplots_adjust(left=0.1, right=right, top=0.9, bottom=bottom)
    ax = fig.subplots()
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    return fig, ax


def _legend(fig: Figure, ax: Axes) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=min(len(labels), 5))


def _day_axis(ax: Axes) -> None:
    ax.xaxis.set_major_locator(mdates.DayLocator(bymonthday=(1, 8, 15, 22)))
    ax.margins(x=0.01)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%-d %b"))
    ax.set_xlabel("day")


def daily_bars(days: Sequence[dt.date], credits: Sequence[float], target: float, title: str,
               highlighted: Sequence[float | None] | None = None) -> str:
    """Credits per day; `highlighted` holds the credits of spike days (None elsewhere)."""
    with matplotlib.rc_context(RC):
        fig, ax = _figure(title, "credits per day")
        ax.bar(days, credits, color=MAIN, width=0.8, label="credits used")
        spikes = [(d, v) for d, v in zip(days, highlighted or [None] * len(days), strict=True) if v is not None]
        if spikes:
            ax.bar([d for d, _ in spikes], [v for _, v in spikes], color=HIGHLIGHT, width=0.8, hatch="///",
                   edgecolor="#ffffff", linewidth=0, label="spike day")
        ax.axhline(target, color=TARGET, linestyle="--", linewidth=1.2, label="daily target")
        ax.yaxis.set_major_formatter(THOUSANDS)
        _day_axis(ax)
        _legend(fig, ax)
        return _svg(fig)


def cumulative_vs_pace(days: Sequence[dt.date], cumulative: Sequence[float], pace: Sequence[float],
                       allocation: float, thresholds: Sequence[tuple[str, float]] | dict[str, float], title: str,
                       projection: Sequence[tuple[dt.date, float]] | None = None) -> str:
    with matplotlib.rc_context(RC):
        fig, ax = _figure(title, "credits used so far in the cycle", right=0.93)
        for label, level in (thresholds.items() if isinstance(thresholds, dict) else thresholds):
            ax.axhline(level, color=GUIDE, linestyle=":", linewidth=0.8)
            ax.annotate(label, (days[-1], level), xytext=(3, 0), textcoords="offset points", fontsize=7,
                        color="#555555", va="center", annotation_clip=False)
        ax.plot(days, pace, color=PACE, linestyle="--", linewidth=1.2, label="even pace")
        ax.axhline(allocation, color=TARGET, linewidth=1.2, label="allocation")
        if projection:
            ax.plot([d for d, _ in projection], [v for _, v in projection], color=MAIN, linestyle=(0, (1, 2)),
                    linewidth=1.6, label="projected at the burn rate")
        ax.plot(days[: len(cumulative)], cumulative, color=MAIN, linewidth=2.2, label="used")
        ax.yaxis.set_major_formatter(THOUSANDS)
        _day_axis(ax)
        _legend(fig, ax)
        return _svg(fig)


SLANT_FROM = 13  # cycles: from here on, names are slanted so they do not run into each other


def _cycle_margin(cycles: Sequence[str]) -> float:
    return 0.34 if len(cycles) >= SLANT_FROM else 0.27


def _cycle_axis(ax: Axes, cycles: Sequence[str]) -> None:
    ax.set_xlabel("billing cycle")
    if len(cycles) >= SLANT_FROM:
        ax.tick_params(axis="x", labelsize=7)
        for label in ax.get_xticklabels():
            label.set(rotation=45, ha="right", rotation_mode="anchor")


def stacked_cycle_bars(cycles: Sequence[str], series: Sequence[dict[str, Any]], markers: dict[str, Any] | None,
                       line: dict[str, Any] | None, title: str, ylabel: str) -> str:
    """Bars per cycle, stacked: each series has `label`, `values` and `bottoms` (where its segment starts).

    `markers` (label, values) draws a short horizontal mark per cycle (e.g. its allocation);
    `line` (label, value) a horizontal line across all cycles (e.g. a budget).
    """
    with matplotlib.rc_context(RC):
        fig, ax = _figure(title, ylabel, bottom=_cycle_margin(cycles))
        for i, s in enumerate(series):
            ax.bar(cycles, s["values"], bottom=s["bottoms"], color=PALETTE[i % len(PALETTE)], width=0.65,
                   label=s["label"])
        if markers is not None:
            ax.scatter(cycles, markers["values"], marker="_", s=900, linewidths=2.2, color=TARGET, zorder=3,
                       label=markers["label"])
        if line is not None:
            ax.axhline(line["value"], color=TARGET, linestyle="--", linewidth=1.2, label=line["label"])
        ax.yaxis.set_major_formatter(THOUSANDS)
        _cycle_axis(ax, cycles)
        _legend(fig, ax)
        return _svg(fig)


def utilization_bars(cycles: Sequence[str], utilization: Sequence[float], upgrade: float, downgrade: float,
                     title: str) -> str:
    with matplotlib.rc_context(RC):
        fig, ax = _figure(title, "share of the allocation used", bottom=_cycle_margin(cycles))
        ax.bar(cycles, utilization, color=MAIN, width=0.65, label="utilization")
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
        ax.axhline(1, color=TARGET, linewidth=1.2, label="allocation (100 %)")
        ax.axhline(upgrade, color=PACE, linestyle="--", linewidth=1, label="upgrade indicator")
        ax.axhline(downgrade, color=PALETTE[2], linestyle=":", linewidth=1.2, label="downgrade indicator")
        _cycle_axis(ax, cycles)
        _legend(fig, ax)
        return _svg(fig)


FUNCTIONS = {f.__name__: f for f in (daily_bars, cumulative_vs_pace, stacked_cycle_bars, utilization_bars)}


def draw(function: str, args: dict[str, Any]) -> str:
    return FUNCTIONS[function](**args)
