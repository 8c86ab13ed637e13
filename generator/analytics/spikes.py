"""Spike days (SPEC §3): a day whose credits exceed `spike_factor` × the median of the 28 days before it.

The days looked back on run from the earliest event's day: days before any usage are not "usual
usage" and would make every first busy day a spike. A day needs at least 7 such days before it,
and a usual level above zero (with a median of 0 no factor can be stated).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from statistics import median

from generator.model.cycle_report import CycleFigures

LOOKBACK_DAYS = 28
MIN_DAYS_BEFORE = 7


@dataclass(frozen=True)
class Spike:
    day: dt.date
    cycle: str
    credits: Decimal
    median: float  # of the (up to) 28 days before it
    days_looked_back: int

    @property
    def factor(self) -> float:
        return float(self.credits) / self.median

    @property
    def excess(self) -> float:
        """Credits above the usual day: what the day cost beyond its median."""
        return float(self.credits) - self.median


def daily_history(cycles: list[CycleFigures], first_day: dt.date, last_day: dt.date) -> list[tuple[dt.date, Decimal, str]]:
    """(day, credits, cycle name) from the earliest event's day through as_of's day."""
    return [(d, v, c.name) for c in cycles for d, v in c.daily if first_day <= d <= last_day]


def find_spikes(history: list[tuple[dt.date, Decimal, str]], spike_factor: float) -> list[Spike]:
    """Compared in decimals: in floats 3 × 0.7 is 2.0999…, which would make a day of exactly 2.1 "exceed" it."""
    out = []
    factor = Decimal(repr(spike_factor))  # the factor as written in site.toml
    values = [Decimal(v) for _, v, _ in history]
    for i, (day, credits, cycle) in enumerate(history):
        before = values[max(0, i - LOOKBACK_DAYS):i]
        if len(before) < MIN_DAYS_BEFORE:
            continue
        usual = median(before)
        if usual > 0 and Decimal(credits) > factor * usual:
            out.append(Spike(day, cycle, credits, float(usual), len(before)))
    return out
