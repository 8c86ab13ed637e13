"""Alerts, budgets, forecast, tier replay, efficiency, value and recommendations, in one model.

Runs inside `build_report` while the DuckDB connection is open: a few GROUP BY queries
(usage_details), then plain Python over their small results and the cycle figures.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

import duckdb

from generator.analytics.alerts import LEVELS, SUBSCRIPTION, Alert, build_alerts
from generator.analytics.budgets import BudgetLine, budget_lines
from generator.analytics.efficiency import Efficiency, efficiency, knowledge_premiums, team_medians
from generator.analytics.forecast import Forecast, forecast
from generator.analytics.money import Roi, TeamCharge, chargeback, roi
from generator.analytics.now import Now, what_to_do_now
from generator.analytics.recommendations import Recommendation, build_recommendations, findings_by_cycle
from generator.analytics.rules import Finding, RuleInput
from generator.analytics.slugs import assign_slugs
from generator.analytics.spikes import Spike, daily_history, find_spikes
from generator.analytics.tier_decision import Decision, decide
from generator.analytics.tier_replay import TierReplay, replay
from generator.analytics.trends import Growth, Week, first_seasonal_cycle, growth, seasonal_index, weekly_review
from generator.config import SiteConfig
from generator.model.cycle_report import CycleFigures
from generator.model.cycles import local_date
from generator.model.details import Details, MemberRow, collect
from generator.model.tier_plan import Plan
from generator.model.usage import Usage


def reading_order(a: Alert) -> tuple:
    return (LEVELS.index(a.level), a.scope != SUBSCRIPTION, a.scope, a.date, a.id)


@dataclass(frozen=True)
class Analytics:
    feature_slugs: dict[str, str]  # every feature in the data or in [budgets]
    team_slugs: dict[str, str]
    details: Details
    spikes: list[Spike]
    budgets: dict[str, list[BudgetLine]]  # cycle → lines
    alerts: list[Alert]  # newest first
    forecast: Forecast | None  # the current cycle's
    decision: Decision  # the tier verdict in money
    seasonal_index: dict[str, float] | None  # calendar month "01"…"12" → demand ÷ trend (≥ 13 complete cycles)
    seasonal_from: str | None  # without the index: the cycle whose end brings it
    now: Now | None  # the current cycle's state and what to do about it
    replay: list[TierReplay]
    recommendations: list[Recommendation]  # listed ones, largest saving first
    findings: dict[str, dict[tuple[str, str], Finding]]  # cycle → (kind, scope) → that cycle's finding
    efficiency: dict[str, Efficiency]  # cycle → the whole subscription
    team_efficiency: dict[str, dict[str, Efficiency]]  # cycle → team → figures
    feature_efficiency: dict[str, dict[str, Efficiency]]  # cycle → feature → figures
    medians: dict[str, dict[str, float | None]]  # cycle → metric → organisation median over teams
    chargeback: dict[str, list[TeamCharge]]
    roi: dict[str, Roi]  # empty without [roi]
    growth: dict[str, Growth]
    weekly: dict[str, list[Week]]

    def alerts_of(self, cycle: str) -> list[Alert]:
        """The cycle's alerts in reading order: critical first, the subscription before scopes, then by date."""
        return sorted((a for a in self.alerts if a.cycle == cycle), key=reading_order)

    def recommendation_ids(self) -> dict[tuple[str, str], str]:
        return {(r.kind, r.scope): r.id for r in self.recommendations}

    @cached_property
    def _members_by_cycle(self) -> dict[str, list[MemberRow]]:
        by_cycle: dict[str, list[MemberRow]] = {}
        for m in self.details.members:
            by_cycle.setdefault(m.cycle, []).append(m)
        return by_cycle

    def members(self, cycle: str, team: str | None = None, feature: str | None = None) -> list[MemberRow]:
        return [m for m in self._members_by_cycle.get(cycle, []) if (team is None or m.team == team)
                and (feature is None or m.feature == feature)]


def build_analytics(config: SiteConfig, con: duckdb.DuckDBPyConnection, usage: Usage, cycles: list[CycleFigures],
                    plan: Plan, guides: set[str]) -> Analytics:
    """`guides`: the slugs of the site's guide pages (a recommendation links its practice's guide when there is one)."""
    details = collect(con, config)
    features = {d.feature for d in usage.days} | set(config.budgets.features)
    teams = {d.team for d in usage.days} | set(config.budgets.teams)
    slugs = {"feature": assign_slugs(features), "team": assign_slugs(teams)}
    as_of_day = local_date(usage.as_of, config.tz)

    spikes = find_spikes(daily_history(cycles, usage.first_day, as_of_day), config.thresholds.spike_factor)
    budgets = budget_lines(config, usage, cycles)
    outlook = forecast(config, cycles)
    decision = decide(config, cycles, plan)
    now = what_to_do_now(config, next(c for c in cycles if c.current), outlook, decision.topup_price_per_credit)
    alerts = build_alerts(config, con, cycles, usage.as_of, budgets, spikes, slugs, now, decision)
    tiers = replay(config.tiers, cycles, plan)
    inp = RuleInput(config, details, {c.name: c for c in cycles}, spikes)
    findings = findings_by_cycle(inp, cycles)
    recs = build_recommendations(config, inp, cycles, plan, decision, findings, slugs, guides,
                                 now.shortfall if now is not None else 0.0)

    org, by_team, by_feature, medians, weekly, value = {}, {}, {}, {}, {}, {}
    days_of: dict[str, list] = {}
    first_days = [c.cycle.start_date for c in cycles]
    for row in usage.days:  # rows are sorted by day: each belongs to the last cycle starting on or before it
        days_of.setdefault(cycles[bisect_right(first_days, row.day) - 1].name, []).append(row)
    for i, c in enumerate(cycles):
        name = c.name
        prev = cycles[i - 1].name if i else None
        premiums = knowledge_premiums(details.of_cycle(name).ops)
        org[name] = efficiency(details, name, prev, premiums=premiums)
        by_team[name] = {t: efficiency(details, name, prev, team=t, premiums=premiums) for t in sorted(c.by_team)}
        by_feature[name] = {f: efficiency(details, name, prev, feature=f, premiums=premiums) for f in sorted(c.by_feature)}
        medians[name] = team_medians(by_team[name])
        raised = [(a.raised_on, a.id) for a in alerts if a.cycle == name]
        weekly[name] = weekly_review(c, days_of.get(name, []), raised, as_of_day)
        if (r := roi(config, c, details.of_cycle(name).ops)) is not None:
            value[name] = r
    return Analytics(
        feature_slugs=slugs["feature"], team_slugs=slugs["team"], details=details, spikes=spikes, budgets=budgets,
        alerts=alerts, forecast=outlook, decision=decision, seasonal_index=seasonal_index(cycles),
        seasonal_from=first_seasonal_cycle(cycles), now=now, replay=tiers, recommendations=recs, findings=findings,
        efficiency=org, team_efficiency=by_team, feature_efficiency=by_feature, medians=medians,
        chargeback={c.name: chargeback(c) for c in cycles},
        roi=value,
        growth=growth(cycles), weekly=weekly)
