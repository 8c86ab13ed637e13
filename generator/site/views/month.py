"""The month page of each billing cycle: its charts, tables and lists, prepared from the report model.

Everything a month page shows is computed here or earlier (shares of the cycle's used, the rows of
each table); the template only lays it out.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from generator import formatting as fmt
from generator.analytics.recommendations import category_of
from generator.analytics.trends import Growth
from generator.model.cycle_report import CycleFigures
from generator.report.model import Report
from generator.site.tables import Link, Table, table
from generator.site.views.charts import cumulative_chart, daily_chart, month_name

ZERO = Decimal(0)


def share(part: Decimal | float | None, whole: Decimal | float | None) -> float | None:
    return float(part) / float(whole) if part is not None and whole else None


def feature_link(report: Report, name: str) -> Link | str:
    slug = report.analytics.feature_slugs.get(name)
    label = report.config.feature_label(name)
    return Link(label, f"features/{slug}/index.html", raw=name) if slug else label


def team_link(report: Report, name: str) -> Link | str:
    slug = report.analytics.team_slugs.get(name)
    label = report.config.team_label(name)
    return Link(label, f"teams/{slug}/index.html", raw=name) if slug else label


def scope_link(report: Report, scope: str) -> Link | str:
    if scope.startswith("feature:"):
        return feature_link(report, scope.split(":", 1)[1])
    if scope.startswith("team:"):
        return team_link(report, scope.split(":", 1)[1])
    return report.config.scope_label(scope)


def growth_line(g: Growth | None) -> str | None:
    """Growth against the previous cycle and a year earlier, the differences worked out from the figures shown."""
    if g is None or not g.previous_cycle:
        return None
    projected = g.basis == "projected_used"
    shown = float(fmt.approx(g.value).replace(",", "").replace(fmt.MINUS, "-")) if projected else float(g.value)

    def against(other: float, name: str, tail: str = "") -> str:
        diff = shown - float(other)
        ratio = f" ({fmt.signed_pct(round(diff / float(other), 3))})" if other else ""
        return f"{fmt.signed_credits(round(diff, 1))} credits{ratio} against {name}{tail} ({fmt.credits(other)})"

    head = f"On pace for {fmt.approx(g.value)} credits" if projected else f"{fmt.credits(g.value)} credits used"
    parts = [against(g.previous_used, g.previous_cycle)]
    if g.last_year_cycle:
        parts.append(against(g.last_year_used, g.last_year_cycle, " a year earlier"))
    return f"{head}: {', '.join(parts)}."


def seasonal_note(report: Report, c: CycleFigures) -> str | None:
    """The cycle against the same calendar month's seasonal index, or when that comparison will appear."""
    a = report.analytics
    if a.seasonal_index is None:
        return (f"A comparison with the same month a year earlier and its usual seasonal level appears once 13 cycles "
                f"are complete, after the {a.seasonal_from} cycle." if a.seasonal_from else None)
    index = a.seasonal_index.get(f"{c.cycle.start_date.month:02d}")
    if index is None:
        return None
    return (f"{c.cycle.start_date:%B} usually runs {fmt.signed_pct(index - 1)} against the trend of demand "
            f"(seasonal index {index:.2f}).")


def month_context(report: Report, c: CycleFigures) -> dict[str, Any]:
    prev, nxt = report.neighbours(c)
    out: dict[str, Any] = {"c": c, "prev": prev, "next": nxt, "month": month_name(c),
                           "price_per_thousand": c.price_per_credit * 1000,
                           "expired_value": float(c.expired) * c.price_per_credit if c.expired is not None else None,
                           "charts": {"daily": daily_chart(report, c), "cumulative": cumulative_chart(report, c)}}
    tables: dict[str, Table] = {"thresholds": thresholds_table(c)}
    a = report.analytics
    budgets = {line.scope: line for line in a.budgets.get(c.name, [])}
    tables["features"] = breakdown_table(report, c, "feature", c.by_feature, budgets)
    tables["teams"] = breakdown_table(report, c, "team", c.by_team, budgets)
    out |= {"alerts": a.alerts_of(c.name), "forecast": a.forecast if c.current else None,
            "growth": a.growth.get(c.name), "roi": a.roi.get(c.name), "seasonal": seasonal_note(report, c),
            "now": a.now if c.current else None, "cost": c.price,
            "growth_line": growth_line(a.growth.get(c.name))}
    tables["weekly"] = weekly_table(report, c)
    tables["budgets"] = budget_table(report, c)
    tables["chargeback"] = chargeback_table(report, c)
    tables["recommendations"] = findings_table(report, c)
    if c.name in a.roi:
        tables["roi"] = roi_table(report, c)
    out["tables"] = {k: t for k, t in tables.items() if t is not None}
    return out


def thresholds_table(c: CycleFigures) -> Table:
    return table(f"months/{c.name}/thresholds.csv", "Notify levels crossed",
                 [("level", "Level", "pct"), ("credits", "Credits", "credits"), ("crossed_on", "Crossed on", "date")],
                 [[t, c.threshold_credits[t], d] for t, d in c.thresholds.items()],
                 note="— : not reached.")


def breakdown_table(report: Report, c: CycleFigures, kind: str, sums: dict[str, Decimal], budgets: dict) -> Table:
    link = feature_link if kind == "feature" else team_link
    names = sorted(sums, key=lambda n: (-sums[n], n))
    rows = []
    for name in names:
        line = budgets.get(f"{kind}:{name}")
        rows.append([link(report, name), sums[name], share(sums[name], c.used),
                     line.budget if line else None, line.variance if line else None])
    plural = "features" if kind == "feature" else "teams"
    return table(f"months/{c.name}/{plural}.csv", f"Credits by {kind}",
                 [(kind, kind.capitalize()), ("credits", "Credits", "credits"), ("share_of_used", "Share", "pct"),
                  ("budget", "Budget", "credits"), ("variance", "Over (+) / under (−)", "signed")], rows)


def weekly_table(report: Report, c: CycleFigures) -> Table:
    rows = []
    for wk in report.analytics.weekly[c.name]:
        rows.append([f"{wk.year}-W{wk.week:02d}", wk.first, wk.last, wk.days, wk.credits, wk.target, wk.variance,
                     feature_link(report, wk.top_feature) if wk.top_feature else None,
                     team_link(report, wk.top_team) if wk.top_team else None, len(wk.alerts)])
    return table(f"months/{c.name}/weekly.csv", "Weekly review: ISO weeks (Monday to Sunday) inside the cycle",
                 [("week", "Week"), ("first", "From", "date"), ("last", "To", "date"), ("days", "Days", "int"),
                  ("credits", "Credits", "credits"), ("target", "Target", "credits"),
                  ("variance", "Over (+) / under (−) target", "signed"), ("top_feature", "Top feature"),
                  ("top_team", "Top team"), ("alerts", "Alerts", "int")], rows,
                 note="Target: the daily target times the week's days inside the cycle."
                      + (" Weeks after the data's as-of day are not shown yet." if c.current else ""))


def budget_table(report: Report, c: CycleFigures) -> Table | None:
    lines = report.analytics.budgets.get(c.name, [])
    if not lines:
        return None
    current = c.pace is not None
    cols = [("scope", "Feature or team"), ("scope_type", "Kind"), ("budget", "Budget", "credits"),
            ("actual", "Actual", "credits"), ("variance", "Over (+) / under (−)", "signed"),
            ("used_share", "Of budget", "pct"), ("over_on", "Went over on", "date")]
    if current:
        cols += [("projected", "Projected demand", "credits"), ("projected_over_on", "Projected to go over", "date")]
    rows = []
    for b in lines:
        row = [scope_link(report, b.scope), b.scope_type, b.budget, b.actual, b.variance, b.used_share, b.over_on]
        if current:
            row += [b.projected, b.projected_over_on]
        rows.append(row)
    return table(f"months/{c.name}/budgets.csv", "Budgets and actual credits by feature and team", cols, rows,
                 note="Budgets are the planned credits of each feature and team per cycle."
                      + (" Projected: actual plus the scope's own burn rate times the days left." if current else ""))


def chargeback_table(report: Report, c: CycleFigures) -> Table:
    rows = [[team_link(report, t.team), t.credits, t.share, t.cost, t.expired_credits, t.expired_cost]
            for t in report.analytics.chargeback[c.name]]
    return table(f"months/{c.name}/chargeback.csv", "Cost and expired credits by team",
                 [("team", "Team"), ("credits", "Credits", "credits"), ("share", "Share of used", "pct"),
                  ("cost", "Share of the price", "money"), ("expired_credits", "Share of expired credits", "credits"),
                  ("expired_cost", "Their cost", "money")], rows,
                 note="Each team carries its share of the cycle's price (tier plus top-ups) and, once the cycle is "
                      "complete, the same share of the credits that expired unused.")


def findings_table(report: Report, c: CycleFigures) -> Table | None:
    a = report.analytics
    found = a.findings.get(c.name, {})
    if not found:
        return None
    ids = a.recommendation_ids()
    titles = {r.id: r.title for r in a.recommendations}
    rows = []
    for (kind, scope), f in sorted(found.items(), key=lambda kv: (-kv[1].savings, kv[0])):
        rid = ids.get((kind, scope))
        label = titles.get(rid) if rid else kind.replace("-", " ").capitalize()
        what = Link(label, f"recommendations/index.html#{rid}") if rid else label
        saved = f.savings if category_of(kind) == "practice" else None  # timing saves nothing: credits at stake
        rows.append([what, scope_link(report, scope), saved, f.cited_credits, f.cited_events])
    return table(f"months/{c.name}/recommendations.csv", "What this cycle's usage suggests",
                 [("recommendation", "Recommendation"), ("scope", "Scope"), ("savings", "Could have saved", "credits"),
                  ("cited_credits", "Credits looked at", "credits"), ("cited_events", "Events looked at", "int")], rows,
                 row_header=False, note="Estimates for this cycle alone; the recommendations page averages them over the "
                                        "last complete cycles. Estimates can overlap and are not meant to be added up. "
                                        "— : a matter of timing, which saves nothing.")


def roi_table(report: Report, c: CycleFigures) -> Table:
    r = report.analytics.roi[c.name]
    return table(f"months/{c.name}/roi.csv", "Time saved and its value, by operation",
                 [("operation", "Feature.operation"), ("events", "Events", "int"),
                  ("minutes_saved", "Minutes saved", "credits"), ("value", "Value", "money")],
                 [[x.key, x.events, x.minutes_saved, x.value] for x in r.lines],
                 note=f"Valued at {fmt.money(r.hourly_rate, report.config.site.currency)} an hour of work saved.")
