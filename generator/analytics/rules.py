"""The per-cycle detection rules behind the recommendations: what each measures and what it could save.

Each rule looks at one cycle and returns, per scope, a `Finding`: the credits it estimates could have
been saved in that cycle, the credits and events it is based on ("cited"), and the figures a reader
needs to redo the sum. A rule finds nothing when its evidence is absent or its saving is not positive.
Savings never exceed the cited credits: each is a share (≤ 1) of a part of them.
Assumptions (the shares) come from `[recommendations]` in site.toml.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from generator.analytics.efficiency import knowledge_premiums
from generator.analytics.spikes import Spike
from generator.config import SiteConfig
from generator.model.cycle_report import CycleFigures
from generator.model.details import Details, OpRow

EDIT_CREDITS = 1.0  # SPEC §1: an image edit costs 1 credit (used when no edit was seen in the cycle)
ZERO = Decimal(0)


@dataclass(frozen=True)
class Finding:
    savings: float  # credits this cycle
    cited_credits: float  # credits of the events (or expired credits) the estimate is based on
    cited_events: int | None
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleInput:
    config: SiteConfig
    details: Details
    cycles: dict[str, CycleFigures]
    spikes: list[Spike]

    def ops(self, cycle: str) -> list[OpRow]:
        # Refunds credit back failed work; they are not a practice to compare or move.
        return [r for r in self.details.of_cycle(cycle).ops if r.operation != "refund"]


Rule = Callable[[RuleInput, str], dict[str, Finding]]


def edit_instead_of_regenerate(inp: RuleInput, cycle: str) -> dict[str, Finding]:
    sessions = [s for s in inp.details.of_cycle(cycle).sessions if s.feature == "image"]
    regens = sum(s.regenerations for s in sessions)
    regen_credits = float(sum((s.regeneration_credits for s in sessions), ZERO))
    edits = [r for r in inp.ops(cycle) if r.feature == "image" and r.operation == "edit"]
    n_edits = sum(r.events for r in edits)
    edit_price = float(sum((r.credits for r in edits), ZERO)) / n_edits if n_edits else EDIT_CREDITS
    excess = regen_credits - edit_price * regens
    if regens == 0 or excess <= 0:
        return {}
    share = inp.config.recommendations.regenerate_to_edit_share
    return {"feature:image": Finding(share * excess, regen_credits, regens, {
        "regenerations": regens, "regeneration_credits": regen_credits, "edit_price": edit_price,
        "as_edits": edit_price * regens, "excess": excess})}


def upscale_final_only(inp: RuleInput, cycle: str) -> dict[str, Finding]:
    sessions = [s for s in inp.details.of_cycle(cycle).sessions if s.feature == "image"]
    n = sum(s.nonfinal_upscales for s in sessions)
    credits = float(sum((s.nonfinal_upscale_credits for s in sessions), ZERO))
    if n == 0 or credits <= 0:
        return {}
    share = inp.config.recommendations.upscale_avoidable_share
    return {"feature:image": Finding(share * credits, credits, n, {
        "nonfinal_upscales": n, "nonfinal_upscale_credits": credits,
        "upscales": sum(r.events for r in inp.ops(cycle) if r.feature == "image" and r.operation == "upscale")})}


def batch_generation(inp: RuleInput, cycle: str) -> dict[str, Finding]:
    singles: dict[str | None, list] = defaultdict(lambda: [0, ZERO])
    for b in inp.details.of_cycle(cycle).batches:
        singles[b.model][0] += b.singles
        singles[b.model][1] += b.credits
    prices: dict[str | None, list] = defaultdict(lambda: [ZERO, 0, ZERO, 0])  # single credits, items; batch credits, items
    for r in inp.ops(cycle):
        if r.feature == "image" and r.operation == "generate":
            p = prices[r.model]
            p[0] += r.credits - r.batch_credits
            p[1] += r.quantity - r.batch_items
            p[2] += r.batch_credits
            p[3] += r.batch_items
    models, saved, cited, events = {}, 0.0, 0.0, 0
    for model, (n, credits) in sorted(singles.items(), key=lambda kv: kv[0] or ""):
        sc, si, bc, bi = prices.get(model, [ZERO, 0, ZERO, 0])
        if not si or not bi:
            continue
        discount = float(sc) / si - float(bc) / bi
        if discount <= 0:
            continue
        could = min(float(credits), n * discount)
        models[model or "(none)"] = {"singles": n, "credits": float(credits), "single_price": float(sc) / si,
                                     "batch_price": float(bc) / bi, "saving_if_batched": could}
        saved, cited, events = saved + could, cited + float(credits), events + n
    if saved <= 0:
        return {}
    share = inp.config.recommendations.batch_share
    return {"feature:image": Finding(share * saved, cited, events, {"models": models, "saving_if_all_batched": saved})}


def model_choice(inp: RuleInput, cycle: str) -> dict[str, Finding]:
    groups: dict[tuple[str, str, bool], dict[str, list]] = defaultdict(lambda: defaultdict(lambda: [ZERO, 0, 0]))
    for r in inp.ops(cycle):
        if r.model is not None and r.quantity > 0 and r.credits >= 0:
            g = groups[(r.feature, r.operation, r.knowledge)][r.model]
            g[0] += r.credits
            g[1] += r.quantity
            g[2] += r.events
    out: dict[str, Finding] = {}
    per_feature: dict[str, list] = defaultdict(lambda: [0.0, 0.0, 0, []])  # excess, cited, events, lines
    for (feature, operation, knowledge), models in sorted(groups.items()):
        if len(models) < 2:
            continue
        price = {m: float(c) / q for m, (c, q, _) in models.items()}
        cheapest = min(price, key=lambda m: (price[m], m))
        for m in sorted(models):
            credits, qty, events = models[m]
            if price[m] <= price[cheapest]:
                continue
            excess = float(credits) - price[cheapest] * qty
            acc = per_feature[feature]
            acc[0] += excess
            acc[1] += float(credits)
            acc[2] += events
            acc[3].append({"operation": operation, "knowledge": knowledge, "model": m, "credits": float(credits),
                           "items": qty, "price": price[m], "cheapest_model": cheapest,
                           "cheapest_price": price[cheapest], "excess": excess})
    share = inp.config.recommendations.model_shift_share
    for feature, (excess, cited, events, lines) in sorted(per_feature.items()):
        if excess > 0:
            out[f"feature:{feature}"] = Finding(share * excess, cited, events, {"excess": excess, "lines": lines})
    return out


def knowledge_deliberate(inp: RuleInput, cycle: str) -> dict[str, Finding]:
    ops = inp.ops(cycle)
    premiums = knowledge_premiums(ops)
    per_feature: dict[str, list] = defaultdict(lambda: [0.0, 0.0, 0, {}])
    for r in ops:
        key = (r.feature, r.operation, r.model)
        if r.knowledge and key in premiums:
            acc = per_feature[r.feature]
            acc[0] += min(float(r.credits), r.events * premiums[key])
            acc[1] += float(r.credits)
            acc[2] += r.events
            acc[3][f"{r.operation} / {r.model or '(none)'}"] = premiums[key]
    share = inp.config.recommendations.knowledge_avoidable_share
    return {f"feature:{f}": Finding(share * premium, cited, events, {"premium_credits": premium, "premium_per_event": per})
            for f, (premium, cited, events, per) in sorted(per_feature.items()) if premium > 0}


def enhance_final_only(inp: RuleInput, cycle: str) -> dict[str, Finding]:
    docs = [s for s in inp.details.of_cycle(cycle).sessions if s.feature == "compose"]
    n = sum(s.enhances_before_final for s in docs)
    credits = float(sum((s.enhances_before_final_credits for s in docs), ZERO))
    if n == 0 or credits <= 0:
        return {}
    share = inp.config.recommendations.enhance_avoidable_share
    return {"feature:compose": Finding(share * credits, credits, n, {
        "enhances_before_final": n, "enhances_before_final_credits": credits,
        "enhances": sum(s.enhances for s in docs), "documents": sum(s.sessions for s in docs)})}


def chat_context(inp: RuleInput, cycle: str) -> dict[str, Finding]:
    chats = inp.details.of_cycle(cycle).chats
    restarted = sum(c.restarted for c in chats)
    credits = float(sum((c.restarted_credits for c in chats), ZERO))
    if restarted == 0 or credits <= 0:
        return {}
    share = inp.config.recommendations.restart_waste_share
    return {"feature:chat": Finding(share * credits, credits, sum(c.restarted_responses for c in chats), {
        "restarted_conversations": restarted, "restarted_credits": credits,
        "conversations": sum(c.conversations for c in chats), "short": sum(c.short for c in chats)})}


def daily_pacing(inp: RuleInput, cycle: str) -> dict[str, Finding]:
    days = [s for s in inp.spikes if s.cycle == cycle]
    excess = sum(s.excess for s in days)
    if not days or excess <= 0:
        return {}
    share = inp.config.recommendations.pacing_spike_share
    return {"subscription": Finding(share * excess, sum(float(s.credits) for s in days), None, {
        "spike_days": [{"date": s.day.isoformat(), "credits": float(s.credits), "median": s.median, "factor": s.factor}
                       for s in days],
        "excess": excess})}


def expiring_credits(inp: RuleInput, cycle: str) -> dict[str, Finding]:
    c = inp.cycles[cycle]
    rec = inp.config.recommendations
    if c.expired is None or float(c.expired) <= rec.expiring_share * float(c.allocation):
        return {}
    expired = float(c.expired)
    return {"subscription": Finding(rec.expiring_usable_share * expired, expired, None, {
        "expired": expired, "allocation": float(c.allocation), "expired_share": expired / float(c.allocation)})}


def team_practice(inp: RuleInput, cycle: str) -> dict[str, Finding]:
    rec = inp.config.recommendations
    acc: dict[tuple[str, str], dict[str, list]] = defaultdict(lambda: defaultdict(lambda: [ZERO, 0, 0]))
    for r in inp.ops(cycle):
        a = acc[(r.feature, r.operation)][r.team]
        a[0] += r.credits
        a[1] += r.quantity
        a[2] += r.events
    per_team: dict[str, list] = defaultdict(lambda: [0.0, 0.0, 0, []])
    for (feature, operation), teams in sorted(acc.items()):
        eligible = {t: v for t, v in teams.items() if v[1] >= rec.team_practice_min_items and v[0] >= 0}
        if len(eligible) < 2:
            continue
        price = {t: float(c) / q for t, (c, q, _) in eligible.items()}
        best = min(price, key=lambda t: (price[t], t))
        for team in sorted(eligible):
            credits, items, events = eligible[team]
            if price[team] <= price[best]:
                continue
            gap = (price[team] - price[best]) * items
            p = per_team[team]
            p[0] += gap
            p[1] += float(credits)
            p[2] += events
            p[3].append({"feature": feature, "operation": operation, "items": items, "price": price[team],
                         "best_team": best, "best_price": price[best], "gap": gap})
    return {f"team:{t}": Finding(rec.team_practice_share * gap, cited, events, {"gap": gap, "lines": lines})
            for t, (gap, cited, events, lines) in sorted(per_team.items()) if gap > 0}
