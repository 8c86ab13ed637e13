"""Which tier to be on (SPEC §3 "Tier recommendation", written to api/plan.json).

Demand, not used, drives the plan: a cycle that ran out hides how much was really wanted.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from statistics import mean

from generator.config import SiteConfig, Tier
from generator.model.cycle_report import CycleFigures

PEAK_WINDOW = 12  # complete cycles looked at for the peak and the growth trend


@dataclass(frozen=True)
class TierCost:
    tier: Tier
    covers_required: bool
    annual_cost: Decimal  # 12 × monthly price, plus top-ups at the observed rate where it falls short
    annual_topup_credits: Decimal


@dataclass(frozen=True)
class Plan:
    current_tier: Tier
    recommended_tier: Tier | None
    signal: str  # upgrade | downgrade | hold | insufficient-history
    baseline: list[CycleFigures]
    peak_cycles: int  # how many complete cycles the peak and growth look at
    average: float | None
    peak: float | None
    growth_per_month: float
    projected: float | None
    required: float | None
    high_usage: bool
    ran_out: bool
    low_usage: bool
    exceeds_largest_tier: bool
    tier_costs: list[TierCost]
    topup_rate: Decimal | None  # observed price per top-up credit

    @property
    def indicators(self) -> dict[str, bool]:
        return {"high_usage": self.high_usage, "ran_out": self.ran_out, "low_usage": self.low_usage}


def growth_slope(values: list[float]) -> float:
    """Least-squares slope per cycle; 0 with fewer than 3 points or a falling trend."""
    n = len(values)
    if n < 3:
        return 0.0
    x_mean, y_mean = (n - 1) / 2, mean(values)
    num = sum((x - x_mean) * (y - y_mean) for x, y in enumerate(values))
    den = sum((x - x_mean) ** 2 for x in range(n))
    return max(0.0, num / den)


def cheapest_covering(tiers: list[Tier], required: float) -> Tier | None:
    fits = [t for t in tiers if float(t.monthly_credits) >= required]
    return min(fits, key=lambda t: (t.monthly_price, t.monthly_credits)) if fits else None


def observed_topup_rate(config: SiteConfig) -> Decimal | None:
    credits = sum((t.credits for t in config.topups), Decimal(0))
    return sum((t.price for t in config.topups), Decimal(0)) / credits if credits else None


def recommend(config: SiteConfig, cycles: list[CycleFigures]) -> Plan:
    th = config.thresholds
    current = next(c for c in cycles if c.current)
    complete = [c for c in cycles if c.complete]
    baseline = complete[-th.baseline_cycles:]
    recent = complete[-PEAK_WINDOW:]
    rate = observed_topup_rate(config)
    if not baseline:
        return Plan(current.tier, None, "insufficient-history", [], 0, None, None, 0.0, None, None,
                    False, False, False, False, [], rate)

    average = mean(c.demand for c in baseline)
    peak = max(c.demand for c in recent)
    growth = growth_slope([c.demand for c in recent])
    projected = average + growth * th.growth_horizon_months
    required = max(th.target_buffer[0] * max(average, projected), peak)
    high_usage = sum(c.utilization >= th.upgrade_utilization for c in baseline) >= 2
    ran_out = any(c.exhausted_on is not None for c in baseline)
    low_usage = all(c.utilization < th.downgrade_utilization for c in baseline)
    costs = [_tier_cost(t, required, rate) for t in config.tiers]

    recommended = cheapest_covering(config.tiers, required)
    exceeds = recommended is None
    if recommended is None:
        recommended = max(config.tiers, key=lambda t: (t.monthly_credits, -t.monthly_price))
    if len(complete) < 2:
        signal, recommended, exceeds = "insufficient-history", None, False
    elif recommended.monthly_credits > current.tier.monthly_credits:
        signal = "upgrade"
    elif recommended.monthly_credits < current.tier.monthly_credits and low_usage:
        signal = "downgrade"
    else:
        signal, recommended = "hold", current.tier
    return Plan(current.tier, recommended, signal, baseline, len(recent), average, peak, growth, projected, required,
                high_usage, ran_out, low_usage, exceeds, costs, rate)


def _tier_cost(tier: Tier, required: float, rate: Decimal | None) -> TierCost:
    short = max(Decimal(0), Decimal(str(required)) - tier.monthly_credits)
    topups = short * 12 if rate is not None else Decimal(0)
    return TierCost(tier, short == 0, tier.monthly_price * 12 + topups * (rate or 0), topups)
