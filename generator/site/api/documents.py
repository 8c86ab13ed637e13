"""The documents of the JSON API (site, plan, months, alerts, recommendations, data quality), each built once.

Field names are the spec's where it has them; what pages and the feed need besides (forecast, weekly
review, budgets, chargeback, efficiency, ROI, growth, the tier replay, contributors) follows them.
"""

from __future__ import annotations

from typing import Any

from generator.analytics.alerts import Alert
from generator.analytics.assemble import Analytics
from generator.analytics.recommendations import Recommendation
from generator.model.cycle_report import CycleFigures
from generator.model.data_quality import DataQuality
from generator.report.model import Report
from generator.site.api.focus import SITE_PATH as FOCUS_PATH
from generator.site.api.schema import schema_index, schema_path, schema_urls, schemas
from generator.site.api.scopes import ScopeDocuments, budget_json, efficiency_json
from generator.site.api.values import API_VERSION, build_time, iso, level_key, number


def site_json(report: Report, pages: list[str]) -> dict[str, Any]:
    cur, a = report.current, report.analytics
    return {
        "api_version": API_VERSION,
        "generated_at": iso(build_time(report.as_of)),
        "title": report.config.site.title,
        "base_url": report.config.site.base_url,
        "timezone": report.config.site.timezone,
        "as_of": iso(report.as_of),
        "current_cycle": cur.name,
        "cycles": [c.name for c in report.cycles],
        "features": report.features,
        "teams": report.teams,
        "events_counted": report.events_counted,
        "events_after_as_of": report.events_after_as_of,
        "quarantined_rows": report.quarantined,
        "quarantine_problems": report.quarantine_problems,
        "pages": pages,
        "slugs": {"features": a.feature_slugs, "teams": a.team_slugs},
        "alerts": len(a.alerts),
        "recommendations": len(a.recommendations),
        "downloads": {"focus": FOCUS_PATH},
        "schemas": schema_urls(),
    }


def plan_json(report: Report) -> dict[str, Any]:
    plan = report.plan
    return {
        "current_tier": plan.current_tier.name,
        "recommended_tier": plan.recommended_tier.name if plan.recommended_tier else None,
        "signal": plan.signal,
        "baseline": [c.name for c in plan.baseline],
        "average": plan.average,
        "peak": plan.peak,
        "growth_per_month": plan.growth_per_month,
        "projected": plan.projected,
        "required": plan.required,
        "indicators": plan.indicators,
        "exceeds_largest_tier": plan.exceeds_largest_tier,
        "decision": decision_json(report),
        "seasonal_index": report.analytics.seasonal_index,
        "money_view": money_view_json(report),
        "topup_price_per_credit": number(plan.topup_rate),
        "tiers": [
            {
                "name": tc.tier.name,
                "monthly_credits": number(tc.tier.monthly_credits),
                "monthly_price": number(tc.tier.monthly_price),
                "covers_required": tc.covers_required,
                "annual_topup_credits": number(tc.annual_topup_credits),
                "annual_cost": number(tc.annual_cost),
            }
            for tc in plan.tier_costs
        ],
    } | _tier_replay(report)


def decision_json(report: Report) -> dict[str, Any]:
    d = report.analytics.decision
    return {
        "action": d.action, "tier": d.tier.name, "switch_by": d.switch_by, "break_even_demand": d.break_even_demand,
        "topup_price_per_credit": d.topup_price_per_credit, "annual_cost": d.annual_cost,
    }


def money_view_json(report: Report) -> dict[str, Any]:
    """What the decision rests on, beside it (the `decision` object keeps exactly the spec's fields)."""
    d = report.analytics.decision
    return {"horizon_months": d.horizon_months, "basis": d.basis,
            "demand_path": [{"cycle": m.cycle, "demand": m.demand, "cost": m.cost, "cheapest": m.cheapest}
                            for m in d.path]}


def _tier_replay(report: Report) -> dict[str, Any]:
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


def month_json(report: Report, c: CycleFigures) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "cycle": c.name,
        "start": iso(c.cycle.start),
        "end": iso(c.cycle.end),
        "complete": c.complete,
        "current": c.current,
        "days": c.cycle.days,
        "tier": c.tier.name,
        "allocation": number(c.allocation),
        "topups": [{"date": iso(t.date), "credits": number(t.credits), "price": number(t.price)} for t in c.topups],
        "used": number(c.used),
        "remaining": number(c.remaining),
        "utilization": c.utilization,
        "expired": number(c.expired),
        "exhausted_on": iso(c.exhausted_on),
        "thresholds": {level_key(t): iso(d) for t, d in c.thresholds.items()},
        "daily_target": c.daily_target,
        "demand": c.demand,
        "price_per_credit": c.price_per_credit,
        "cost": number(c.price),
        "events": c.events,
        "by_feature": {k: number(v) for k, v in c.by_feature.items()},
        "by_team": {k: number(v) for k, v in c.by_team.items()},
        "daily": [{"date": iso(d), "credits": number(v)} for d, v in c.daily],
    }
    if c.pace is not None:
        doc |= {
            "burn_rate": c.pace.burn_rate,
            "burn_window_length_days": c.pace.window_days,
            "days_left": c.pace.days_left,
            "projected_used": c.pace.projected_used,
            "consumption_warning": c.pace.consumption_warning,
            "projected_exhaustion": iso(c.pace.projected_exhaustion),
        }
        now = report.analytics.now
        if now is not None:
            doc |= {
                "sustainable_daily_rate": now.sustainable_daily_rate,
                "shortfall": now.shortfall,
                "shortfall_cost": now.shortfall_cost,
                "projected_unused": now.projected_unused,
                "state": now.state,
                "state_level": now.level,
            }
    return doc | _month_analytics(report, c)


def _month_analytics(report: Report, c: CycleFigures) -> dict[str, Any]:
    """Forecast, weekly review, budgets, chargeback, spikes, growth, efficiency, ROI, alerts, findings."""
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
    return {"hourly_rate": r.hourly_rate, "hours_saved": r.hours_saved, "value": r.value, "cost": r.cost,
            "cost_of_used": r.cost_of_used, "net": r.net,
            "ratio": r.ratio, "by_operation": [{"key": x.key, "events": x.events, "minutes_saved": x.minutes_saved,
                                                "value": x.value} for x in r.lines]}


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
        "id": r.id, "kind": r.kind, "category": r.category, "title": r.title, "scope": r.scope,
        "estimated_monthly_savings": r.estimated_monthly_savings,
        "estimated_monthly_savings_money": r.monthly_money, "credits_at_stake": r.credits_at_stake,
        "evidence": r.evidence, "rank": rank, "summary": r.summary, "guide": r.guide,
    }


def data_quality_json(dq: DataQuality) -> dict[str, Any]:
    return {
        "rows_read": dq.rows_read,
        "counted": dq.counted,
        "duplicates": dq.duplicates,
        "quarantined": dq.quarantined,
        "events_after_as_of": dq.events_after_as_of,
        "files": [{"file": f.shown, "rows": f.rows, "counted": f.counted, "duplicate": f.duplicate,
                   "quarantined": f.quarantined} for f in dq.files],
        "quarantined_rows": [{"file": p.file, p.unit: p.line, "column": p.where, "reason": p.reason,
                              "event_id": p.event_id} for p in dq.problems],
        "unknown_names": [{"feature": u.feature, "operation": u.operation, "events": u.events,
                           "credits": number(u.credits), "why": u.why} for u in dq.unknown],
        "usual_weekdays": [("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[w] for w in dq.usual_weekdays],
        "missing_export_gaps": [{"first": iso(g.first), "last": iso(g.last), "days": g.days, "workdays": g.workdays}
                                for g in dq.gaps],
    }


def api_documents(report: Report, pages: list[str], scopes: ScopeDocuments | None = None) -> dict[str, Any]:
    """Path (relative to the site root) → JSON document, each built once (`scopes`: shared with the pages)."""
    scopes = scopes or ScopeDocuments(report)
    a = report.analytics
    docs: dict[str, Any] = {"api/site.json": site_json(report, pages), "api/plan.json": plan_json(report)}
    for c in report.cycles:
        docs[f"api/months/{c.name}.json"] = month_json(report, c)
    docs["api/alerts.json"] = [alert_json(al) for al in a.alerts]
    docs["api/recommendations.json"] = [recommendation_json(r, i + 1) for i, r in enumerate(a.recommendations)]
    for feature, slug in a.feature_slugs.items():
        docs[f"api/features/{slug}.json"] = scopes.feature(feature)
    for team, slug in a.team_slugs.items():
        docs[f"api/teams/{slug}.json"] = scopes.team(team)
    docs["api/data-quality.json"] = data_quality_json(report.data_quality)
    for name, schema in schemas().items():
        docs[schema_path(name)] = schema
    docs["api/schema/index.json"] = schema_index()
    return docs
