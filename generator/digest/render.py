"""The digest written out: plain text (for mail), Markdown (for chat) or JSON (for scripts)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from generator.formatting import approx, credits, day, instant, pct

MAX_ALERTS = 10  # in text and Markdown; the JSON lists every one
LEVEL_NAMES = {"critical": "Critical", "warning": "Warning", "info": "Info"}


def _day(value: str | None) -> str:
    return day(dt.date.fromisoformat(value)) if value else "—"


def _cycle_name(cycle: str | None) -> str:
    return f"{dt.date.fromisoformat(cycle + '-01'):%B %Y}" if cycle else "—"


def plan_sentence(d: dict[str, Any] | None) -> str:
    if not d:
        return "no plan information"
    if "action" in d:
        tier = d.get("tier") or d.get("current_tier")
        return {"switch-now": f"switch to {tier} now", "switch-by": f"switch to {tier} by {d.get('switch_by')}",
                "stay": f"stay on {tier}"}.get(d["action"], f"{d['action']} ({tier})")
    current, rec = d.get("current_tier"), d.get("recommended_tier")
    return {"upgrade": f"on {current}; the sizing rule recommends upgrading to {rec}",
            "downgrade": f"on {current}; the sizing rule recommends downgrading to {rec}",
            "hold": f"stay on {current}",
            "insufficient-history": f"on {current}; not enough history for a recommendation yet"}.get(
        d.get("signal"), f"on {current}")


def cycle_sentences(c: dict[str, Any]) -> list[str]:
    out = [f"Used {credits(c['used'])} of {credits(c['allocation'])} credits"
           + (f" ({pct(c['utilization'])})" if c.get("utilization") is not None else "")
           + (f", {c['days_left']:.1f} days left." if c.get("days_left") is not None else ".")]
    if c.get("exhausted_on"):
        out.append(f"Ran out on {_day(c['exhausted_on'])}.")
    elif c.get("projected_used") is not None:
        pace = f"At this pace {approx(c['projected_used'])} by the reset"  # forecasts: 3 significant figures
        if c.get("shortfall"):
            when = f", running out around {_day(c['projected_exhaustion'])}" if c.get("projected_exhaustion") else ""
            rate = c.get("sustainable_daily_rate")
            keep = f" Keep to {approx(rate)} credits a day to last until the reset" if rate is not None else ""
            out.append(f"{pace}{when}.{keep}" + (f", or top up about {approx(c['shortfall'])} credits." if keep
                                               else f" Short by about {approx(c['shortfall'])} credits."))
        elif c.get("projected_unused"):
            out.append(f"{pace}: about {approx(c['projected_unused'])} credits would expire unused at the reset.")
        else:
            out.append(f"{pace}: on track.")
    return out


def _saving(r: dict[str, Any]) -> str:
    if r.get("estimated_monthly_savings") is not None:
        return f"saves about {approx(r['estimated_monthly_savings'])} credits a month"
    if r.get("estimated_monthly_savings_money") is not None:
        return f"saves about {r['estimated_monthly_savings_money']:,.2f} a month"
    if r.get("credits_at_stake") is not None:
        return f"{credits(r['credits_at_stake'])} credits at stake"
    return ""


def _since(d: dict[str, Any]) -> str:
    s = d["since"]
    if s["kind"] == "release":
        shown = instant(dt.datetime.fromisoformat(s["as_of"])) if s.get("as_of") else None
        return f"since release {s['release']}" + (f" (data as of {shown})" if shown else "")
    if s["kind"] == "date":
        return f"since {_day(s['date'])}"
    return "nothing published yet: the current cycle"


def render(d: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(d, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    md = fmt == "markdown"
    title = f"{d['title']}: digest, data as of {instant(dt.datetime.fromisoformat(d['as_of']))}"
    if d["nothing_new"]:
        return (f"**{title}**\n" if md else f"{title}\n") + f"Nothing new {_since(d)}.\n"
    lines = [f"**{title}**" if md else title, f"_{_since(d)[0].upper() + _since(d)[1:]}_" if md
             else _since(d)[0].upper() + _since(d)[1:]]

    def heading(text: str) -> None:
        lines.append("")
        lines.append(f"**{text}**" if md else text)

    def item(text: str, url: str | None = None) -> None:
        if md:
            lines.append(f"- [{text}]({url})" if url else f"- {text}")
        else:
            lines.append(f"- {text}" + (f"\n  {url}" if url else ""))

    if d["new_alerts"]:
        heading(f"New alerts ({len(d['new_alerts'])})")
        for a in d["new_alerts"][:MAX_ALERTS]:
            item(f"{LEVEL_NAMES.get(a['level'], a['level'])}: {a['title']}", a["url"])
        if len(d["new_alerts"]) > MAX_ALERTS:
            item(f"… and {len(d['new_alerts']) - MAX_ALERTS} more", d["this_cycle"]["url"])
    # A crossing already named by one of the listed threshold alerts is not said twice (the JSON keeps both).
    named = {a["id"] for a in d["new_alerts"][:MAX_ALERTS] if a["kind"] == "threshold"}
    crossings = [t for t in d["thresholds_crossed"]
                 if not any(i.startswith(f"threshold:{t['cycle']}:") and i.endswith(f":{t['level']}:{t['date']}")
                            for i in named)]
    if crossings:
        heading("Thresholds crossed")
        for t in crossings:
            item(f"{_cycle_name(t['cycle'])}: {pct(float(t['level']))} of the allocation used on {_day(t['date'])}",
                 t["url"])
    c = d["this_cycle"]
    heading(f"This cycle ({_cycle_name(c['cycle'])})")
    for sentence in cycle_sentences(c):
        item(sentence)
    lines.append(f"  {c['url']}" if not md else f"  [Month report]({c['url']})")
    dec = d["decision"]
    heading("Plan")
    plan = plan_sentence(dec["now"])
    item((f"Changed: {plan} (was: {plan_sentence(dec['before'])})" if dec["changed"]
          else plan[0].upper() + plan[1:]), dec["url"])
    if d["recommendations"]:
        heading("Top recommendations")
        for i, r in enumerate(d["recommendations"], 1):
            text = f"{r['title']}" + (f" — {_saving(r)}" if _saving(r) else "")
            lines.append(f"{i}. [{text}]({r['url']})" if md else f"{i}. {text}\n   {r['url']}")
    return "\n".join(lines) + "\n"
