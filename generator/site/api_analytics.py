"""Stage 5a (continued): the analytics in the JSON API (SPEC §4).

api/alerts.json and api/recommendations.json keep the spec's fields first and add what pages and the
feed need (contributors, figures, guide, summary); api/features/<slug>.json and api/teams/<slug>.json
hold the figures of those pages; months and the plan gain forecast, weekly review, budgets,
chargeback, efficiency, ROI, growth and the tier replay. Field names are the spec's where it has them.
"""

from __future__ import annotations

from typing import Any

from generator.analytics.alerts import Alert
from generator.analytics.assemble import Analytics
from generator.analytics.budgets import BudgetLine
from generator.analytics.efficiency import CostLine, Efficiency
from generator.analytics.recommendations import Recommendation
from generator.model.cycle_report import CycleFigures
from generator.report.model import Report
from generator.site.api import iso, number


def alert_json(a: Alert) -> dict[str, Any]:
    return {
        "id": a.id, "kind": a.kind, "level": a.level, "cycle": a.cycle, "date": iso(a.date), "scope": a.scope,
        "title": a.title, "detail": a.detail,
        "raised_on": iso(a.raised_on), "projected": a.projected, "url": f"months/{a.cycle}/",
        "contributors": {dim: {"name": t.name, "credits": number(t.credits), "share": t.share}
                         for dim, t in a.contributors.items()},
        "figures": a.figures,
    }


def recommendation_json(r: Recommendation, rank: int) -> dict[str, Any]:
    return {
        "id": r.id, "kind": r.kind, "title": r.title, "scope": r.scope,
        "estimated_monthly_savings": r.estimated_monthly_savings, "evidence": r.evidence,
        "rank": rank, "summary": r.summary, "guide": r.guide, "monthly_money_saved": r.monthly_money,
    }


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


def month_extras(report: Report, c: CycleFigures) -> dict[str, Any]:
    a: Analytics = report.analytics
    ids = a.recommendation_ids()
    g = a.growth[c.name]
    doc: dict[str, Any] = {}
    if c.current and a.forecast is not None:
        f = a.forecast
        doc |= {
            "projected_used_low": f.low, "projected_used_high": f.high, "chance_of_running_out": f.chance_of_running_out,
            "forecast": {"interval": f.interval, "projected_used": f.projected_used, "low": f.low, "high": f.high,
                         "chance_of_running_out": f.chance_of_running_out, "spread": f.spread,
                         "fallback_spread": f.fallback_spread, "method": f.method,
                         "reference_cycles": [{"cycle": r.cycle, "projected_rest": r.projected_rest,
                                               "actual_rest": r.actual_rest, "log_error": r.log_error}
                                              for r in f.references]},
        }
    doc |= {
        "weekly": [{"year": wk.year, "week": wk.week, "first": iso(wk.first), "last": iso(wk.last), "days": wk.days,
                    "credits": number(wk.credits), "target": wk.target, "variance": wk.variance,
                    "top_feature": wk.top_feature, "top_team": wk.top_team, "alerts": wk.alerts}
                   for wk in a.weekly[c.name]],
        "budgets": [budget_json(b) for b in a.budgets.get(c.name, [])],
        "chargeback": [{"team": t.team, "credits": number(t.credits), "share": t.share, "cost": t.cost,
                        "expired_credits": t.expired_credits, "expired_cost": t.expired_cost}
                       for t in a.chargeback[c.name]],
        "spikes": [{"date": iso(s.day), "credits": number(s.credits), "median": s.median, "factor": s.factor}
                   for s in a.spikes if s.cycle == c.name],
        "growth": {"basis": g.basis, "value": g.value, "previous_cycle": g.previous_cycle, "previous_used": g.previous_used,
                   "change": g.change, "change_ratio": g.change_ratio, "same_month_last_year": g.last_year_cycle,
                   "last_year_used": g.last_year_used, "last_year_change": g.last_year_change,
                   "last_year_ratio": g.last_year_ratio},
        "efficiency": efficiency_json(a.efficiency[c.name]),
        "roi": _roi_json(a, c.name),
        "alerts": [al.id for al in a.alerts_of(c.name)],
        "recommendations": [{"kind": kind, "scope": scope, "id": ids.get((kind, scope)), "savings": f.savings,
                             "cited_credits": f.cited_credits}
                            for (kind, scope), f in sorted(a.findings.get(c.name, {}).items(),
                                                           key=lambda kv: (-kv[1].savings, kv[0]))],
    }
    return doc


def _roi_json(a: Analytics, cycle: str) -> dict[str, Any] | None:
    r = a.roi.get(cycle)
    if r is None:
        return None
    return {"hourly_rate": r.hourly_rate, "hours_saved": r.hours_saved, "value": r.value, "cost": r.cost, "net": r.net,
            "ratio": r.ratio, "by_operation": [{"key": x.key, "events": x.events, "minutes_saved": x.minutes_saved,
                                                "value": x.value} for x in r.lines]}


def plan_extras(report: Report) -> dict[str, Any]:
    replay = report.analytics.replay
    return {"tier_replay": {
        "cycles": [r.cycle for r in replay[0].cycles] if replay else [],
        "topup_price_per_credit": number(report.plan.topup_rate),
        "tiers": [{"name": r.tier.name, "monthly_credits": number(r.tier.monthly_credits),
                   "monthly_price": number(r.tier.monthly_price), "current": r.current, "cycles_ran_out": r.ran_out,
                   "expired": r.expired, "topup_credits": r.topup_credits, "topups_priced": r.topups_priced,
                   "annual_cost": r.annual_cost,
                   "per_cycle": [{"cycle": x.cycle, "demand": x.demand, "ran_out": x.ran_out, "expired": x.expired,
                                  "topup_credits": x.topup_credits} for x in r.cycles]} for r in replay],
    }}


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


def analytics_documents(report: Report) -> dict[str, Any]:
    """The analytics' own documents: alerts, recommendations, one per feature and team."""
    a = report.analytics
    docs: dict[str, Any] = {
        "api/alerts.json": [alert_json(al) for al in a.alerts],
        "api/recommendations.json": [recommendation_json(r, i + 1) for i, r in enumerate(a.recommendations)],
    }
    for feature, slug in a.feature_slugs.items():
        docs[f"api/features/{slug}.json"] = feature_json(report, feature)
    for team, slug in a.team_slugs.items():
        docs[f"api/teams/{slug}.json"] = team_json(report, team)
    return docs


def extend_documents(report: Report, docs: dict[str, Any]) -> dict[str, Any]:
    """The foundation's documents with the analytics fields added, plus the analytics' own documents."""
    a = report.analytics
    out = dict(docs)
    out["api/site.json"] = docs["api/site.json"] | {"slugs": {"features": a.feature_slugs, "teams": a.team_slugs},
                                                    "alerts": len(a.alerts), "recommendations": len(a.recommendations)}
    out["api/plan.json"] = docs["api/plan.json"] | plan_extras(report)
    for c in report.cycles:
        key = f"api/months/{c.name}.json"
        out[key] = docs[key] | month_extras(report, c)
    return out | analytics_documents(report)
