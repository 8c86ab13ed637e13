"""Stage 5b: Matplotlib charts as deterministic SVG.

Chart code draws what the report model holds — no arithmetic here. SVGs keep text as text
(`svg.fonttype = none`), carry no date, and use a fixed hash salt so ids are stable.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "creditwise",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
}
SIZE = (7.2, 3.0)


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    return buf.getvalue()


def _figure(title: str, ylabel: str) -> tuple[Figure, Axes]:
    # The object API, not pyplot: no global figure registry, nothing to close, safe in threads.
    fig = Figure(figsize=SIZE)
    ax = fig.subplots()
    ax.set_title(title, loc="left", fontsize=10)
    ax.set_ylabel(ylabel)
    return fig, ax


def daily_bars(days: Sequence[dt.date], credits: Sequence[float], target: float, title: str) -> str:
    with matplotlib.rc_context(STYLE):
        fig, ax = _figure(title, "credits per day")
        ax.bar(days, credits, color=PALETTE[0], width=0.8, label="credits used")
        ax.axhline(target, color=PALETTE[5], linestyle="--", linewidth=1.2, label="daily target")
        ax.set_xlabel("day")
        ax.legend(loc="upper left", frameon=False)
        ax.tick_params(axis="x", labelrotation=30)
        return _svg(fig)


def cumulative_vs_pace(days: Sequence[dt.date], cumulative: Sequence[float], pace: Sequence[float],
                       allocation: float, thresholds: dict[str, float], title: str) -> str:
    with matplotlib.rc_context(STYLE):
        fig, ax = _figure(title, "credits (cumulative)")
        ax.plot(days[: len(cumulative)], cumulative, color=PALETTE[0], linewidth=2, label="used")
        ax.plot(days, pace, color=PALETTE[1], linestyle="--", linewidth=1.2, label="target pace")
        ax.axhline(allocation, color=PALETTE[5], linewidth=1.2, label="allocation")
        for label, level in thresholds.items():
            ax.axhline(level, color="#999999", linestyle=":", linewidth=0.8)
            ax.annotate(label, (days[0], level), fontsize=7, color="#666666", va="bottom")
        ax.set_xlabel("day")
        ax.legend(loc="upper left", frameon=False)
        ax.tick_params(axis="x", labelrotation=30)
        return _svg(fig)


def utilization_bars(cycles: Sequence[str], utilization: Sequence[float], upgrade: float,
                     downgrade: float, title: str) -> str:
    with matplotlib.rc_context(STYLE):
        fig, ax = _figure(title, "share of allocation used")
        ax.bar(cycles, utilization, color=PALETTE[0], label="utilization")
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
        ax.axhline(1, color=PALETTE[5], linewidth=1.2, label="allocation")
        ax.axhline(upgrade, color=PALETTE[1], linestyle="--", linewidth=1, label="upgrade indicator")
        ax.axhline(downgrade, color=PALETTE[2], linestyle=":", linewidth=1, label="downgrade indicator")
        ax.set_xlabel("billing cycle")
        ax.legend(loc="upper left", frameon=False, fontsize=7)
        return _svg(fig)
