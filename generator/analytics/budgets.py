"""Budget vs actual (SPEC §3): `[budgets]` entries are planned credits per cycle for a feature or a team.

Actual is the cycle's used for that scope; variance = actual − budget; a budget is over on the first
day its cumulative credits exceed it. For the current cycle the pace projection adds the scope's own
burn rate (its credits in the burn window ÷ the window's length) times the days left.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from generator.config import SiteConfig
from generator.model.cycle_report import CycleFigures
from generator.model.cycles import local_date
from generator.model.usage import Usage

ZERO = Decimal(0)
SCOPES = ("feature", "team")


@dataclass(frozen=True)
class BudgetLine:
    cycle: str
    scope_type: str  # feature | team
    name: str
    budget: Decimal
    actual: Decimal
    over_on: dt.date | None  # first day the cumulative credits exceeded the budget
    burn_rate: float | None = None  # current cycle only
    projected: float | None = None  # current cycle only: actual + burn rate × days left
    projected_over_on: dt.date | None = None  # current cycle, not yet over, on pace to go over

    @property
    def scope(self) -> str:
        return f"{self.scope_type}:{self.name}"

    @property
    def variance(self) -> Decimal:
        return self.actual - self.budget

    @property
    def used_share(self) -> float | None:
        return float(self.actual / self.budget) if self.budget else None

    @property
    def projected_variance(self) -> float | None:
        return None if self.projected is None else self.projected - float(self.budget)


def budget_lines(config: SiteConfig, usage: Usage, cycles: list[CycleFigures]) -> dict[str, list[BudgetLine]]:
    """Cycle name → one line per `[budgets]` entry (features first, then teams, each sorted by name)."""
    entries = [("feature", n, b) for n, b in sorted(config.budgets.features.items())]
    entries += [("team", n, b) for n, b in sorted(config.budgets.teams.items())]
    if not entries:
        return {c.name: [] for c in cycles}
    per_day: dict[tuple[str, str], dict[dt.date, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for row in usage.days:
        per_day[("feature", row.feature)][row.day] += row.credits
        per_day[("team", row.team)][row.day] += row.credits
    window: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for w in usage.window:
        window[("feature", w.feature)] += w.credits
        window[("team", w.team)] += w.credits
    out = {}
    for c in cycles:
        lines = []
        for scope_type, name, budget in entries:
            days = per_day.get((scope_type, name), {})
            running, over_on = ZERO, None
            for d in c.cycle.dates():
                running += days.get(d, ZERO)
                if over_on is None and running > budget:
                    over_on = d
            line = BudgetLine(c.name, scope_type, name, budget, running, over_on)
            if c.pace is not None:
                line = _with_pace(line, c, window[(scope_type, name)], usage.as_of)
            lines.append(line)
        out[c.name] = lines
    return out


def _with_pace(line: BudgetLine, c: CycleFigures, window_credits: Decimal, as_of: dt.datetime) -> BudgetLine:
    pace = c.pace
    burn = float(window_credits) / pace.window_days if pace.window_days > 0 else 0.0
    projected = float(line.actual) + burn * pace.days_left
    over = None
    if line.over_on is None and projected > float(line.budget) and burn > 0:
        when = as_of + dt.timedelta(days=float(line.budget - line.actual) / burn)
        over = min(local_date(when, c.cycle.tz), c.cycle.dates()[-1])
    return BudgetLine(line.cycle, line.scope_type, line.name, line.budget, line.actual, line.over_on,
                      burn, projected, over)
