"""What each chart shows: its data (prepared here from the report model), title, text summary and table.

A `Chart` is plain data. chart_cache.py hashes `function` + `args` (plus the style and the code) to
find the SVG in the cache, and only draws the missing ones. Stack bases, projections and labels are
computed here, so charts.py only draws; the same numbers go into the chart's table, which the page
shows under the chart and writes as CSV.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from generator import formatting as fmt
from generator.model.cycle_report import CycleFigures
from generator.report.model import Report
from generator.site.tables import Table, table

MAX_SERIES = 6  # more stacked series than this are unreadable: the smallest are summed as "other"


@dataclass(frozen=True)
class Chart:
    path: str  # the SVG's place in the site
    function: str  # a drawing function of charts.py
    args: dict[str, Any]
    title: str
    alt: str  # what kind of chart it is; the summary and the table carry the numbers
    summary: str
    table: Table


def month_name(c: CycleFigures) -> str:
    return f"{c.cycle.start_date:%B %Y}"


def daily_chart(report: Report, c: CycleFigures) -> Chart:
    spikes = {s.day for s in report.analytics.spikes if s.cycle == c.name}
    shown = c.daily if c.pace is None else [(d, v) for d, v in c.daily if d <= c.pace.as_of_day]
    target = c.daily_target
    over = [d for d, v in shown if float(v) > target]
    busiest = max(shown, key=lambda dv: (dv[1], -dv[0].toordinal()), default=None)
    summary = (f"{len(over)} of the {len(shown)} days {'so far ' if c.pace else ''}used more than the daily target of "
               f"{fmt.credits(target)} credits.")
    if busiest is not None and busiest[1] > 0:
        summary += f" The busiest day was {fmt.day(busiest[0])} with {fmt.credits(busiest[1])} credits."
    if spikes:
        summary += f" {len(spikes)} spike day{'s are' if len(spikes) != 1 else ' is'} hatched."
    rows = [[d, v, target, d in spikes] for d, v in c.daily]
    title = f"Credits per day, {month_name(c)}"
    return Chart(
        f"months/{c.name}/daily.svg", "daily_bars",
        {"days": [d for d, _ in c.daily], "credits": [float(v) for _, v in c.daily],
         "highlighted": [float(v) if d in spikes else None for d, v in c.daily], "target": target,
         "today": c.pace.as_of_day if c.pace else None},
        title, f"Bar chart of the credits used each day of {month_name(c)}, with the daily target as a dashed line"
               + (" and today marked." if c.pace else "."),
        summary,
        table(f"months/{c.name}/daily.csv", f"Credits per day, {month_name(c)}",
              [("date", "Day", "date"), ("credits", "Credits", "credits"), ("daily_target", "Daily target", "credits"),
               ("spike", "Spike day", "bool")], rows))


def cumulative_chart(report: Report, c: CycleFigures) -> Chart:
    days = [d for d, _ in c.daily]
    pace = c.pace_line
    levels = [(fmt.pct(t), v) for t, v in c.threshold_credits.items()]
    projection = band = run_out = None
    band_label = ""
    name = month_name(c)
    forecast = report.analytics.forecast if c.current else None
    if c.exhausted_on is not None:
        run_out = (c.exhausted_on, f"ran out, {c.exhausted_on:%-d %b}")
    if c.pace is not None:
        p = c.pace
        projection = [(p.as_of_day, float(c.used)), (days[-1], p.projected_used)]
        if p.projected_exhaustion is not None and c.exhausted_on is None:
            run_out = (p.projected_exhaustion, f"projected run-out, {p.projected_exhaustion:%-d %b}")
        if forecast is not None:
            # the likely range widens from today's used to the forecast's bounds at the reset
            band = [(p.as_of_day, float(c.used), float(c.used)), (days[-1], forecast.low, forecast.high)]
            band_label = f"{fmt.pct(forecast.interval)} likely range"
        on_pace_today = pace[len(c.cumulative_to_date) - 1]
        summary = (f"By {fmt.day(p.as_of_day)} the cycle had used {fmt.credits(c.used)} of its {fmt.credits(c.allocation)} "
                   f"credits ({fmt.pct(c.utilization)}); even pace would be {fmt.credits(on_pace_today)} by then. At the "
                   f"burn rate of {fmt.credits(p.burn_rate)} credits a day it ends at about {fmt.approx(p.projected_used)} "
                   + (f"and runs out around {fmt.day(p.projected_exhaustion)}." if p.projected_exhaustion
                      else "credits, within its allocation."))
    else:
        crossed = [f"{fmt.pct(t)} on {fmt.day(d)}" for t, d in c.thresholds.items() if d is not None]
        summary = (f"The cycle used {fmt.credits(c.used)} of its {fmt.credits(c.allocation)} credits ({fmt.pct(c.utilization)})"
                   + (f"; it crossed {', '.join(crossed)}" if crossed else "")
                   + (f" and ran out on {fmt.day(c.exhausted_on)}." if c.exhausted_on else "."))
    cumulative = [float(v) for v in c.cumulative_to_date]
    rows = [[d, c.cumulative[i] if i < len(cumulative) else None, pace[i]] for i, d in enumerate(days)]
    title = f"Cumulative credits against even pace, {name}"
    return Chart(
        f"months/{c.name}/cumulative.svg", "cumulative_vs_pace",
        {"days": days, "cumulative": cumulative, "pace": pace, "allocation": float(c.allocation),
         "thresholds": levels, "projection": projection, "band": band, "band_label": band_label,
         "today": c.pace.as_of_day if c.pace else None, "run_out": run_out},
        title, f"Line chart of the credits used so far in {name} against an even pace that reaches the allocation on "
               "the last day, with the allocation and the notify levels as horizontal lines"
               + (", the projection at the burn rate" if projection else "")
               + (f" with its {fmt.pct(forecast.interval)} likely range" if band and forecast else "")
               + (", today" if c.pace else "") + (" and the run-out day" if run_out else "") + " marked.",
        summary,
        table(f"months/{c.name}/cumulative.csv", f"Cumulative credits, {name}",
              [("date", "Day", "date"), ("cumulative", "Used so far", "credits"), ("even_pace", "Even pace", "credits")],
              rows, note=f"Allocation {fmt.credits(c.allocation)} credits; notify levels at "
                         + ", ".join(f"{label} ({fmt.credits(v)})" for label, v in levels) + "."))


def stack(names: list[str], per_cycle: list[dict[str, float]]) -> list[dict[str, Any]]:
    """Series for stacked bars: the largest MAX_SERIES − 1 names by total, the rest as "other"."""
    totals = {n: sum(d.get(n, 0.0) for d in per_cycle) for n in names}
    ranked = sorted(names, key=lambda n: (-totals[n], n))
    keep = sorted(ranked if len(ranked) <= MAX_SERIES else ranked[: MAX_SERIES - 1])
    rest = [n for n in names if n not in keep]
    series = [(n, [d.get(n, 0.0) for d in per_cycle]) for n in keep]
    if rest:
        series.append(("other", [sum(d.get(n, 0.0) for n in rest) for d in per_cycle]))
    # Positive segments stack up from 0, negative ones (refunds) down from 0.
    out, up, down = [], [0.0] * len(per_cycle), [0.0] * len(per_cycle)
    for label, values in series:
        bottoms = [u if v >= 0 else d for u, d, v in zip(up, down, values, strict=True)]
        out.append({"label": label, "values": values, "bottoms": bottoms})
        up = [u + max(v, 0.0) for u, v in zip(up, values, strict=True)]
        down = [d + min(v, 0.0) for d, v in zip(down, values, strict=True)]
    return out


def demand_path_chart(report: Report) -> Chart:
    """The decision's demand path D(m) per coming cycle, the current tier's credits and the break-even demand."""
    d = report.analytics.decision
    cycles = [m.cycle for m in d.path]
    demand = [m.demand for m in d.path]
    series = [{"label": "expected demand", "values": demand, "bottoms": [0.0] * len(demand)}]
    credits = float(d.current.monthly_credits)
    line = {"label": f"{d.current.name} credits ({fmt.credits(credits)})", "value": credits}
    z = d.break_even_demand
    markers = {"label": f"break-even ({fmt.approx(z)})", "values": [z] * len(cycles)} if z is not None else None
    title = f"Expected demand over the next {d.horizon_months} cycles"
    above = [m.cycle for m in d.path if m.demand > credits]
    summary = (f"Demand is expected to go from {fmt.approx(demand[0])} credits in {cycles[0]} to {fmt.approx(demand[-1])} "
               f"in {cycles[-1]}; it is above {d.current.name}'s {fmt.credits(credits)} credits in {len(above)} of "
               f"{len(cycles)} cycles" + (f", and above the break-even demand of {fmt.approx(z)} from "
                                          f"{next((m.cycle for m in d.path if m.demand > z), '—')}." if z else "."))
    rows = [[m.cycle, m.demand, m.cheapest, m.cost.get(d.current.name), m.cost.get(d.tier.name) if d.tier != d.current
             else None] for m in d.path]
    return Chart(
        "plan/demand-path.svg", "stacked_cycle_bars",
        {"cycles": cycles, "series": series, "markers": markers, "line": line, "ylabel": "credits"},
        title, "Bar chart of the demand expected in each coming billing cycle, with the current tier's credits as a "
               "dashed line" + (" and the break-even demand marked." if markers else "."), summary,
        table("plan/demand-path.csv", "Expected demand and cost per coming cycle",
              [("cycle", "Cycle"), ("demand", "Expected demand", "credits"), ("cheapest", "Cheapest tier"),
               ("current_cost", f"Cost on {d.current.name}", "money"),
               ("tier_cost", f"Cost on {d.tier.name}" if d.tier != d.current else "Cost on the new tier", "money")],
              rows))


def cycles_by_feature_chart(report: Report) -> Chart:
    cycles = report.cycles
    label = report.config.feature_label
    per = [{label(k): float(v) for k, v in c.by_feature.items()} for c in cycles]
    series = stack(sorted({label(f) for f in report.features}), per)
    cur = report.current
    summary = (f"{len(cycles)} billing cycle{'s' if len(cycles) != 1 else ''} from {cycles[0].name} to {cycles[-1].name}. "
               f"The busiest was {max(cycles, key=lambda c: (c.used, c.name)).name}; "
               f"{sum(c.exhausted_on is not None for c in cycles)} ran out of credits. {cur.name} is in progress "
               f"with {fmt.credits(cur.used)} credits used so far.")
    title = "Credits per billing cycle, by feature"
    rows = [[c.name, c.allocation, c.used, *[c.by_feature.get(f, Decimal(0)) for f in report.features]] for c in cycles]
    return Chart(
        "charts/credits-by-feature.svg", "stacked_cycle_bars",
        {"cycles": [c.name for c in cycles], "series": series,
         "markers": {"label": "allocation", "values": [float(c.allocation) for c in cycles]}, "line": None,
         "ylabel": "credits", "in_progress": not cycles[-1].complete},
        title, "Stacked bar chart of the credits used in each billing cycle, split by feature, with each cycle's "
               "allocation marked.", summary,
        table("cycles-by-feature.csv", "Credits per cycle and feature",
              [("cycle", "Cycle"), ("allocation", "Allocation", "credits"), ("used", "Used", "credits"),
               *[(f"feature:{f}", label(f), "credits") for f in report.features]], rows))


def utilization_chart(report: Report) -> Chart:
    th = report.config.thresholds
    cycles = report.cycles
    high = [c.name for c in cycles if c.utilization >= th.upgrade_utilization]
    low = [c.name for c in cycles if c.complete and c.utilization < th.downgrade_utilization]
    summary = (f"{len(high)} of {len(cycles)} cycles used at least {fmt.pct(th.upgrade_utilization)} of their allocation"
               + (f" ({', '.join(high)})" if high else "") + f"; {len(low)} complete cycle{'s' if len(low) != 1 else ''} "
               f"stayed below {fmt.pct(th.downgrade_utilization)}" + (f" ({', '.join(low)})." if low else "."))
    title = "Share of the allocation used per billing cycle"
    return Chart(
        "charts/utilization.svg", "utilization_bars",
        {"cycles": [c.name for c in cycles], "utilization": [c.utilization for c in cycles],
         "upgrade": th.upgrade_utilization, "downgrade": th.downgrade_utilization,
         "in_progress": not cycles[-1].complete},
        title, "Bar chart of the share of the allocation used in each billing cycle, with the allocation, the upgrade "
               "indicator and the downgrade indicator as horizontal lines.", summary,
        table("plan/utilization.csv", "Utilization per cycle",
              [("cycle", "Cycle"), ("allocation", "Allocation", "credits"), ("used", "Used", "credits"),
               ("utilization", "Utilization", "pct"), ("demand", "Demand", "credits")],
              [[c.name, c.allocation, c.used, c.utilization, c.demand] for c in cycles]))


def scope_trend_chart(kind: str, doc: dict[str, Any], path_dir: str, split: str, split_key: str, split_label: str,
                      name: str | None = None, labels: dict[str, str] | None = None) -> Chart:
    """A feature's (split by operation) or a team's (split by feature) credits per cycle, with its budget.

    `name`: the scope's display name; `labels`: display names of the split (a team's features).
    """
    name = name or doc[kind]
    labels = labels or {}
    cycles = doc["cycles"]
    per: list[dict[str, float]] = []
    for c in cycles:
        parts = c[split]
        per.append({k: float(v["credits"] if isinstance(v, dict) else v) for k, v in parts.items()})
    names = sorted({k for d in per for k in d})
    shown = [{labels.get(k, k): v for k, v in d.items()} for d in per]
    series = stack(sorted({labels.get(n, n) for n in names}), shown) if names else []
    budget = doc["budget"]
    line = {"label": f"budget ({fmt.credits(budget)} a cycle)", "value": float(budget)} if budget is not None else None
    title = f"Credits per billing cycle, {kind} {name}"
    over = [c["cycle"] for c in cycles if budget is not None and c["credits"] > budget]
    summary = (f"{fmt.credits(sum(c['credits'] for c in cycles))} credits over {len(cycles)} cycles; "
               f"{fmt.credits(cycles[-1]['credits'])} so far in {cycles[-1]['cycle']}.")
    if budget is not None:
        summary += (f" Over the budget of {fmt.credits(budget)} in {len(over)} cycle{'s' if len(over) != 1 else ''}"
                    + (f" ({', '.join(over)})." if over else "."))
    rows = [[c["cycle"], c["credits"], c["share_of_used"], *[d.get(n, 0) for n in names],
             c["budget"]["budget"] if c["budget"] else None, c["budget"]["variance"] if c["budget"] else None]
            for c, d in zip(cycles, per, strict=True)]
    return Chart(
        f"{path_dir}/trend.svg", "stacked_cycle_bars",
        {"cycles": [c["cycle"] for c in cycles], "series": series, "markers": None, "line": line,
         "ylabel": "credits", "in_progress": bool(cycles) and not cycles[-1]["complete"]},
        title, f"Stacked bar chart of the credits of {kind} {name} in each billing cycle, split by {split_label}"
               + (", with its budget as a dashed line." if line else "."), summary,
        table(f"{path_dir}/trend.csv", f"Credits per cycle, {kind} {name}",
              [("cycle", "Cycle"), ("credits", "Credits", "credits"), ("share_of_used", "Share of all used", "pct"),
               *[(f"{split_key}:{n}", labels.get(n, n), "credits") for n in names], ("budget", "Budget", "credits"),
               ("variance", "Over (+) / under (−) budget", "signed")], rows))
