"""The feature and team documents (`api/features/<slug>.json`, `api/teams/<slug>.json`): per cycle credits,
operations, models, cost per operation, efficiency, budget vs actual and members. Feature and team pages
are rendered from these very documents, so a page and its JSON cannot disagree.
"""

from __future__ import annotations

from typing import Any

from generator.analytics.assemble import Analytics
from generator.analytics.budgets import BudgetLine
from generator.analytics.efficiency import CostLine, Efficiency
from generator.report.model import Report
from generator.site.api.values import iso, number


def cost_lines_json(lines: list[CostLine]) -> list[dict[str, Any]]:
    return [{"feature": c.feature, "operation": c.operation, "model": c.model, "events": c.events,
             "credits": number(c.credits), "quantity": c.quantity, "credits_per_event": c.per_event,
             "credits_per_item": c.per_item, "previous_credits_per_item": c.previous_per_item,
             "change": c.change} for c in lines]


def efficiency_json(e: Efficiency) -> dict[str, Any]:
    i, d, ch, k = e.image, e.compose, e.chat, e.knowledge
    return {
        "credits": number(e.credits), "events": e.events, "metrics": e.metrics(),
        "image": {"generates": i.generates, "generated_items": i.generated_items, "batch_items": i.batch_items,
                  "batch_share": i.batch_share, "sessions": i.sessions, "regenerations": i.regenerations,
                  "regeneration_credits": number(i.regeneration_credits), "regeneration_share": i.regeneration_share,
                  "edits": i.edits, "edit_share": i.edit_share, "upscales": i.upscales,
                  "nonfinal_upscales": i.nonfinal_upscales, "nonfinal_upscale_credits": number(i.nonfinal_upscale_credits),
                  "nonfinal_upscale_share": i.nonfinal_upscale_share},
        "compose": {"documents": d.documents, "creates": d.creates, "enhances": d.enhances,
                    "enhances_per_document": d.enhances_per_document, "enhances_before_final": d.enhances_before_final,
                    "enhances_before_final_credits": number(d.enhances_before_final_credits),
                    "before_final_share": d.before_final_share},
        "chat": {"conversations": ch.conversations, "responses": ch.responses,
                 "responses_per_conversation": ch.responses_per_conversation, "short": ch.short,
                 "short_share": ch.short_share, "restarted": ch.restarted, "restart_share": ch.restart_share,
                 "restarted_responses": ch.restarted_responses, "restarted_credits": number(ch.restarted_credits)},
        "knowledge": {"events": k.events, "credits": number(k.credits), "share": k.share,
                      "premium_credits": k.premium_credits, "premium_per_event": k.premium_per_event},
        "cost_per_operation": cost_lines_json(e.cost_lines),
    }


def budget_json(b: BudgetLine) -> dict[str, Any]:
    return {"scope": b.scope, "scope_type": b.scope_type, "name": b.name, "budget": number(b.budget),
            "actual": number(b.actual), "variance": number(b.variance), "used_share": b.used_share,
            "over_on": iso(b.over_on), "burn_rate": b.burn_rate, "projected": b.projected,
            "projected_variance": b.projected_variance, "projected_over_on": iso(b.projected_over_on)}


def _members_json(rows) -> list[dict[str, Any]]:
    acc: dict[tuple[str, str], list] = {}
    for m in rows:
        a = acc.setdefault((m.member, m.team), [0, 0])
        a[0] += m.credits
        a[1] += m.events
    return [{"member": k[0], "team": k[1], "credits": number(v[0]), "events": v[1]}
            for k, v in sorted(acc.items(), key=lambda kv: (-kv[1][0], kv[0]))]


def _scope_links(a: Analytics, scope: str) -> dict[str, list[str]]:
    return {"alerts": [al.id for al in a.alerts if al.scope == scope],
            "recommendations": [r.id for r in a.recommendations if r.scope == scope]}


def feature_json(report: Report, feature: str) -> dict[str, Any]:
    a = report.analytics
    slug = a.feature_slugs[feature]
    budget = report.config.budgets.features.get(feature)
    cycles = []
    for c in report.cycles:
        e = a.feature_efficiency[c.name].get(feature)
        line = next((b for b in a.budgets.get(c.name, []) if b.scope == f"feature:{feature}"), None)
        ops = [r for r in a.details.ops if r.cycle == c.name and r.feature == feature]
        credits = c.by_feature.get(feature)
        cycles.append({
            "cycle": c.name, "complete": c.complete, "current": c.current,
            "credits": number(credits or 0), "events": e.events if e else 0,
            "share_of_used": float(credits / c.used) if credits is not None and c.used else None,
            "by_operation": _sums(ops, "operation"), "by_model": _sums(ops, "model"),
            "by_team": {t: number(v) for t, v in sorted(_credit_sums(ops, "team").items())},
            "cost_per_operation": cost_lines_json(e.cost_lines) if e else [],
            "efficiency": efficiency_json(e) if e else None,
            "budget": budget_json(line) if line else None,
            "members": _members_json(a.members(c.name, feature=feature)),
        })
    return {"feature": feature, "slug": slug, "url": f"features/{slug}/", "budget": number(budget), "cycles": cycles,
            **_scope_links(a, f"feature:{feature}")}


def team_json(report: Report, team: str) -> dict[str, Any]:
    a = report.analytics
    slug = a.team_slugs[team]
    budget = report.config.budgets.teams.get(team)
    cycles = []
    for c in report.cycles:
        e = a.team_efficiency[c.name].get(team)
        line = next((b for b in a.budgets.get(c.name, []) if b.scope == f"team:{team}"), None)
        ops = [r for r in a.details.ops if r.cycle == c.name and r.team == team]
        charge = next((t for t in a.chargeback[c.name] if t.team == team), None)
        credits = c.by_team.get(team)
        medians = a.medians[c.name]
        metrics = e.metrics() if e else {}
        cycles.append({
            "cycle": c.name, "complete": c.complete, "current": c.current,
            "credits": number(credits or 0), "events": e.events if e else 0,
            "share_of_used": float(credits / c.used) if credits is not None and c.used else None,
            "by_feature": {f: number(v) for f, v in sorted(_credit_sums(ops, "feature").items())},
            "cost_per_operation": cost_lines_json(e.cost_lines) if e else [],
            "efficiency": efficiency_json(e) if e else None,
            "compared_with_median": {k: {"value": v, "median": medians.get(k),
                                         "difference": v - medians[k] if v is not None and medians.get(k) is not None else None}
                                     for k, v in metrics.items()},
            "budget": budget_json(line) if line else None,
            "chargeback": {"share": charge.share, "cost": charge.cost, "expired_credits": charge.expired_credits,
                           "expired_cost": charge.expired_cost} if charge else None,
            "members": _members_json(a.members(c.name, team=team)),
        })
    return {"team": team, "slug": slug, "url": f"teams/{slug}/", "budget": number(budget), "cycles": cycles,
            **_scope_links(a, f"team:{team}")}


def _credit_sums(rows, key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in rows:
        out[getattr(r, key)] = out.get(getattr(r, key), 0) + r.credits
    return out


def _sums(rows, key: str) -> dict[str, dict[str, Any]]:
    acc: dict[str, list] = {}
    for r in rows:
        name = getattr(r, key) if getattr(r, key) is not None else "(none)"
        a = acc.setdefault(name, [0, 0, 0])
        a[0] += r.events
        a[1] += r.credits
        a[2] += r.quantity
    return {k: {"events": v[0], "credits": number(v[1]), "quantity": v[2]} for k, v in sorted(acc.items())}


class ScopeDocuments:
    """Each feature and team document built once, for its page and for the JSON API alike."""

    def __init__(self, report: Report):
        self.report = report
        self._docs: dict[tuple[str, str], dict[str, Any]] = {}

    def feature(self, name: str) -> dict[str, Any]:
        key = ("feature", name)
        if key not in self._docs:
            self._docs[key] = feature_json(self.report, name)
        return self._docs[key]

    def team(self, name: str) -> dict[str, Any]:
        key = ("team", name)
        if key not in self._docs:
            self._docs[key] = team_json(self.report, name)
        return self._docs[key]

