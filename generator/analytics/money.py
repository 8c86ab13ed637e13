"""What the credits cost and what they were worth: team chargeback and ROI (SPEC §3 "ROI").

- chargeback: each team's share of a cycle's used credits, applied to the cycle's price (tier price +
  top-ups) and, for a complete cycle, to the credits that expired unused.
- ROI: value = Σ over `feature.operation` of events × `minutes_saved` ÷ 60 × `hourly_rate`;
  cost = the cycle's cost (tier price + top-ups: what was paid, expired credits included);
  cost_of_used = used × price per credit; net = value − cost; return = value ÷ cost. Only with `[roi]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from generator.config import SiteConfig
from generator.model.cycle_report import CycleFigures
from generator.model.details import OpRow


@dataclass(frozen=True)
class TeamCharge:
    team: str
    credits: Decimal
    share: float | None  # of the cycle's used (None when nothing was used)
    cost: float | None  # share × the cycle's price
    expired_credits: float | None  # share × expired (complete cycles)
    expired_cost: float | None  # those credits at the cycle's price per credit


def chargeback(c: CycleFigures) -> list[TeamCharge]:
    out = []
    for team, credits in c.by_team.items():
        share = float(credits / c.used) if c.used else None
        cost = share * float(c.price) if share is not None else None
        expired = share * float(c.expired) if share is not None and c.expired is not None else None
        expired_cost = expired * c.price_per_credit if expired is not None else None
        out.append(TeamCharge(team, credits, share, cost, expired, expired_cost))
    return out


@dataclass(frozen=True)
class RoiLine:
    key: str  # feature.operation
    events: int
    minutes_saved: float
    value: float


@dataclass(frozen=True)
class Roi:
    cycle: str
    hourly_rate: float
    hours_saved: float
    value: float
    cost: float
    cost_of_used: float
    lines: list[RoiLine]

    @property
    def net(self) -> float:
        return self.value - self.cost

    @property
    def ratio(self) -> float | None:
        return self.value / self.cost if self.cost else None


def roi(config: SiteConfig, c: CycleFigures, ops: list[OpRow]) -> Roi | None:
    """`ops`: the cycle's rows."""
    if config.roi is None:
        return None
    rate = float(config.roi.hourly_rate)
    events: dict[str, int] = {}
    for r in ops:
        key = f"{r.feature}.{r.operation}"
        events[key] = events.get(key, 0) + r.events
    lines = []
    for key, minutes in sorted(config.roi.minutes_saved.items()):
        n = events.get(key, 0)
        lines.append(RoiLine(key, n, n * minutes, n * minutes / 60 * rate))
    hours = sum(line.minutes_saved for line in lines) / 60
    return Roi(c.name, rate, hours, hours * rate, float(c.price), float(c.used) * c.price_per_credit, lines)
