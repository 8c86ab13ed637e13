"""The sentences the overview leads with: this cycle's state and action, the tier verdict, the top saving.

Each is one sentence in plain words (display names, money in the site's currency, forecasts to three
significant figures), built from the report model; the plan page starts with the same verdict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from generator import formatting as fmt
from generator.report.model import Report


@dataclass(frozen=True)
class Sentence:
    text: str
    level: str = ""  # ok | warning | critical | info (a class the theme may style)


def _month(report: Report) -> str:
    return f"{report.current.cycle.start_date:%B}"


def state_sentence(report: Report) -> Sentence:
    c, now = report.current, report.analytics.now
    cur = report.config.site.currency
    if now is None or c.pace is None:
        return Sentence(f"{_month(report)} has no usage yet.", "ok")
    reset = fmt.day(c.cycle.end_date)
    rate = fmt.credits(round(now.sustainable_daily_rate)) if now.sustainable_daily_rate is not None else None
    buy = f"buy about {fmt.approx(now.shortfall)} credits"
    if now.shortfall_cost is not None:
        buy += f" (≈ {fmt.money(now.shortfall_cost, cur)})"
    chance = (f" The chance of running out is {fmt.pct(round(now.chance_of_running_out, 2))}."
              if now.chance_of_running_out is not None and now.state == "will-run-out" else "")
    if now.state == "ran-out":
        cover = (f" unless you {buy} to cover the rest of the cycle at the recent pace" if now.shortfall > 0
                 else "; buy credits if work cannot wait")
        return Sentence(f"{_month(report)} ran out of credits on {fmt.day(c.exhausted_on)}: nothing more can be used "
                        f"until the reset on {reset}{cover}.", "critical")
    if now.state == "will-run-out":
        keep = f"keep to {rate} credits a day or less to last until the reset on {reset}, or " if rate else ""
        return Sentence(f"{_month(report)} will run out of credits around {fmt.day(c.pace.projected_exhaustion)}: "
                        f"{keep}{buy}.{chance}", now.level)
    if now.state == "will-leave-unused":
        return Sentence(f"{_month(report)} will leave about {fmt.approx(now.projected_unused)} credits unused at the reset "
                        f"on {reset}: spend them on work you would do next cycle anyway, such as upscaling approved "
                        f"finals, generating planned assets in batches or drafting recurring documents.", "warning")
    return Sentence(f"{_month(report)} is on track: at {fmt.credits(c.pace.burn_rate)} credits a day it will use about "
                    f"{fmt.approx(now.projected_used)} of its {fmt.credits(c.allocation)} credits by the reset on {reset}"
                    + (f"; up to {rate} a day would still last." if rate else "."), "ok")


def verdict_sentence(report: Report) -> Sentence:
    d, plan = report.analytics.decision, report.plan
    cur = report.config.site.currency
    if plan.signal == "insufficient-history":
        return Sentence(f"Stay on {d.current.name} for now: a tier verdict needs at least 2 complete cycles of history.",
                        "info")
    if d.basis == "sizing-rule":
        why = ("no top-up has been bought or priced, so a shortfall cannot be costed and the tier's own credits, with "
               "their buffer, are the only protection")
        if d.action == "stay":
            return Sentence(f"Stay on {d.current.name}: it covers the required {fmt.approx(plan.required)} credits a month; "
                            f"{why}.", "ok")
        return Sentence(f"Switch to {d.tier.name} now: the required {fmt.approx(plan.required)} credits a month call for "
                        f"it, and {why}.", "warning")
    annual = d.annual_cost
    months = d.horizon_months
    growth = f"~{fmt.approx(plan.growth_per_month)} credits a month" if plan.growth_per_month else "no growth"
    if d.action == "stay":
        others = sorted((v, k) for k, v in annual.items() if k != d.current.name and v is not None)
        mine = annual[d.current.name]
        beside = (f" ({fmt.money(mine, cur)} over the next {months} months, against {fmt.money(others[0][0], cur)} for "
                  f"{others[0][1]})" if others and mine is not None else "")
        trend = f"growing by {growth}" if plan.growth_per_month else "without growth"
        return Sentence(f"Stay on {d.current.name}: at the expected demand, {trend}, it is the cheapest tier{beside}.",
                        "ok")
    z = f" (break-even at {fmt.approx(d.break_even_demand)} credits a month)" if d.break_even_demand is not None else ""
    if d.action == "switch-by":
        year, month = map(int, d.switch_by.split("-"))
        by = f"{dt.date(year, month, 1):%B %Y}"
        return Sentence(f"Stay on {d.current.name}: at today's demand top-ups are cheaper; at the current growth of "
                        f"{growth} switch to {d.tier.name} by {by}, when {d.current.name} plus top-ups starts to cost "
                        f"more{z}.", "info")
    saving = d.saving
    save = f", saving about {fmt.money(saving, cur)} over the next {months} months" if saving and saving > 0 else ""
    topped = " with top-ups" if d.tier.monthly_credits > d.current.monthly_credits else ""
    return Sentence(f"Switch to {d.tier.name} now: at the {fmt.approx(d.path[0].demand)} credits expected next cycle it "
                    f"costs less than {d.current.name}{topped}{save}{z}.", "warning")


def top_saving_sentence(report: Report) -> Sentence:
    cur = report.config.site.currency
    practice = [r for r in report.analytics.recommendations if r.category == "practice"]
    if not practice:
        return Sentence("No change of practice would save a credit a month at the moment.", "ok")
    r = practice[0]
    money = f" (≈ {fmt.money(r.monthly_money, cur)}, top-ups avoided)" if r.monthly_money else ""
    return Sentence(f"Top saving: {r.title.rstrip('.')}, about {fmt.approx(r.estimated_monthly_savings)} credits a "
                    f"month{money}.", "info")
