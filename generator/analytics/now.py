"""What to do now (SPEC §3): the current cycle's state and the one number that helps act on it.

- sustainable daily rate = max(0, remaining) ÷ days left: credits a day that last until the reset;
- shortfall = max(0, projected used − allocation); shortfall cost = shortfall × p (None without p);
- projected unused = max(0, allocation − projected used): credits that will expire at this pace.

The state the overview leads with:
- `ran-out`: the cycle's credits are used up (exhausted_on is set);
- `will-run-out`: projected used exceeds the allocation (the consumption warning);
- `will-leave-unused`: projected unused is more than `expiring_share` of the allocation;
- `on-track`: otherwise.
Level: `critical` when the cycle ran out or the chance of running out is 90 % or more, `warning` for
any other run-out projection or unused credits, `ok` on track.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.analytics.forecast import Forecast
from generator.config import SiteConfig
from generator.model.cycle_report import CycleFigures

CRITICAL_CHANCE = 0.9


@dataclass(frozen=True)
class Now:
    state: str  # on-track | will-run-out | ran-out | will-leave-unused
    level: str  # ok | warning | critical
    sustainable_daily_rate: float  # the current cycle always has time left (as_of < its end)
    shortfall: float
    shortfall_cost: float | None
    projected_unused: float
    projected_used: float
    chance_of_running_out: float | None


def what_to_do_now(config: SiteConfig, c: CycleFigures, forecast: Forecast | None, p: float | None) -> Now | None:
    if c.pace is None:
        return None
    pace = c.pace
    allocation = float(c.allocation)
    remaining = max(0.0, float(c.remaining))
    rate = remaining / pace.days_left if pace.days_left > 0 else 0.0
    shortfall = max(0.0, pace.projected_used - allocation)
    cost = shortfall * p if p is not None else None
    unused = max(0.0, allocation - pace.projected_used)
    chance = forecast.chance_of_running_out if forecast is not None else None
    if c.exhausted_on is not None:
        state, level = "ran-out", "critical"
    elif pace.consumption_warning:
        state = "will-run-out"
        level = "critical" if chance is not None and chance >= CRITICAL_CHANCE else "warning"
    elif unused > config.recommendations.expiring_share * allocation:
        state, level = "will-leave-unused", "warning"
    else:
        state, level = "on-track", "ok"
    return Now(state, level, rate, shortfall, cost, unused, pace.projected_used, chance)
