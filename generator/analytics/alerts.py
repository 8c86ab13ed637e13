"""Monitoring alerts for every cycle (api/alerts.json, the Atom feed, the pages).

Kinds and rules (guides/alerts):
- threshold: each notify level a cycle's cumulative used reached, dated that day; level `info` below
  0.8, `warning` below 1.0, `critical` from 1.0.
- exhausted: a cycle whose cumulative used reached its allocation, dated `exhausted_on` (critical).
- consumption-warning: the current cycle's projected used exceeds its allocation and it has not run out
  yet; dated the projected exhaustion day (warning).
- spike: every spike day (SPEC §3, see spikes.py), with its factor (warning).
- budget-overrun: a `[budgets]` feature or team whose cumulative credits in a cycle exceeded the budget,
  dated the day it went over (critical); in the current cycle also a projected overrun from the
  scope's own burn rate, dated the projected day (warning).
- expiring-credits: in the last `burn_window_days` days of the current cycle, projected unused credits
  above `expiring_share` of the allocation, dated the cycle's last day (warning).
- tier-switch-due: the tier decision says `switch-by` (info) or `switch-now` (warning); dated the current
  cycle's last day (the decision is looked at again at every reset), saying when to be on the new tier.
The consumption warning is critical when the chance of running out is 90 % or more.
A projected date after the subscription's own projected exhaustion cannot happen as projected (usage
stops when the credits do): such an alert says "before credits run out on DATE" instead.

Ids are `kind:cycle:scope:detail` built only from facts that do not move as data arrives: the crossing
day, the level, the spike day. Projected alerts (whose date moves with every export) leave the date
out, so a watcher sees each of them once per cycle and scope, updated in place.
Every alert names the feature, team and member that contributed most over the days it covers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from generator import formatting as fmt
from generator.analytics.budgets import BudgetLine
from generator.analytics.now import Now
from generator.analytics.spikes import Spike
from generator.analytics.tier_decision import Decision
from generator.config import SiteConfig
from generator.model.cycle_report import CycleFigures
from generator.model.cycles import local_date
from generator.model.details import Range, Top, top_contributors

KINDS = ("threshold", "consumption-warning", "exhausted", "spike", "budget-overrun", "expiring-credits",
         "tier-switch-due")
LEVELS = ("critical", "warning", "info")
SUBSCRIPTION = "subscription"


@dataclass(frozen=True)
class Alert:
    id: str
    kind: str
    level: str
    cycle: str
    date: dt.date
    scope: str  # "subscription", "feature:<name>" or "team:<name>"
    title: str
    detail: str
    raised_on: dt.date  # the day the facts were observed (as_of's day for projected alerts)
    projected: bool
    figures: dict[str, Any] = field(default_factory=dict)
    contributors: dict[str, Top] = field(default_factory=dict)
    when: str = ""  # the date as pages say it: "Fri 27 Nov 2026", or "before credits run out on …"


@dataclass
class _Draft:
    id: str
    kind: str
    level: str
    cycle: str
    date: dt.date
    scope: str
    raised_on: dt.date
    projected: bool
    figures: dict[str, Any]
    range: Range
    labels: Callable[[str, str], str]
    title: str
    detail: str
    when: str = ""

    def finish(self, tops: dict[str, Top]) -> Alert:
        shown = [dim for dim in ("feature", "team", "member") if dim in tops and not self.scope.startswith(f"{dim}:")]
        words = {"feature": "feature", "team": "team", "member": "member"}
        parts = [f"{words[d]} {self.labels(d, tops[d].name)} ({fmt.credits(tops[d].credits)} credits, "
                 f"{fmt.pct(tops[d].share)})" for d in shown]
        span = (f"on {fmt.day(self.range.first)}" if self.range.first == self.range.last
                else f"from {fmt.day(self.range.first)} to {fmt.day(self.range.last)}")
        detail = self.detail + (f" Largest contributors {span}: " + ", ".join(parts) + "." if parts else "")
        when = self.when or fmt.day(self.date)
        return Alert(self.id, self.kind, self.level, self.cycle, self.date, self.scope, self.title, detail,
                     self.raised_on, self.projected, self.figures, {d: tops[d] for d in shown}, when)


def threshold_level(t: float) -> str:
    return "info" if t < 0.8 else "warning" if t < 1.0 else "critical"


def scope_slug(scope: str, slugs: dict[str, dict[str, str]]) -> str:
    if scope == SUBSCRIPTION:
        return scope
    kind, name = scope.split(":", 1)
    return f"{kind}-{slugs[kind][name]}"


def build_alerts(config: SiteConfig, con: duckdb.DuckDBPyConnection, cycles: list[CycleFigures], as_of: dt.datetime,
                 budgets: dict[str, list[BudgetLine]], spikes: list[Spike],
                 slugs: dict[str, dict[str, str]], now: Now | None = None,
                 decision: Decision | None = None) -> list[Alert]:
    """All alerts, newest first (then by severity and id)."""
    as_of_day = local_date(as_of, config.tz)
    drafts: list[_Draft] = []

    def labels(dim: str, name: str) -> str:
        return config.feature_label(name) if dim == "feature" else config.team_label(name) if dim == "team" else name

    def draft(kind: str, level: str, c: CycleFigures, date: dt.date, scope: str, tail: str, first: dt.date,
              title: str, detail: str, figures: dict[str, Any], projected: bool = False, last: dt.date | None = None,
              when: str | None = None) -> None:
        ident = ":".join([kind, c.name, scope_slug(scope, slugs), tail])
        feature = scope.split(":", 1)[1] if scope.startswith("feature:") else None
        team = scope.split(":", 1)[1] if scope.startswith("team:") else None
        last = min(last or date, as_of_day)
        drafts.append(_Draft(ident, kind, level, c.name, date, scope, as_of_day if projected else date, projected,
                             figures, Range(ident, first, last, feature, team), labels, title, detail, when or ""))

    for c in cycles:
        start = c.cycle.start_date
        month = f"{c.cycle.start_date:%B %Y}"
        for t, when in c.thresholds.items():
            if when is None:
                continue
            cum = c.cumulative[(when - start).days]
            draft("threshold", threshold_level(t), c, when, SUBSCRIPTION, f"{t!r}:{when}", start,
                  f"{fmt.pct(t)} of {month}'s credits used",
                  f"On {fmt.day(when)} the cycle's usage reached {fmt.credits(cum)} credits, at least {fmt.pct(t)} of its "
                  f"allocation of {fmt.credits(c.allocation)} ({fmt.credits(t * float(c.allocation))} credits).",
                  {"level": t, "cumulative": float(cum), "allocation": float(c.allocation)})
        if c.exhausted_on is not None:
            days_early = (c.cycle.end_date - c.exhausted_on).days - 1  # whole days after that one
            draft("exhausted", "critical", c, c.exhausted_on, SUBSCRIPTION, str(c.exhausted_on), start,
                  f"{month} ran out of credits",
                  f"Cumulative usage reached the allocation of {fmt.credits(c.allocation)} credits on "
                  f"{fmt.day(c.exhausted_on)}, {days_early} full day{'s' if days_early != 1 else ''} before the reset; "
                  f"the cycle used {fmt.credits(c.used)} credits in all.",
                  {"allocation": float(c.allocation), "used": float(c.used), "days_before_end": days_early})
        if c.pace is not None:
            _pace_drafts(config, c, as_of, draft, now)
            if decision is not None:
                _switch_draft(config, c, decision, draft)
        run_out = c.pace.projected_exhaustion if c.pace is not None and c.exhausted_on is None else None
        for line in budgets.get(c.name, []):
            _budget_drafts(config, line, c, draft, run_out or c.exhausted_on)
    by_name = {c.name: c for c in cycles}
    for s in spikes:
        c = by_name[s.cycle]
        draft("spike", "warning", c, s.day, SUBSCRIPTION, str(s.day), s.day,
              f"Spike: {fmt.times(s.factor)} the usual day",
              f"{fmt.day(s.day)} used {fmt.credits(s.credits)} credits, {fmt.times(s.factor)} the median day of the "
              f"{s.days_looked_back} days before it ({fmt.credits(s.median)} credits); the spike rule flags days above "
              f"{fmt.times(config.thresholds.spike_factor)} that median.",
              {"credits": float(s.credits), "median": s.median, "factor": s.factor, "excess": s.excess})

    tops = top_contributors(con, [d.range for d in drafts])
    alerts = [d.finish(tops.get(d.id, {})) for d in drafts]
    return sorted(alerts, key=lambda a: (-a.date.toordinal(), LEVELS.index(a.level), a.id))


def _pace_drafts(config: SiteConfig, c: CycleFigures, as_of: dt.datetime, draft: Callable[..., None],
                 now: Now | None) -> None:
    pace = c.pace
    month = f"{c.cycle.start_date:%B %Y}"
    reset = c.cycle.end_date
    window_first = local_date(as_of - dt.timedelta(days=pace.window_days), c.cycle.tz) if pace.window_days else pace.as_of_day
    window_first = max(window_first, c.cycle.start_date)
    if pace.consumption_warning and c.exhausted_on is None and pace.projected_exhaustion is not None:
        shortfall = pace.projected_used - float(c.allocation)
        level = now.level if now is not None and now.level == "critical" else "warning"
        draft("consumption-warning", level, c, pace.projected_exhaustion, SUBSCRIPTION, "projected", window_first,
              f"{month} is on pace to run out of credits",
              f"At the burn rate of the last {pace.window_days:.1f} days, {fmt.credits(pace.burn_rate)} credits a day, "
              f"the {fmt.credits(c.remaining)} credits left last until about {fmt.day(pace.projected_exhaustion)}; "
              f"{pace.days_left:.1f} days remain until the reset on {fmt.day(reset)}. The cycle is on pace for "
              f"{fmt.approx(pace.projected_used)} credits, {fmt.approx(shortfall)} more than its allocation of "
              f"{fmt.credits(c.allocation)}.",
              {"burn_rate": pace.burn_rate, "days_left": pace.days_left, "projected_used": pace.projected_used,
               "allocation": float(c.allocation), "shortfall": shortfall},
              projected=True, last=pace.as_of_day)
    unused = float(c.allocation) - pace.projected_used
    share = config.recommendations.expiring_share
    if pace.days_left <= config.thresholds.burn_window_days and unused > share * float(c.allocation):
        last_day = c.cycle.dates()[-1]
        draft("expiring-credits", "warning", c, last_day, SUBSCRIPTION, "projected", c.cycle.start_date,
              f"About {fmt.approx(unused)} credits of {month} will expire unused",
              f"With {pace.days_left:.1f} days left and a burn rate of {fmt.credits(pace.burn_rate)} credits a day, the cycle "
              f"is on pace for {fmt.credits(pace.projected_used)} of its {fmt.credits(c.allocation)} credits: about "
              f"{fmt.credits(unused)} ({fmt.pct(unused / float(c.allocation))}) will be left at the end of {fmt.day(last_day)} "
              f"and expire at the reset, since credits do not roll over.",
              {"projected_unused": unused, "allocation": float(c.allocation), "days_left": pace.days_left,
               "burn_rate": pace.burn_rate, "expires_at": reset.isoformat()},
              projected=True, last=pace.as_of_day)


def _switch_draft(config: SiteConfig, c: CycleFigures, d: Decision, draft: Callable[..., None]) -> None:
    if d.action not in ("switch-now", "switch-by"):
        return
    cycle = (d.switch_by or d.path[0].cycle) if d.path else None
    if cycle is None:
        return
    year, month = map(int, cycle.split("-"))
    start = dt.date(year, month, config.site.cycle_start_day)
    last_day = c.cycle.dates()[-1]  # dated inside the cycle: the decision is looked at again at every reset
    saving = d.saving
    money = f", saving about {fmt.money(saving, config.site.currency)} over the next {d.horizon_months} months" \
        if saving is not None and saving > 0 else ""
    if d.action == "switch-now":
        title = f"Switch from {d.current.name} to {d.tier.name} for the next cycle"
        detail = (f"At the demand expected next cycle ({fmt.approx(d.path[0].demand)} credits), {d.tier.name} costs less "
                  f"than {d.current.name}{money}.")
        level = "warning"
    else:
        title = f"Plan the switch from {d.current.name} to {d.tier.name}"
        m = next(x for x in d.path if x.cycle == cycle)
        detail = (f"Demand is growing: by {start:%B %Y} it is expected at {fmt.approx(m.demand)} credits a month, when "
                  f"{d.tier.name} starts to cost less than {d.current.name} with top-ups{money}.")
        level = "info"
    if d.break_even_demand is not None:
        detail += f" The break-even demand is {fmt.approx(d.break_even_demand)} credits a month."
    when = f"before the reset on {fmt.day(c.cycle.end_date)}" if d.action == "switch-now" else f"by {start:%B %Y}"
    draft("tier-switch-due", level, c, last_day, SUBSCRIPTION, "projected", c.pace.as_of_day, title, detail,
          {"action": d.action, "tier": d.tier.name, "switch_by": d.switch_by, "break_even_demand": d.break_even_demand},
          projected=True, last=c.pace.as_of_day, when=when)


def _budget_drafts(config: SiteConfig, line: BudgetLine, c: CycleFigures, draft: Callable[..., None],
                   run_out: dt.date | None) -> None:
    name = config.feature_label(line.name) if line.scope_type == "feature" else config.team_label(line.name)
    label = f"{line.scope_type.capitalize()} {name}" if line.scope_type == "team" else name
    month = f"{c.cycle.start_date:%B %Y}"
    figures = {"budget": float(line.budget), "actual": float(line.actual), "variance": float(line.variance)}
    if line.over_on is not None:
        draft("budget-overrun", "critical", c, line.over_on, line.scope, str(line.over_on), c.cycle.start_date,
              f"{label} went over its {month} budget",
              f"{label} has a budget of {fmt.credits(line.budget)} credits a cycle; its usage passed it on "
              f"{fmt.day(line.over_on)}. In {month} it used {fmt.credits(line.actual)} credits"
              f"{' so far' if c.current else ''}, {fmt.credits(line.variance)} over budget.",
              figures)
    elif line.projected_over_on is not None:
        over = line.projected_variance
        capped = run_out is not None and line.projected_over_on > run_out
        when = f"before credits run out on {fmt.day(run_out)}" if capped else None
        passing = f"at this pace it would pass it only after the credits run out on {fmt.day(run_out)}" if capped \
            else f"passing it around {fmt.day(line.projected_over_on)}"
        draft("budget-overrun", "warning", c, line.projected_over_on, line.scope, "projected", c.cycle.start_date,
              f"{label} is on pace to go over its {month} budget",
              f"{label} has used {fmt.credits(line.actual)} of its {fmt.credits(line.budget)}-credit budget. At its own burn "
              f"rate of {fmt.credits(line.burn_rate)} credits a day it is on pace for {fmt.approx(line.projected)} credits, "
              f"{fmt.approx(over)} over budget; {passing}.",
              figures | {"burn_rate": line.burn_rate, "projected": line.projected, "projected_variance": over,
                         "before_credits_run_out": capped},
              projected=True, last=c.pace.as_of_day, when=when)
