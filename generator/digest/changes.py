"""The digest as data: what is new in the current build's JSON API compared with a baseline.

Everything comes from the two sets of API documents (never the clock), so the same build and the same
baseline always give the same digest. New means:
- an alert whose id the baseline did not have, or whose level changed (projected alerts keep their id
  and are updated in place); with a date baseline, an alert raised on or after that date;
- a notify level whose crossing date is set now and was not in the baseline (or falls on or after the
  date);
- a decision (api/plan.json `decision`: action and tier; before it exists, the signal and the
  recommended tier) different from the baseline's.
The current cycle's figures and action, and the top three recommendations, are always included: they
are what a reader acts on; without a baseline (nothing published yet) the alerts and crossings of the
current cycle are listed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from generator.digest.baseline import Baseline

LEVEL_ORDER = {"critical": 0, "warning": 1, "info": 2}


def link(base_url: str, rel: str) -> str:
    base = base_url if base_url.endswith("/") else base_url + "/"
    return base + quote(rel, safe="/#:@-._~")


def _alerts(now: dict[str, Any], baseline: Baseline, current_cycle: str) -> list[dict[str, Any]]:
    alerts = [a for a in now.get("api/alerts.json", []) if isinstance(a, dict)]
    if baseline.kind == "release":
        before = {a.get("id"): a.get("level") for a in baseline.docs.get("api/alerts.json", []) if isinstance(a, dict)}
        new = [a for a in alerts if a.get("id") not in before or before[a["id"]] != a.get("level")]
    elif baseline.kind == "date":
        day = baseline.date.isoformat()
        new = [a for a in alerts if (a.get("raised_on") or a.get("date") or "") >= day]
    else:
        new = [a for a in alerts if a.get("cycle") == current_cycle]
    return sorted(new, key=lambda a: (LEVEL_ORDER.get(a.get("level"), 3), a.get("date") or "", a.get("id")))


def _crossings(now: dict[str, Any], baseline: Baseline, current_cycle: str) -> list[dict[str, Any]]:
    out = []
    for rel, doc in sorted(now.items()):
        if not rel.startswith("api/months/") or not isinstance(doc, dict):
            continue
        cycle = doc.get("cycle")
        was = (baseline.docs.get(rel) or {}).get("thresholds") or {}
        for level, day in sorted((doc.get("thresholds") or {}).items(), key=lambda kv: float(kv[0])):
            if day is None:
                continue
            if baseline.kind == "release" and was.get(level) == day:
                continue
            if baseline.kind == "date" and day < baseline.date.isoformat():
                continue
            if baseline.kind == "none" and cycle != current_cycle:
                continue
            out.append({"cycle": cycle, "level": level, "date": day})
    return out


def _decision(plan: dict[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(plan, dict):
        return None
    d = plan.get("decision")
    if isinstance(d, dict):
        return {"action": d.get("action"), "tier": d.get("tier"), "switch_by": d.get("switch_by"),
                "current_tier": plan.get("current_tier")}
    return {"signal": plan.get("signal"), "recommended_tier": plan.get("recommended_tier"),
            "current_tier": plan.get("current_tier")}


def _same_decision(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    if a is None or b is None:
        return True  # nothing to compare with: not a change
    keys = ("action", "tier", "switch_by") if "action" in a and "action" in b else ("signal", "recommended_tier")
    return all(a.get(k) == b.get(k) for k in keys)


def _this_cycle(month: dict[str, Any]) -> dict[str, Any]:
    allocation, used = month.get("allocation") or 0, month.get("used") or 0
    remaining = month.get("remaining", allocation - used)
    days_left = month.get("days_left")
    projected = month.get("projected_used")
    rate = month.get("sustainable_daily_rate")
    if rate is None and days_left:
        rate = max(0, remaining) / days_left
    shortfall = month.get("shortfall")
    if shortfall is None and projected is not None:
        shortfall = max(0.0, projected - allocation)
    unused = month.get("projected_unused")
    if unused is None and projected is not None:
        unused = max(0.0, allocation - projected)
    return {"cycle": month.get("cycle"), "used": used, "allocation": allocation, "remaining": remaining,
            "utilization": month.get("utilization"), "days_left": days_left, "burn_rate": month.get("burn_rate"),
            "projected_used": projected, "projected_exhaustion": month.get("projected_exhaustion"),
            "exhausted_on": month.get("exhausted_on"), "sustainable_daily_rate": rate, "shortfall": shortfall,
            "shortfall_cost": month.get("shortfall_cost"), "projected_unused": unused}


def digest(now: dict[str, Any], baseline: Baseline) -> dict[str, Any]:
    site = now.get("api/site.json") or {}
    base_url = site.get("base_url") or ""
    current = site.get("current_cycle")
    month = now.get(f"api/months/{current}.json") or {}
    alerts = [{"id": a.get("id"), "kind": a.get("kind"), "level": a.get("level"), "cycle": a.get("cycle"),
               "date": a.get("date"), "title": a.get("title"),
               "url": link(base_url, f"months/{a.get('cycle')}/#alert-{a.get('id')}")}
              for a in _alerts(now, baseline, current)]
    crossings = [c | {"url": link(base_url, f"months/{c['cycle']}/")} for c in _crossings(now, baseline, current)]
    was = _decision(baseline.docs.get("api/plan.json")) if baseline.kind == "release" else None
    decision = _decision(now.get("api/plan.json"))
    changed = not _same_decision(was, decision)
    recs = [{"id": r.get("id"), "title": r.get("title"), "category": r.get("category"),
             "estimated_monthly_savings": r.get("estimated_monthly_savings"),
             "estimated_monthly_savings_money": r.get("estimated_monthly_savings_money",
                                                       r.get("monthly_money_saved")),
             "credits_at_stake": r.get("credits_at_stake"), "url": link(base_url, f"recommendations/#{r.get('id')}")}
            for r in (now.get("api/recommendations.json") or [])[:3] if isinstance(r, dict)]
    since: dict[str, Any] = {"kind": baseline.kind, "release": baseline.release,
                             "date": baseline.date.isoformat() if baseline.date else None,
                             "as_of": (baseline.docs.get("api/site.json") or {}).get("as_of")}
    return {
        "title": site.get("title"), "as_of": site.get("as_of"), "since": since,
        "nothing_new": baseline.kind != "none" and not alerts and not crossings and not changed,
        "new_alerts": alerts, "thresholds_crossed": crossings,
        "decision": {"changed": changed, "before": was, "now": decision, "url": link(base_url, "plan/")},
        "this_cycle": _this_cycle(month) | {"url": link(base_url, f"months/{current}/")},
        "recommendations": recs, "recommendations_url": link(base_url, "recommendations/"),
    }
