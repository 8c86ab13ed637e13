"""How a cycle compares with the one before and the same month last year, and its weekly review (SPEC §3).

- growth: the cycle's credits against the previous cycle's and, once the cycle twelve months earlier
  is reported and complete, against that one. A complete cycle is compared on its used; the current
  cycle on its projected used (its used so far would always look like a fall).
- weekly review: ISO weeks (Monday–Sunday) overlapping the cycle, up to as_of's week for the current
  cycle; per week the credits of its days inside the cycle, the target (daily target × those days),
  the top feature and team, and the alerts dated in it.
- seasonal index (api/plan.json `seasonal_index`), with at least 13 complete cycles: over the last up
  to 36, fit the least-squares line of demand against the cycle's position (0, 1, …); for each calendar
  month "01"…"12" of a cycle's start, the mean of demand ÷ the line's value over the cycles starting in
  that month. Months without a cycle, or whose line value is ≤ 0, are left out. 1.2 means that month
  usually runs 20 % above the trend.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import mean

from generator.model.cycle_report import CycleFigures
from generator.model.cycles import add_months
from generator.model.usage import DayUsage

ZERO = Decimal(0)


@dataclass(frozen=True)
class Growth:
    cycle: str
    basis: str  # "used" or "projected_used" (current cycle)
    value: float
    previous_cycle: str | None
    previous_used: float | None
    last_year_cycle: str | None
    last_year_used: float | None

    @property
    def change(self) -> float | None:
        return None if self.previous_used is None else self.value - self.previous_used

    @property
    def change_ratio(self) -> float | None:
        return self.value / self.previous_used - 1 if self.previous_used else None

    @property
    def last_year_change(self) -> float | None:
        return None if self.last_year_used is None else self.value - self.last_year_used

    @property
    def last_year_ratio(self) -> float | None:
        return self.value / self.last_year_used - 1 if self.last_year_used else None


def growth(cycles: list[CycleFigures]) -> dict[str, Growth]:
    by_start = {c.cycle.start_date: c for c in cycles}
    out = {}
    for i, c in enumerate(cycles):
        basis, value = ("projected_used", c.pace.projected_used) if c.pace is not None else ("used", float(c.used))
        prev = cycles[i - 1] if i else None
        year = by_start.get(add_months(c.cycle.start_date, -12))
        year = year if year is not None and year.complete else None
        out[c.name] = Growth(c.name, basis, value, prev.name if prev else None, float(prev.used) if prev else None,
                             year.name if year else None, float(year.used) if year else None)
    return out


@dataclass(frozen=True)
class Week:
    year: int  # ISO year and week number
    week: int
    first: dt.date  # first and last day of the week inside the cycle
    last: dt.date
    credits: Decimal
    target: float
    top_feature: str | None
    top_team: str | None
    alerts: list[str] = field(default_factory=list)  # ids of the alerts dated in the week

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def variance(self) -> float:
        return float(self.credits) - self.target


def _top(sums: dict[str, Decimal]) -> str | None:
    return min(sums, key=lambda k: (-sums[k], k)) if sums else None


def weekly_review(c: CycleFigures, days: list[DayUsage], alerts: list[tuple[dt.date, str]], last_day: dt.date) -> list[Week]:
    """`days`: the cycle's rows; `alerts`: (date raised, id) of its alerts; weeks after `last_day` (as_of's) are left out."""
    weeks: dict[tuple[int, int], list[dt.date]] = defaultdict(list)
    for d in c.cycle.dates():
        if d <= last_day:
            weeks[d.isocalendar()[:2]].append(d)
    credits = dict(c.daily)
    feature: dict[dt.date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    team: dict[dt.date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for r in days:
        feature[r.day][r.feature] += r.credits
        team[r.day][r.team] += r.credits
    out = []
    for (year, week), ds in sorted(weeks.items()):
        f: dict[str, Decimal] = defaultdict(lambda: ZERO)
        t: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for d in ds:
            for k, v in feature[d].items():
                f[k] += v
            for k, v in team[d].items():
                t[k] += v
        full_days = (ds[-1] - ds[0]).days + 1
        out.append(Week(year, week, ds[0], ds[-1], sum((credits[d] for d in ds), ZERO), c.daily_target * full_days,
                        _top(f), _top(t), sorted(i for when, i in alerts if ds[0] <= when <= ds[-1])))
    return out


# --- seasonal index ---------------------------------------------------------------------------

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
