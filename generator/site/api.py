"""Stage 5a: the machine-readable API (SPEC §4) — exactly the spec's field names.

Every figure a page shows comes from these documents' source, the report model.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from typing import Any

from generator.model.cycle_report import CycleFigures
from generator.model.data_quality import DataQuality
from generator.model.tier_plan import Plan
from generator.report.model import Report

API_VERSION = 1


def number(value: Decimal | float | int | None) -> float | int | None:
    """Credits as JSON numbers: integral values as integers, the rest as floats."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def level_key(level: float) -> str:
    """Notify levels as decimals: 0.5 → "0.5", 1 → "1.0"."""
    return repr(float(level))


def month_json(c: CycleFigures) -> dict[str, Any]:
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
    return doc


def plan_json(plan: Plan) -> dict[str, Any]:
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
    }


def build_time(report: Report) -> dt.datetime:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else the data's as_of: never the wall clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return report.as_of


def site_json(report: Report, pages: list[str]) -> dict[str, Any]:
    cur = report.current
    return {
        "api_version": API_VERSION,
        "generated_at": iso(build_time(report)),
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
        "pages": pages,
    }


def api_documents(report: Report, pages: list[str]) -> dict[str, Any]:
    """Path (relative to the site root) → JSON document."""
    docs: dict[str, Any] = {"api/site.json": site_json(report, pages), "api/plan.json": plan_json(report.plan)}
    for c in report.cycles:
        docs[f"api/months/{c.name}.json"] = month_json(c)
    if report.analytics is not None:
        from generator.site.api_analytics import extend_documents  # it imports this module's helpers

        docs = extend_documents(report, docs)
    if report.data_quality is not None:
        docs["api/data-quality.json"] = data_quality_json(report.data_quality)
    return docs


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


def dumps(doc: Any) -> str:
    # Compact: with `indent` Python's encoder runs in pure Python, 5× slower on a large site's team
    # documents. Pipe through `jq .` (or open in a browser) to read one.
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
