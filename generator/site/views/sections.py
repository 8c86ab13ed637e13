"""The site-wide pages: overview, plan, recommendations and data quality (their charts, tables and lists)."""

from __future__ import annotations

import math
from typing import Any

from generator import formatting as fmt
from generator.report.model import Report
from generator.site.tables import Link, Table, table
from generator.site.views.alert_lines import alert_lines
from generator.site.views.charts import cumulative_chart, cycles_by_feature_chart, demand_path_chart, utilization_chart
from generator.site.views.lead import state_sentence, top_saving_sentence, verdict_sentence
from generator.site.views.month import scope_link

OVERVIEW_ALERTS = 5  # the rest are on the month page
OVERVIEW_RECOMMENDATIONS = 3
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
          "December")


def cycles_table(report: Report) -> Table:
    rows = [[Link(c.name, f"months/{c.name}/index.html"), "current" if c.current else "complete", c.tier.name,
             c.allocation, c.used, c.utilization, c.exhausted_on, c.expired, c.price] for c in reversed(report.cycles)]
    return table("cycles.csv", "Every billing cycle reported, newest first",
                 [("cycle", "Cycle"), ("status", "Status"), ("tier", "Tier"), ("allocation", "Allocation", "credits"),
                  ("used", "Used", "credits"), ("utilization", "Utilization", "pct"), ("exhausted_on", "Ran out on", "date"),
                  ("expired", "Expired unused", "credits"), ("cost", "Cost", "money")], rows,
                 note="Expired: what a complete cycle left unused at its reset (credits do not roll over). "
                      "Cost: the tier's price plus the cycle's top-ups.")


def overview_context(report: Report) -> dict[str, Any]:
    a = report.analytics
    cur = report.current
    dq = report.data_quality
    lines = alert_lines(report.config, a.alerts_of(cur.name))
    practice = [r for r in a.recommendations if r.category == "practice"]
    out: dict[str, Any] = {
        "charts": {"cumulative": cumulative_chart(report, cur), "by_feature": cycles_by_feature_chart(report)},
        "tables": {"cycles": cycles_table(report)},
        "quarantined": dq.quarantined,
        "alerts": lines[:OVERVIEW_ALERTS], "more_alerts": max(0, len(lines) - OVERVIEW_ALERTS),
        "recommendations": practice[:OVERVIEW_RECOMMENDATIONS],
        "recommendations_total": len(a.recommendations),
        "forecast": a.forecast, "now": a.now, "decision": a.decision,
        "state": state_sentence(report), "verdict": verdict_sentence(report), "top_saving": top_saving_sentence(report),
    }
    return out


def plan_context(report: Report) -> dict[str, Any]:
    plan = report.plan
    chosen = plan.recommended_tier.name if plan.recommended_tier else None
    tables: dict[str, Table] = {}
    if plan.tier_costs:
        tables["tiers"] = table(
            "plan/tiers.csv", f"What each tier would cost a year for {plan.required:,.0f} credits a month",
            [("tier", "Tier"), ("monthly_credits", "Credits a month", "credits"), ("monthly_price", "Price a month", "money"),
             ("covers_required", "Covers the required level", "bool"),
             ("annual_topup_credits", "Top-up credits a year", "credits"), ("annual_cost", "Annual cost", "money")],
            [[tc.tier.name, tc.tier.monthly_credits, tc.tier.monthly_price, tc.covers_required, tc.annual_topup_credits,
              tc.annual_cost] for tc in plan.tier_costs],
            row_classes=tuple("chosen" if tc.tier.name == chosen else "" for tc in plan.tier_costs),
            note=("Tiers short of the required level are topped up at the observed price per top-up credit."
                  if plan.topup_rate is not None else
                  "No top-ups were bought, so tiers short of the required level show their price alone."))
    replay = report.analytics.replay
    if replay:
        tables["replay"] = table(
            "plan/tier-replay.csv", f"Every tier replayed against the demand of {', '.join(c.cycle for c in replay[0].cycles)}",
            [("tier", "Tier"), ("monthly_credits", "Credits a month", "credits"), ("current", "Current tier", "bool"),
             ("cycles_ran_out", "Cycles it runs out", "int"), ("expired", "Credits expiring", "credits"),
             ("topup_credits", "Top-up credits needed", "credits"), ("annual_cost", "Annual cost", "money")],
            [[r.tier.name, r.tier.monthly_credits, r.current, r.ran_out, r.expired, r.topup_credits,
              r.annual_cost if r.topups_priced else None] for r in replay],
            row_classes=tuple("chosen" if r.tier.name == chosen else "" for r in replay),
            note="Each complete cycle's demand played against each tier: what runs short is bought as top-ups at the "
                 "observed price, what is left over expires. Annual cost scales the replayed cycles to 12 months "
                 "(— : top-ups needed but none bought yet, so no price is known).")
    d = report.analytics.decision
    cur = report.config.site.currency
    if d.path:
        tables["money"] = table(
            "plan/money-view.csv", f"What each tier would cost over the next {d.horizon_months} months of expected demand",
            [("tier", "Tier"), ("monthly_credits", "Credits a month", "credits"), ("monthly_price", "Price a month", "money"),
             ("annual_cost", f"Cost over {d.horizon_months} months", "money")],
            [[t.name, t.monthly_credits, t.monthly_price, d.annual_cost[t.name]] for t in report.config.tiers],
            row_classes=tuple("chosen" if t.name == d.tier.name else "" for t in report.config.tiers),
            note=(f"Demand grows from {fmt.approx(d.path[0].demand)} to {fmt.approx(d.path[-1].demand)} credits a month; "
                  + (f"what a tier lacks is bought as top-ups at {fmt.money(d.topup_price_per_credit * 1000, cur)} per "
                     f"1,000 credits." if d.topup_price_per_credit is not None else
                     "no top-up price is known, so a tier that falls short in any month has no cost (—).")))
    seasonal = report.analytics.seasonal_index
    if seasonal:
        tables["seasonal"] = table(
            "plan/seasonal-index.csv", "Seasonal index: each calendar month's demand against the trend",
            [("month", "Month"), ("index", "Index", "rate"), ("against_trend", "Against the trend", "signed_pct")],
            [[MONTHS[int(k) - 1], v, v - 1] for k, v in seasonal.items()],
            note="1.00 is the trend line of demand; 1.20 means that month usually runs 20% above it.")
    charts = {"utilization": utilization_chart(report)}
    if d.path:
        charts["demand_path"] = demand_path_chart(report)
    return {"charts": charts, "tables": tables, "verdict": verdict_sentence(report), "decision": d,
            "seasonal_from": report.analytics.seasonal_from}


def recommendations_context(report: Report, guide_urls: set[str]) -> dict[str, Any]:
    a = report.analytics
    recs = a.recommendations if a else []
    rows = [[i + 1, Link(r.title, f"recommendations/index.html#{r.id}"), r.category, scope_link(report, r.scope),
             r.estimated_monthly_savings, r.monthly_money, r.credits_at_stake] for i, r in enumerate(recs)]
    tables = {"ranked": table(
        "recommendations/recommendations.csv", "Recommendations: practices by credits saved, then plan and timing",
        [("rank", "Rank", "int"), ("title", "Recommendation"), ("category", "Category"), ("scope", "Scope"),
         ("estimated_monthly_savings", "Credits saved a month", "credits"),
         ("estimated_monthly_savings_money", "Money saved a month", "money"),
         ("credits_at_stake", "Credits at stake a month", "credits")], rows, row_header=False,
        note="Money is shown for a credit saving only where it avoids buying top-ups. Timing items save nothing: "
             "they put credits to use that would otherwise expire or run out.")}
    per_cycle: dict[str, Table] = {}
    for r in recs:
        if r.per_cycle:
            per_cycle[r.id] = table(
                f"recommendations/{r.id.replace(':', '_')}.csv", f"{r.title}: the findings per baseline cycle",
                [("cycle", "Cycle"), ("savings", "Could have saved", "credits"),
                 ("cited_credits", "Credits looked at", "credits"), ("cited_events", "Events looked at", "int")],
                [[Link(name, f"months/{name}/index.html"), f.savings, f.cited_credits, f.cited_events]
                 for name, f in sorted(r.per_cycle.items())])
    guides = {r.id: r.guide for r in recs if r.guide.split("#")[0] in guide_urls}
    groups = [(title, [r for r in recs if r.category == cat]) for cat, title in
              (("practice", "Changes of practice"), ("plan", "Changes of plan"), ("timing", "Timing"))]
    return {"recs": recs, "groups": [(t, rs) for t, rs in groups if rs], "tables": tables, "per_cycle": per_cycle,
            "guides": guides, "min_savings": report.config.recommendations.min_monthly_savings,
            "follow_ups": {r.id: follow_up_text(r.follow_up) for r in recs if r.follow_up is not None}}


def follow_up_text(f: Any) -> str:
    """"regenerations: 1,301 → 1,105 credits, −15%" (the change from the values as shown)."""
    before, after = math.floor(f.before + 0.5), math.floor(f.after + 0.5)  # half up, as people round
    change = f", {fmt.signed_pct((after - before) / before)}" if before else ""
    return (f"Since the advice for {f.advised_in}: {f.what} {fmt.credits(before)} → {fmt.credits(after)} credits in "
            f"{f.followed_in}{change}.")


def data_quality_context(report: Report) -> dict[str, Any]:
    dq = report.data_quality
    files = dq.files
    tables = {"files": table(
        "data-quality/files.csv", "Rows read from each export",
        [("file", "Export"), ("rows", "Rows read", "int"), ("counted", "Counted", "int"),
         ("duplicate", "Duplicates merged", "int"), ("quarantined", "Left out", "int")],
        [[f.shown, f.rows, f.counted, f.duplicate, f.quarantined] for f in files],
        note="Rows read = counted + duplicates merged + left out. A duplicate is a row whose event_id and content "
             "were already counted from another row (overlapping exports).")}
    out: dict[str, Any] = {"dq": dq, "files": files, "warnings": report.warnings}
    tables["quarantined"] = table(
        "data-quality/quarantined.csv", "Rows left out (quarantined)",
        [("file", "Export"), ("line", "Line or row"), ("column", "Column"), ("reason", "Reason"), ("event_id", "event_id")],
        [[p.file, p.line if p.unit == "line" else f"{p.unit} {p.line}", p.where, p.reason, p.event_id]
         for p in dq.problems])
    tables["unknown"] = table(
        "data-quality/unknown-names.csv", "Features and operations the spec does not know",
        [("feature", "Feature"), ("operation", "Operation"), ("events", "Events", "int"), ("credits", "Credits", "credits"),
         ("why", "Why listed")],
        [[u.feature, u.operation, u.events, u.credits, u.why] for u in dq.unknown],
        note="They are counted and reported under their own names.")
    tables["gaps"] = table(
        "data-quality/gaps.csv", "Days without a single event (an export may be missing)",
        [("first", "From", "date"), ("last", "To", "date"), ("days", "Days", "int"),
         ("workdays", "Usual working days in it", "int")],
        [[g.first, g.last, g.days, g.workdays] for g in dq.gaps])
    out["weekdays"] = ", ".join(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[d]
                                for d in dq.usual_weekdays)
    out["tables"] = {k: t for k, t in tables.items() if t.rows}
    return out
