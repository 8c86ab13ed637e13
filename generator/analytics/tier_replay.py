"""Tier replay: the last 12 complete cycles' demand played against every tier (shown beside the plan).

For each tier and cycle: the tier runs out when demand exceeds its monthly credits; the shortfall is
bought as top-ups at the observed price per top-up credit (none observed: the shortfall is counted but
not priced); what demand leaves of the credits expires. Annual cost = (monthly prices + top-ups) of the
replayed cycles, scaled to 12 months.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from generator.config import Tier
from generator.model.cycle_report import CycleFigures
from generator.model.tier_plan import PEAK_WINDOW, Plan


@dataclass(frozen=True)
class ReplayCycle:
    cycle: str
    demand: float
    ran_out: bool
    expired: float
    topup_credits: float


@dataclass(frozen=True)
class TierReplay:
    tier: Tier
    current: bool
    cycles: list[ReplayCycle]
    topup_rate: Decimal | None

    @property
    def ran_out(self) -> int:
        return sum(c.ran_out for c in self.cycles)

    @property
    def expired(self) -> float:
        return sum(c.expired for c in self.cycles)

    @property
    def topup_credits(self) -> float:
        return sum(c.topup_credits for c in self.cycles)

    @property
    def topups_priced(self) -> bool:
        return self.topup_rate is not None or self.topup_credits == 0

    @property
    def total_cost(self) -> float:
        rate = float(self.topup_rate or 0)
        return float(self.tier.monthly_price) * len(self.cycles) + self.topup_credits * rate

    @property
    def annual_cost(self) -> float:
        return self.total_cost * 12 / len(self.cycles)


def replay(tiers: list[Tier], cycles: list[CycleFigures], plan: Plan) -> list[TierReplay]:
    """One replay per tier, in site.toml order; empty without a complete cycle."""
    recent = [c for c in cycles if c.complete][-PEAK_WINDOW:]
    if not recent:
        return []
    out = []
    for tier in tiers:
        credits = float(tier.monthly_credits)
        rows = [ReplayCycle(c.name, c.demand, c.demand > credits, max(0.0, credits - c.demand), max(0.0, c.demand - credits))
                for c in recent]
        out.append(TierReplay(tier, tier.name == plan.current_tier.name, rows, plan.topup_rate))
    return out
