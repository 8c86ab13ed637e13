"""Seasonal index (api/plan.json `seasonal_index`): how each calendar month's demand sits against the trend.

With at least 13 complete cycles: over the last up to 36, fit the least-squares line of demand against
the cycle's position (0, 1, …); for each calendar month "01"…"12" of a cycle's start, the index is the
mean of demand ÷ the line's value over the cycles starting in that month. Months without a cycle, or
whose line value is ≤ 0, are left out. 1.2 means that month usually runs 20 % above the trend.
"""

from __future__ import annotations

from statistics import mean

from generator.model.cycle_report import CycleFigures

MIN_CYCLES = 13  # a year and one month: every calendar month seen, one of them twice
WINDOW = 36


def trend_line(values: list[float]) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line through (i, values[i])."""
    n = len(values)
    x_mean, y_mean = (n - 1) / 2, mean(values)
    den = sum((x - x_mean) ** 2 for x in range(n))
    slope = sum((x - x_mean) * (y - y_mean) for x, y in enumerate(values)) / den if den else 0.0
    return y_mean - slope * x_mean, slope


def seasonal_index(cycles: list[CycleFigures]) -> dict[str, float] | None:
    complete = [c for c in cycles if c.complete][-WINDOW:]
    if len(complete) < MIN_CYCLES:
        return None
    intercept, slope = trend_line([c.demand for c in complete])
    ratios: dict[str, list[float]] = {}
    for i, c in enumerate(complete):
        line = intercept + slope * i
        if line > 0:
            ratios.setdefault(f"{c.cycle.start_date.month:02d}", []).append(c.demand / line)
    return {month: mean(values) for month, values in sorted(ratios.items())}


def first_seasonal_cycle(cycles: list[CycleFigures]) -> str | None:
    """The cycle whose completion makes the 13th complete cycle (None when there are already enough)."""
    complete = [c for c in cycles if c.complete]
    missing = MIN_CYCLES - len(complete)
    if missing <= 0:
        return None
    later = [c for c in cycles if not c.complete]
    if len(later) >= missing:
        return later[missing - 1].name
    last = cycles[-1].cycle.start_date
    index = last.year * 12 + last.month - 1 + (missing - len(later))
    return f"{index // 12:04d}-{index % 12 + 1:02d}"
