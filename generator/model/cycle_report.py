"""The figures of each billing cycle (SPEC §3), as plain functions over `Usage`.

Sums stay Decimal (exact); ratios, rates and projections are floats.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal

from generator.config import SiteConfig, Tier, Topup
from generator.errors import ConfigError, Problem
from generator.model.cycles import Cycle, cycles_between, elapsed_days, local_date
from generator.model.usage import Usage

ZERO = Decimal(0)


@dataclass(frozen=True)
class Pace:
    """Burn rate and projection of the current cycle."""

    as_of_day: dt.date
    burn_rate: float  # credits per day over the burn window
    window_days: float
    days_left: float
    projected_used: float
    consumption_warning: bool
    projected_exhaustion: dt.date | None


@dataclass(frozen=True)
class CycleFigures:
    cycle: Cycle
    complete: bool
    current: bool
    tier: Tier
    topups: list[Topup]
    allocation: Decimal
    used: Decimal
    daily: list[tuple[dt.date, Decimal]]  # every day of the cycle, 0 where nothing happened
    cumulative: list[Decimal]
    by_feature: dict[str, Decimal]
    by_team: dict[str, Decimal]
    events: int
    exhausted_on: dt.date | None
    thresholds: dict[float, dt.date | None]
    pace: Pace | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.cycle.name

    @property
    def remaining(self) -> Decimal:
        return self.allocation - self.used

    @property
    def utilization(self) -> float:
        return float(self.used / self.allocation)

    @property
    def expired(self) -> Decimal | None:
        """Credits left unused when a complete cycle reset; they do not roll over."""
        return max(ZERO, self.allocation - self.used) if self.complete else None

    @property
    def daily_target(self) -> float:
        return float(self.allocation) / self.cycle.days

    @property
    def price(self) -> Decimal:
        return self.tier.monthly_price + sum((t.price for t in self.topups), ZERO)

    @property
    def price_per_credit(self) -> float:
        return float(self.price / self.allocation)

    @property
    def pace_line(self) -> list[float]:
        """Cumulative credits on target pace: the daily target times the days so far."""
        return [self.daily_target * (i + 1) for i in range(self.cycle.days)]

    @property
    def cumulative_to_date(self) -> list[Decimal]:
        """The cumulative series up to as_of's day (days still ahead are not drawn)."""
        if self.pace is None:
            return self.cumulative
        return [c for (d, _), c in zip(self.daily, self.cumulative, strict=True) if d <= self.pace.as_of_day]

    @property
    def threshold_credits(self) -> dict[float, float]:
        return {t: t * float(self.allocation) for t in self.thresholds}

    @property
    def demand(self) -> float:
        """Used, scaled up to the whole cycle when a complete cycle ran out (usage was capped)."""
        if self.complete and self.exhausted_on is not None:
            days_running = (self.exhausted_on - self.cycle.start_date).days + 1
            return float(self.used) * self.cycle.days / days_running
        return float(self.used)


def tier_at(config: SiteConfig, cycle: Cycle) -> Tier:
    """The tier of the `[[subscription]]` entry in force at the cycle's start."""
    entries = [s for s in config.subscription if s.from_ <= cycle.start_date]
    if not entries:
        first = config.subscription[0].from_
        raise ConfigError([Problem(config.path.name, None, "subscription",
                                   f"cycle {cycle.name} starts {cycle.start_date}, before the first [[subscription]] "
                                   f"entry ({first}); add an entry with from = {cycle.start_date} or earlier")])
    return config.tier(entries[-1].tier)


def first_reaching(days: list[dt.date], cumulative: list[Decimal], level: Decimal) -> dt.date | None:
    return next((d for d, c in zip(days, cumulative, strict=True) if c >= level), None)


def build_cycles(config: SiteConfig, usage: Usage) -> list[CycleFigures]:
    """Figures for every reported cycle, oldest first: earliest event's cycle through the current one."""
    tz = config.tz
    cycles = cycles_between(usage.first_day, local_date(usage.as_of, tz), config.site.cycle_start_day, tz)
    per_day: dict[dt.date, Decimal] = defaultdict(lambda: ZERO)
    for row in usage.days:
        per_day[row.day] += row.credits
    out = []
    for cycle in cycles:
        rows = [r for r in usage.days if cycle.holds(r.day)]
        tier = tier_at(config, cycle)
        topups = sorted((t for t in config.topups if cycle.holds(t.date)), key=lambda t: t.date)
        allocation = tier.monthly_credits + sum((t.credits for t in topups), ZERO)
        dates = cycle.dates()
        daily = [(d, per_day.get(d, ZERO)) for d in dates]
        cumulative, running = [], ZERO
        for _, credits in daily:
            running += credits
            cumulative.append(running)
        used = running
        figures = CycleFigures(
            cycle=cycle,
            complete=cycle.end <= usage.as_of,
            current=cycle.start <= usage.as_of < cycle.end,
            tier=tier,
            topups=topups,
            allocation=allocation,
            used=used,
            daily=daily,
            cumulative=cumulative,
            by_feature=_sum_by(rows, "feature"),
            by_team=_sum_by(rows, "team"),
            events=sum(r.events for r in rows),
            exhausted_on=first_reaching(dates, cumulative, allocation),
            thresholds={t: first_reaching(dates, cumulative, Decimal(str(t)) * allocation) for t in config.thresholds.notify},
        )
        if figures.current:
            figures = _with_pace(figures, usage)
        out.append(figures)
    return out


def _sum_by(rows: list, key: str) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for r in rows:
        sums[getattr(r, key)] += r.credits
    return dict(sorted(sums.items()))


def _with_pace(figures: CycleFigures, usage: Usage) -> CycleFigures:
    window_credits = sum((w.credits for w in usage.window), ZERO)
    window_days = elapsed_days(usage.window_start, usage.as_of)
    burn = float(window_credits) / window_days if window_days > 0 else 0.0
    days_left = elapsed_days(usage.as_of, figures.cycle.end)
    projected = float(figures.used) + burn * days_left
    warning = projected > float(figures.allocation)
    exhaustion = None
    if warning:
        if figures.used >= figures.allocation:
            exhaustion = figures.exhausted_on  # already ran out: the real date, not one in the past
        else:
            when = usage.as_of + dt.timedelta(days=float(figures.allocation - figures.used) / burn)
            exhaustion = local_date(when, figures.cycle.tz)
    pace = Pace(local_date(usage.as_of, figures.cycle.tz), burn, window_days, days_left, projected, warning, exhaustion)
    return replace(figures, pace=pace)

