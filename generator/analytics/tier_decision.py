"""The tier decision in money (api/plan.json `decision`): which tier costs least over the next months.

The sizing rule (model/tier_plan.py) says which tier *covers* the required level with its buffer; this
module says what each tier would *cost* on the demand path, top-ups included, and turns that into one
action (SPEC §3 "Money view and decision"):

- p: the price of a top-up credit (`[plan].topup_price_per_credit`, else Σ top-up prices ÷ Σ top-up
  credits of `[[topups]]`; None when neither exists);
- demand path D(m) = average + growth per month × m, m = 1 … `[plan].horizon_months` (cycle m is the
  current cycle + m);
- monthly cost of tier T at D = price(T) + max(0, D − credits(T)) × p; without p a tier serves D only
  when D ≤ credits(T) (otherwise that month's cost is None); annual cost = Σ over m (None if any is);
- candidates of month m: the current tier; tiers with more credits that cover D(m) without top-ups;
  the largest tier; on signal `downgrade` also tiers with fewer credits that cover D(m);
- T*(m): the cheapest candidate at D(m) (ties: fewer credits first);
- action with p: `switch-now` when T*(1) ≠ current, else `switch-by` at the first m with T*(m) ≠
  current, else `stay`; without p the sizing rule's signal decides (`switch-now` on upgrade or
  downgrade, else `stay`);
- break-even demand Z between the current tier and the action's tier (A fewer credits, B more):
  credits(A) + (price(B) − price(A)) ÷ p, when it lies between their credits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from generator.config import SiteConfig, Tier
from generator.model.cycle_report import CycleFigures
from generator.model.tier_plan import Plan


@dataclass(frozen=True)
class Month:
    cycle: str  # the cycle's name, YYYY-MM
    demand: float  # D(m)
    cost: dict[str, float | None]  # tier name → monthly cost at D(m)
    cheapest: str | None  # T*(m) (None when p is unknown: the sizing rule decides)


@dataclass(frozen=True)
class Decision:
    action: str  # stay | switch-now | switch-by
    tier: Tier  # the tier to be on after the action (the current one for stay)
    current: Tier
    switch_by: str | None  # the cycle to have switched by (switch-by only)
    break_even_demand: float | None
    topup_price_per_credit: float | None
    annual_cost: dict[str, float | None]  # every tier, over the horizon
    horizon_months: int
    path: list[Month]
    basis: str  # "money" (p known) or "sizing-rule"

    @property
    def saving(self) -> float | None:
        """Money saved over the horizon by the action's tier against staying (None when either cost is unknown)."""
        now, new = self.annual_cost.get(self.current.name), self.annual_cost.get(self.tier.name)
        return now - new if now is not None and new is not None else None


def topup_price(config: SiteConfig) -> float | None:
    if config.plan.topup_price_per_credit is not None:
        return float(config.plan.topup_price_per_credit)
    credits = sum((t.credits for t in config.topups), Decimal(0))
    return float(sum((t.price for t in config.topups), Decimal(0)) / credits) if credits else None


def cycle_after(start: dt.date, months: int) -> str:
    """The name of the cycle `months` after the one starting on `start`."""
    index = start.year * 12 + start.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def monthly_cost(tier: Tier, demand: float, p: float | None) -> float | None:
    credits = float(tier.monthly_credits)
    short = max(0.0, demand - credits)
    if short > 0 and p is None:
        return None
    return float(tier.monthly_price) + short * (p or 0.0)


def annual_cost(tier: Tier, demands: list[float], p: float | None) -> float | None:
    """Σ of the monthly costs over the demand path; None when any month cannot be priced (or no path)."""
    costs = [monthly_cost(tier, d, p) for d in demands]
    return sum(costs) if costs and all(c is not None for c in costs) else None  # type: ignore[arg-type]


def _order(t: Tier) -> tuple:
    return (t.monthly_credits, t.monthly_price, t.name)


def candidates(tiers: list[Tier], current: Tier, demand: float, signal: str) -> list[Tier]:
    largest = max(tiers, key=_order)
    out = {current.name: current, largest.name: largest}
    for t in tiers:
        covers = float(t.monthly_credits) >= demand
        if covers and (t.monthly_credits > current.monthly_credits
                       or (signal == "downgrade" and t.monthly_credits < current.monthly_credits)):
            out[t.name] = t
    return sorted(out.values(), key=_order)


def cheapest(tiers: list[Tier], demand: float, p: float | None) -> Tier | None:
    priced = [(cost, t) for t in tiers if (cost := monthly_cost(t, demand, p)) is not None]
    return min(priced, key=lambda ct: (ct[0], _order(ct[1])))[1] if priced else None


def break_even(a: Tier, b: Tier, p: float | None) -> float | None:
    """Demand above which the tier with more credits costs less (None outside their credits or without p)."""
    if p is None or p <= 0 or a.name == b.name:
        return None
    lo, hi = sorted((a, b), key=_order)
    z = float(lo.monthly_credits) + float(hi.monthly_price - lo.monthly_price) / p
    return z if float(lo.monthly_credits) <= z <= float(hi.monthly_credits) else None


def decide(config: SiteConfig, cycles: list[CycleFigures], plan: Plan) -> Decision:
    current_cycle = next(c for c in cycles if c.current)
    current = plan.current_tier
    p = topup_price(config)
    horizon = config.plan.horizon_months
    path: list[Month] = []
    if plan.average is not None:
        for m in range(1, horizon + 1):
            demand = plan.average + plan.growth_per_month * m
            cost = {t.name: monthly_cost(t, demand, p) for t in config.tiers}
            best = cheapest(candidates(config.tiers, current, demand, plan.signal), demand, p) if p is not None else None
            path.append(Month(cycle_after(current_cycle.cycle.start_date, m), demand, cost, best.name if best else None))
    annual = {t.name: annual_cost(t, [month.demand for month in path], p) for t in config.tiers}

    action, tier, switch_by = "stay", current, None
    if plan.signal == "insufficient-history" or not path:
        pass
    elif p is not None:
        first = next((i for i, month in enumerate(path) if month.cheapest != current.name), None)
        if first is not None:
            tier = config.tier(path[first].cheapest)  # type: ignore[arg-type]
            action = "switch-now" if first == 0 else "switch-by"
            switch_by = path[first].cycle if first else None
    elif plan.signal in ("upgrade", "downgrade") and plan.recommended_tier is not None:
        action, tier = "switch-now", plan.recommended_tier
    z = break_even(current, tier, p) if action != "stay" else None
    return Decision(action, tier, current, switch_by, z, p, annual, horizon, path,
                    "money" if p is not None else "sizing-rule")
