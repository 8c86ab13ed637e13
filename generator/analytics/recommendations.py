"""Optimization recommendations (api/recommendations.json), ranked by estimated credits saved per month.

Per-cycle rules (recommendation_rules.py) are evaluated on every cycle; a recommendation's estimate is
the average of its findings over the baseline cycles (SPEC §3: the last `baseline_cycles` complete
cycles; with none complete yet, the current cycle scaled to a whole cycle). Plan rules (tier-change,
topups-vs-upgrade) turn money into credits at the current cycle's price per credit. A recommendation
with no finding in the baseline is not emitted; one below `min_monthly_savings` is not listed.
Estimates of different recommendations can overlap (the same expensive image can be a regeneration and
on a dear model): they are not meant to be added up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generator import formatting as fmt
from generator.analytics import rules
from generator.analytics.alerts import scope_slug
from generator.analytics.rules import Finding, Rule, RuleInput
from generator.analytics.slugs import slugify
from generator.analytics.tier_replay import TierReplay
from generator.config import SiteConfig
from generator.model.cycle_report import CycleFigures
from generator.model.cycles import elapsed_days
from generator.model.tier_plan import Plan


@dataclass(frozen=True)
class Kind:
    kind: str
    rule: Rule | None
    detection: str
    formula: str
    assumptions: tuple[str, ...]
    guide: str  # slug of the guide that explains the practice


KINDS: dict[str, Kind] = {k.kind: k for k in [
    Kind("edit-instead-of-regenerate", rules.edit_instead_of_regenerate,
         "image sessions with more than one generate (each generate after the first is a regeneration)",
         "regenerate_to_edit_share × (regeneration credits − regenerations × credits per edit)",
         ("regenerate_to_edit_share",), "edit-vs-regenerate"),
    Kind("upscale-final-only", rules.upscale_final_only,
         "upscales followed by a generate or edit in the same image session",
         "upscale_avoidable_share × credits of those upscales", ("upscale_avoidable_share",), "upscaling"),
    Kind("batch-generation", rules.batch_generation,
         "single-image generations repeated (≥ 2) in one session with one model, where that model's batches "
         "cost less per image than its single generations",
         "batch_share × Σ per model min(their credits, singles × (single price − batch price per image))",
         ("batch_share",), "batch-generation"),
    Kind("model-choice", rules.model_choice,
         "events on a model dearer per item than the cheapest model used for the same feature, operation and "
         "knowledge setting in the cycle",
         "model_shift_share × Σ (credits − items × cheapest model's credits per item)",
         ("model_shift_share",), "choosing-models"),
    Kind("knowledge-deliberate", rules.knowledge_deliberate,
         "events with knowledge base integration where it measurably costs more than the same operation and "
         "model without it",
         "knowledge_avoidable_share × Σ knowledge events × measured premium per event",
         ("knowledge_avoidable_share",), "knowledge-base"),
    Kind("enhance-final-only", rules.enhance_final_only,
         "compose enhancements followed by a later create in the same document session",
         "enhance_avoidable_share × credits of those enhancements", ("enhance_avoidable_share",), "document-enhancements"),
    Kind("chat-context", rules.chat_context,
         "short conversations (≤ short_conversation_responses responses) followed within restart_window_minutes by "
         "another conversation of the same member",
         "restart_waste_share × credits of those short conversations",
         ("short_conversation_responses", "restart_window_minutes", "restart_waste_share"), "chat-context"),
    Kind("tier-change", None,
         "the plan signals an upgrade or a downgrade and the recommended tier's annual cost at the required level "
         "is lower than the current tier's",
         "(current tier's annual cost − recommended tier's annual cost) ÷ 12 ÷ current price per credit",
         (), "tier-selection"),
    Kind("topups-vs-upgrade", None,
         "top-ups were bought, or the current tier ran out in the tier replay, and a larger tier's replayed "
         "annual cost is lower than the current tier's",
         "(current tier's replayed annual cost − larger tier's) ÷ 12 ÷ current price per credit",
         (), "tier-selection"),
    Kind("daily-pacing", rules.daily_pacing,
         "spike days (SPEC §3) in the cycle",
         "pacing_spike_share × Σ over spike days (credits − median of the days before)",
         ("pacing_spike_share",), "budgets-and-daily-targets"),
    Kind("expiring-credits", rules.expiring_credits,
         "complete cycles whose expired credits exceeded expiring_share of the allocation",
         "expiring_usable_share × expired credits", ("expiring_share", "expiring_usable_share"), "end-of-cycle-credits"),
    Kind("team-practice", rules.team_practice,
         "a team's credits per item for a feature and operation above the best team's (both with at least "
         "team_practice_min_items items in the cycle)",
         "team_practice_share × Σ (team's price per item − best team's) × team's items",
         ("team_practice_share", "team_practice_min_items"), "team-coordination"),
]}


@dataclass(frozen=True)
class Baseline:
    cycles: list[str]
    months: float  # complete cycles count 1; the current cycle (used only without any) its elapsed share


@dataclass(frozen=True)
class Recommendation:
    id: str
    kind: str
    title: str
    scope: str
    estimated_monthly_savings: float  # credits
    summary: str
    evidence: dict[str, Any]
    guide: str  # site-relative URL of the guide page (and anchor)
    monthly_money: float | None = None  # tier-change, topups-vs-upgrade
    per_cycle: dict[str, Finding] = field(default_factory=dict)


def baseline_of(cycles: list[CycleFigures], plan: Plan) -> Baseline:
    if plan.baseline:
        return Baseline([c.name for c in plan.baseline], float(len(plan.baseline)))
    cur = next(c for c in cycles if c.current)
    total = elapsed_days(cur.cycle.start, cur.cycle.end)
    share = (total - cur.pace.days_left) / total if cur.pace is not None else 1.0
    return Baseline([cur.name], max(share, 1e-9))


def guide_url(kind: Kind, guides: set[str]) -> str:
    """The practice's own guide when the site has it, else its section of the recommendations guide."""
    return f"guides/{kind.guide}/" if kind.guide in guides else f"guides/recommendations/#{kind.kind}"


def findings_by_cycle(inp: RuleInput, cycles: list[CycleFigures]) -> dict[str, dict[tuple[str, str], Finding]]:
    """Cycle → (kind, scope) → finding, for every per-cycle rule and every cycle (the month pages show them)."""
    out = {}
    for c in cycles:
        found = {}
        for kind in KINDS.values():
            if kind.rule is not None:
                for scope, finding in kind.rule(inp, c.name).items():
                    found[(kind.kind, scope)] = finding
        out[c.name] = found
    return out


def build_recommendations(config: SiteConfig, inp: RuleInput, cycles: list[CycleFigures], plan: Plan,
                          replay: list[TierReplay], by_cycle: dict[str, dict[tuple[str, str], Finding]],
                          slugs: dict[str, dict[str, str]], guides: set[str]) -> list[Recommendation]:
    """The listed recommendations (at least `min_monthly_savings`), largest estimated saving first, then by id."""
    base = baseline_of(cycles, plan)
    rec = config.recommendations
    out: list[Recommendation] = []
    keys = sorted({key for name in base.cycles for key in by_cycle.get(name, {})})
    for kind_name, scope in keys:
        kind = KINDS[kind_name]
        per = {name: by_cycle[name][(kind_name, scope)] for name in base.cycles if (kind_name, scope) in by_cycle[name]}
        savings = sum(f.savings for f in per.values()) / base.months
        cited = sum(f.cited_credits for f in per.values()) / base.months
        events = [f.cited_events for f in per.values() if f.cited_events is not None]
        evidence = {
            "rule": kind.detection, "formula": kind.formula,
            "assumptions": {k: _plain(getattr(rec, k)) for k in kind.assumptions},
            "baseline": base.cycles, "baseline_months": base.months,
            "cited_credits_per_month": cited,
            "cited_events_per_month": sum(events) / base.months if events else None,
            "per_cycle": {name: {"savings": f.savings, "cited_credits": f.cited_credits, "cited_events": f.cited_events,
                                 **f.figures} for name, f in per.items()},
        }
        out.append(Recommendation(
            f"{kind_name}:{scope_slug(scope, slugs)}", kind_name, _title(kind_name, scope), scope, savings,
            _summary(kind_name, scope, per, base, savings, config), evidence, guide_url(kind, guides), per_cycle=per))
    out += _plan_recommendations(config, cycles, plan, replay, guides)
    listed = [r for r in out if r.estimated_monthly_savings >= float(rec.min_monthly_savings)]
    return sorted(listed, key=lambda r: (-r.estimated_monthly_savings, r.id))


def _plain(value: Any) -> Any:
    return float(value) if not isinstance(value, (int, float, bool)) else value


def _title(kind: str, scope: str) -> str:
    name = scope.split(":", 1)[1] if ":" in scope else ""
    return {
        "edit-instead-of-regenerate": "Edit near-miss images instead of regenerating them",
        "upscale-final-only": "Upscale only final images",
        "batch-generation": "Batch similar image generations",
        "model-choice": f"Match the {name} model to the job",
        "knowledge-deliberate": f"Use knowledge base integration in {name} deliberately",
        "enhance-final-only": "Enhance the final version of a document, not each draft",
        "chat-context": "Keep chat context instead of restarting conversations",
        "daily-pacing": "Plan a daily credit budget to flatten spikes",
        "expiring-credits": "Put remaining credits to use before they expire",
        "team-practice": f"Team {name}: adopt the practices of the most efficient team",
    }[kind]


def _summary(kind: str, scope: str, per: dict[str, Finding], base: Baseline, savings: float, config: SiteConfig) -> str:
    m = base.months
    rec = config.recommendations

    def total(key: str) -> float:
        return sum(f.figures.get(key, 0) for f in per.values())

    cited = sum(f.cited_credits for f in per.values()) / m
    over = f"over the baseline ({', '.join(base.cycles)})"
    tail = f" That is about {fmt.credits(savings)} credits a month."
    name = scope.split(":", 1)[1] if ":" in scope else ""
    if kind == "edit-instead-of-regenerate":
        price = total("edit_price") / len(per)
        return (f"Image sessions regenerated about {fmt.credits(total('regenerations') / m)} images a month {over}, for "
                f"{fmt.credits(cited)} credits; as edits at {fmt.credits(price)} credit each they would have cost "
                f"{fmt.credits(total('as_edits') / m)}. Assuming {fmt.pct(rec.regenerate_to_edit_share)} of them could have "
                f"been edits (regenerate_to_edit_share)." + tail)
    if kind == "upscale-final-only":
        return (f"About {fmt.credits(total('nonfinal_upscales') / m)} upscales a month ({fmt.credits(cited)} credits) {over} "
                f"were "
                f"followed by further changes to the same image, so they were not of the final version. Assuming "
                f"{fmt.pct(rec.upscale_avoidable_share)} of them were avoidable (upscale_avoidable_share)." + tail)
    if kind == "batch-generation":
        return (f"{fmt.credits(cited)} credits a month {over} went to single-image generations repeated in one session "
                f"with one model, which costs more per image than that model's batches. Assuming "
                f"{fmt.pct(rec.batch_share)} of them could have been batched (batch_share)." + tail)
    if kind == "model-choice":
        return (f"{fmt.credits(cited)} credits a month of {name} {over} went to models dearer per item than the cheapest "
                f"model used for the same operation; at the cheapest model's price the same work would have cost "
                f"{fmt.credits(total('excess') / m)} credits less. Assuming {fmt.pct(rec.model_shift_share)} of that work "
                f"could move (model_shift_share)." + tail)
    if kind == "knowledge-deliberate":
        return (f"Knowledge base integration in {name} cost a measured premium of {fmt.credits(total('premium_credits') / m)} "
                f"credits a month {over} (credits per event with it minus without it, for the same operation and "
                f"model). Assuming {fmt.pct(rec.knowledge_avoidable_share)} of that use was not needed "
                f"(knowledge_avoidable_share)." + tail)
    if kind == "enhance-final-only":
        return (f"About {fmt.credits(total('enhances_before_final') / m)} enhancements a month ({fmt.credits(cited)} credits) "
                f"{over} were applied to drafts that a later version replaced. Assuming "
                f"{fmt.pct(rec.enhance_avoidable_share)} of them were avoidable (enhance_avoidable_share)." + tail)
    if kind == "chat-context":
        return (f"About {fmt.credits(total('restarted_conversations') / m)} short conversations a month "
                f"({fmt.credits(cited)} credits) {over} were dropped and restarted within "
                f"{fmt.credits(rec.restart_window_minutes)} minutes. Assuming {fmt.pct(rec.restart_waste_share)} of their "
                f"credits were spent re-establishing context (restart_waste_share)." + tail)
    if kind == "daily-pacing":
        days = sum(len(f.figures["spike_days"]) for f in per.values())
        return (f"{days} spike day{'s' if days != 1 else ''} {over} cost {fmt.credits(total('excess') / m)} credits a month "
                f"above the usual day. Assuming a daily budget avoids {fmt.pct(rec.pacing_spike_share)} of that "
                f"(pacing_spike_share)." + tail)
    if kind == "expiring-credits":
        return (f"{fmt.credits(cited)} credits a month expired unused {over}, counting the cycles where more than "
                f"{fmt.pct(rec.expiring_share)} of the allocation expired. Assuming {fmt.pct(rec.expiring_usable_share)} "
                f"could have been put to use before the reset (expiring_usable_share)." + tail)
    if kind == "team-practice":
        return (f"Team {name} paid {fmt.credits(total('gap') / m)} credits a month {over} more than the same operations "
                f"would have cost at the best team's credits per item. Assuming {fmt.pct(rec.team_practice_share)} of "
                f"that gap can be closed (team_practice_share)." + tail)
    raise ValueError(kind)


def _plan_recommendations(config: SiteConfig, cycles: list[CycleFigures], plan: Plan, replay: list[TierReplay],
                          guides: set[str]) -> list[Recommendation]:
    cur = next(c for c in cycles if c.current)
    ppc = cur.price_per_credit
    if ppc <= 0:
        return []
    out = []
    costs = {tc.tier.name: tc for tc in plan.tier_costs}
    if plan.signal in ("upgrade", "downgrade") and plan.recommended_tier is not None:
        now, new = costs[plan.current_tier.name], costs[plan.recommended_tier.name]
        saved_year = float(now.annual_cost - new.annual_cost)
        if saved_year > 0:
            money = saved_year / 12
            kind = KINDS["tier-change"]
            evidence = {
                "rule": kind.detection, "formula": kind.formula, "assumptions": {},
                "signal": plan.signal, "current_tier": now.tier.name, "recommended_tier": new.tier.name,
                "required": plan.required, "average": plan.average, "peak": plan.peak,
                "baseline": [c.name for c in plan.baseline],
                "current_annual_cost": float(now.annual_cost), "recommended_annual_cost": float(new.annual_cost),
                "topup_price_per_credit": float(plan.topup_rate) if plan.topup_rate is not None else None,
                "price_per_credit": ppc, "monthly_money_saved": money,
                "cited_credits_per_month": float(now.annual_cost) / 12 / ppc,
            }
            summary = (f"The plan signals {plan.signal}: {fmt.credits(plan.required)} credits a month are required. At that "
                       f"level {now.tier.name} costs {fmt.money(float(now.annual_cost))} a year (with top-ups at the observed "
                       f"price) and {new.tier.name} {fmt.money(float(new.annual_cost))}: {fmt.money(money)} a month less, "
                       f"{fmt.credits(money / ppc)} credits at the current {fmt.money(ppc * 1000)} per 1,000 credits.")
            out.append(Recommendation(f"tier-change:{_slug_tier(new.tier.name)}", "tier-change",
                                      f"Move from {now.tier.name} to {new.tier.name}", "subscription", money / ppc, summary,
                                      evidence, guide_url(kind, guides), money))
    out += _topups_vs_upgrade(config, cycles, plan, replay, ppc, guides)
    return out


def _topups_vs_upgrade(config: SiteConfig, cycles: list[CycleFigures], plan: Plan, replay: list[TierReplay],
                       ppc: float, guides: set[str]) -> list[Recommendation]:
    current = next((r for r in replay if r.current), None)
    if current is None or not all(r.topups_priced for r in replay):
        return []
    recent = cycles[-12:]
    bought = [t for c in recent for t in c.topups]
    if not bought and current.ran_out == 0:
        return []
    larger = [r for r in replay if r.tier.monthly_credits > current.tier.monthly_credits and r.annual_cost < current.annual_cost]
    if not larger:
        return []
    best = min(larger, key=lambda r: (r.annual_cost, r.tier.monthly_credits))
    money = (current.annual_cost - best.annual_cost) / 12
    kind = KINDS["topups-vs-upgrade"]
    spent = sum(float(t.price) for t in bought)
    evidence = {
        "rule": kind.detection, "formula": kind.formula, "assumptions": {},
        "topups_bought": [{"date": t.date.isoformat(), "credits": float(t.credits), "price": float(t.price)} for t in bought],
        "topups_spent": spent, "replayed_cycles": [c.cycle for c in current.cycles],
        "current_tier": current.tier.name, "current_replayed_annual_cost": current.annual_cost,
        "current_ran_out": current.ran_out, "current_topup_credits": current.topup_credits,
        "upgrade_tier": best.tier.name, "upgrade_replayed_annual_cost": best.annual_cost,
        "price_per_credit": ppc, "monthly_money_saved": money, "cited_credits_per_month": current.annual_cost / 12 / ppc,
    }
    summary = (f"Replaying the last {len(current.cycles)} complete cycles' demand, {current.tier.name} runs out in "
               f"{current.ran_out} of them and needs {fmt.credits(current.topup_credits)} credits of top-ups: "
               f"{fmt.money(current.annual_cost)} a year. {best.tier.name} would cost {fmt.money(best.annual_cost)}, "
               f"{fmt.money(money)} a month less ({fmt.credits(money / ppc)} credits at the current price per credit).")
    return [Recommendation(f"topups-vs-upgrade:{_slug_tier(best.tier.name)}", "topups-vs-upgrade",
                           f"Upgrade to {best.tier.name} instead of buying top-ups", "subscription", money / ppc, summary,
                           evidence, guide_url(kind, guides), money)]


def _slug_tier(name: str) -> str:
    return slugify(name)
