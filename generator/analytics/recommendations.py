"""Optimization recommendations (api/recommendations.json) in three categories (SPEC §4 `category`):

- `practice`: a change of work habits that uses fewer credits for the same work, ranked by
  `estimated_monthly_savings` (credits). Its money value (`estimated_monthly_savings_money`) is shown
  only where the saving avoids top-ups: min(saving, the current tier's top-up need at next cycle's
  expected demand) × the top-up price per credit; otherwise a credit saved is a credit that expires.
- `plan`: a change of tier that costs less money, from the tier decision (tier_decision.py) alone, so
  the plan page, the overview and this list never disagree; `estimated_monthly_savings_money` only.
- `timing`: using credits before they expire, spreading work to avoid running out; nothing is saved,
  `credits_at_stake` says how many credits it concerns.

Per-cycle rules (rules.py) are evaluated on every cycle; a recommendation's figure is the average of its
findings over the baseline cycles (the plan's last `baseline_cycles` complete cycles; with none complete
yet, the current cycle scaled to a whole cycle). A recommendation with no finding in the baseline is not
emitted; one below `min_monthly_savings` credits (practice, timing) is not listed. Estimates of
different recommendations can overlap: they are not meant to be added up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generator import formatting as fmt
from generator.analytics import rules
from generator.analytics.alerts import scope_slug
from generator.analytics.follow_up import FollowUp, follow_up
from generator.analytics.rules import Finding, Rule, RuleInput
from generator.analytics.slugs import slugify
from generator.analytics.tier_decision import Decision
from generator.config import SiteConfig
from generator.model.cycle_report import CycleFigures
from generator.model.cycles import elapsed_days
from generator.model.tier_plan import Plan

CATEGORY = {"tier-change": "plan", "topups-vs-upgrade": "plan", "daily-pacing": "timing", "expiring-credits": "timing"}
CATEGORY_ORDER = ("practice", "plan", "timing")


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
         "the tier decision says to switch now, and the new tier's cost over the decision's horizon (top-ups at "
         "the top-up price included) is lower than staying",
         "(current tier's cost over the horizon − new tier's) ÷ horizon months, in money",
         (), "tier-selection"),
    Kind("topups-vs-upgrade", None,
         "the tier decision says to switch now to a tier with more credits while the current tier would need "
         "top-ups, and that costs less over the decision's horizon than buying them",
         "(current tier with top-ups over the horizon − larger tier's) ÷ horizon months, in money",
         (), "tier-selection"),
    Kind("daily-pacing", rules.daily_pacing,
         "spike days in the cycle (a day above spike_factor × the median of the 28 days before it)",
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
    estimated_monthly_savings: float | None  # credits (practice only)
    summary: str
    evidence: dict[str, Any]
    guide: str  # site-relative URL of the guide page (and anchor)
    monthly_money: float | None = None  # estimated_monthly_savings_money
    per_cycle: dict[str, Finding] = field(default_factory=dict)
    category: str = "practice"
    credits_at_stake: float | None = None  # timing only
    follow_up: FollowUp | None = None

    @property
    def rank_key(self) -> tuple:
        figure = {"practice": self.estimated_monthly_savings, "plan": self.monthly_money,
                  "timing": self.credits_at_stake}[self.category]
        return (CATEGORY_ORDER.index(self.category), -(figure or 0.0), self.id)


def category_of(kind: str) -> str:
    return CATEGORY.get(kind, "practice")


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


def topup_need(decision: Decision, shortfall: float = 0.0) -> float:
    """Top-up credits a month a saving could avoid: the current cycle's projected shortfall, or what the current
    tier would lack next cycle at the expected demand, whichever is larger."""
    ahead = decision.path[0].demand - float(decision.current.monthly_credits) if decision.path else 0.0
    return max(0.0, ahead, shortfall)


def build_recommendations(config: SiteConfig, inp: RuleInput, cycles: list[CycleFigures], plan: Plan,
                          decision: Decision, by_cycle: dict[str, dict[tuple[str, str], Finding]],
                          slugs: dict[str, dict[str, str]], guides: set[str], shortfall: float = 0.0) -> list[Recommendation]:
    """The listed recommendations: practice by credits saved, then plan by money saved, then timing by credits at stake.

    `shortfall`: the current cycle's projected shortfall (credits to be bought as top-ups at this pace)."""
    base = baseline_of(cycles, plan)
    rec = config.recommendations
    p = decision.topup_price_per_credit
    need = topup_need(decision, shortfall)
    complete = [c.name for c in cycles if c.complete]
    out: list[Recommendation] = []
    keys = sorted({key for name in base.cycles for key in by_cycle.get(name, {})})
    for kind_name, scope in keys:
        kind = KINDS[kind_name]
        category = category_of(kind_name)
        per = {name: by_cycle[name][(kind_name, scope)] for name in base.cycles if (kind_name, scope) in by_cycle[name]}
        savings = sum(f.savings for f in per.values()) / base.months
        cited = sum(f.cited_credits for f in per.values()) / base.months
        events = [f.cited_events for f in per.values() if f.cited_events is not None]
        stake = _at_stake(kind_name, per, base) if category == "timing" else None
        money = min(savings, need) * p if category == "practice" and p is not None and need > 0 else None
        unfound = float(inp.cycles[complete[-1]].expired or 0) if kind_name == "expiring-credits" and complete else 0.0
        later = follow_up(kind_name, scope, by_cycle, complete, float(rec.min_monthly_savings), unfound)
        evidence = {
            "rule": kind.detection, "formula": kind.formula,
            "assumptions": {k: _plain(getattr(rec, k)) for k in kind.assumptions},
            "baseline": base.cycles, "baseline_months": base.months,
            "cited_credits_per_month": cited,
            "cited_events_per_month": sum(events) / base.months if events else None,
            "per_cycle": {name: {"savings": f.savings, "cited_credits": f.cited_credits, "cited_events": f.cited_events,
                                 **f.figures} for name, f in per.items()},
        }
        if category == "practice":
            evidence["topup_credits_avoidable_per_month"] = need
            evidence["topup_price_per_credit"] = p
        else:
            evidence["usable_credits_per_month"] = savings  # the old estimate: a share of the credits at stake
        if later is not None:
            evidence["follow_up"] = later.as_json()
        title, summary = _wording(config, kind_name, scope, per, base, savings, stake)
        out.append(Recommendation(
            f"{kind_name}:{scope_slug(scope, slugs)}", kind_name, title, scope,
            savings if category == "practice" else None, summary, evidence, guide_url(kind, guides), money,
            per_cycle=per, category=category, credits_at_stake=stake, follow_up=later))
    out += plan_recommendations(config, decision, guides)
    least = float(rec.min_monthly_savings)
    listed = [r for r in out if r.category == "plan"
              or (r.category == "practice" and r.estimated_monthly_savings >= least)
              or (r.category == "timing" and (r.credits_at_stake or 0) >= least)]
    return sorted(listed, key=lambda r: r.rank_key)


def _at_stake(kind: str, per: dict[str, Finding], base: Baseline) -> float:
    if kind == "daily-pacing":  # the credits spike days spent above the usual day
        return sum(f.figures["excess"] for f in per.values()) / base.months
    return sum(f.cited_credits for f in per.values()) / base.months  # credits that expired


def _plain(value: Any) -> Any:
    return float(value) if not isinstance(value, (int, float, bool)) else value


WORK = {("image", "generate"): "image generation", ("image", "edit"): "image edits", ("image", "upscale"): "upscales",
        ("compose", "create"): "document drafting", ("compose", "enhance"): "document enhancements",
        ("chat", "response"): "chat"}
UNIT = {("image", "generate"): "image", ("image", "edit"): "edit", ("image", "upscale"): "upscale",
        ("compose", "create"): "document", ("compose", "enhance"): "enhancement", ("chat", "response"): "response"}


def best_team_line(per: dict[str, Finding]) -> dict[str, Any] | None:
    """The feature and operation where the team's gap to the best team was largest over the baseline."""
    acc: dict[tuple[str, str, str], list[float]] = {}
    for f in per.values():
        for line in f.figures.get("lines", []):
            a = acc.setdefault((line["feature"], line["operation"], line["best_team"]), [0.0, 0.0, 0.0, 0.0])
            a[0] += line["gap"]
            a[1] += line["items"]
            a[2] += line["price"] * line["items"]
            a[3] += line["best_price"] * line["items"]
    if not acc:
        return None
    (feature, operation, best), (gap, items, paid, best_paid) = max(acc.items(), key=lambda kv: (kv[1][0], kv[0]))
    return {"feature": feature, "operation": operation, "best_team": best, "gap": gap,
            "price": paid / items, "best_price": best_paid / items}


def _wording(config: SiteConfig, kind: str, scope: str, per: dict[str, Finding], base: Baseline, savings: float,
             stake: float | None) -> tuple[str, str]:
    """Title and summary, in the words the pages use: display names, no configuration keys."""
    m = base.months
    rec = config.recommendations

    def total(key: str) -> float:
        return sum(f.figures.get(key, 0) for f in per.values())

    cited = sum(f.cited_credits for f in per.values()) / m
    n = len(base.cycles)
    over = f"over the last {n} complete cycle{'s' if n != 1 else ''}" if n > 1 or m >= 1 else "so far this cycle"
    tail = f" That is about {fmt.approx(savings)} credits a month."
    raw = scope.split(":", 1)[1] if ":" in scope else ""
    name = config.scope_label(scope)
    if kind == "edit-instead-of-regenerate":
        price = total("edit_price") / len(per)
        return ("Edit near-miss images instead of regenerating them",
                f"Image sessions regenerated about {fmt.credits(total('regenerations') / m)} images a month {over}, for "
                f"{fmt.credits(cited)} credits; as edits at {fmt.credits(price)} credit each they would have cost "
                f"{fmt.credits(total('as_edits') / m)}. Assuming {fmt.pct(rec.regenerate_to_edit_share)} of them could "
                f"have been edits." + tail)
    if kind == "upscale-final-only":
        return ("Upscale only final images",
                f"About {fmt.credits(total('nonfinal_upscales') / m)} upscales a month ({fmt.credits(cited)} credits) "
                f"{over} were followed by further changes to the same image, so they were not of the final version. "
                f"Assuming {fmt.pct(rec.upscale_avoidable_share)} of them were avoidable." + tail)
    if kind == "batch-generation":
        return ("Batch similar image generations",
                f"{fmt.credits(cited)} credits a month {over} went to single-image generations repeated in one session "
                f"with one model, which costs more per image than that model's batches. Assuming "
                f"{fmt.pct(rec.batch_share)} of them could have been batched." + tail)
    if kind == "model-choice":
        return (f"Match the {name} model to the job",
                f"{fmt.credits(cited)} credits a month of {name} {over} went to models dearer per item than the cheapest "
                f"model used for the same operation; at the cheapest model's price the same work would have cost "
                f"{fmt.credits(total('excess') / m)} credits less. Assuming {fmt.pct(rec.model_shift_share)} of that "
                f"work could move." + tail)
    if kind == "knowledge-deliberate":
        return (f"Use knowledge base integration in {name} deliberately",
                f"Knowledge base integration in {name} cost a measured premium of "
                f"{fmt.credits(total('premium_credits') / m)} credits a month {over} (credits per event with it minus "
                f"without it, for the same operation and model). Assuming {fmt.pct(rec.knowledge_avoidable_share)} of "
                f"that use was not needed." + tail)
    if kind == "enhance-final-only":
        return ("Enhance the final version of a document, not each draft",
                f"About {fmt.credits(total('enhances_before_final') / m)} enhancements a month ({fmt.credits(cited)} "
                f"credits) {over} were applied to drafts that a later version replaced. Assuming "
                f"{fmt.pct(rec.enhance_avoidable_share)} of them were avoidable." + tail)
    if kind == "chat-context":
        return ("Keep chat context instead of restarting conversations",
                f"About {fmt.credits(total('restarted_conversations') / m)} short conversations a month "
                f"({fmt.credits(cited)} credits) {over} were dropped and restarted within "
                f"{fmt.credits(rec.restart_window_minutes)} minutes. Assuming {fmt.pct(rec.restart_waste_share)} of "
                f"their credits were spent re-establishing context." + tail)
    if kind == "daily-pacing":
        days = sum(len(f.figures["spike_days"]) for f in per.values())
        return ("Spread heavy days to keep the daily pace",
                f"{days} spike day{'s' if days != 1 else ''} {over} spent {fmt.credits(stake)} credits a month above "
                f"the usual day. Spreading that work over quieter days uses the same credits, but keeps the cycle "
                f"from running out early; it saves nothing by itself.")
    if kind == "expiring-credits":
        return ("Put remaining credits to use before they expire",
                f"{fmt.credits(stake)} credits a month expired unused {over}, counting the cycles where more than "
                f"{fmt.pct(rec.expiring_share)} of the allocation expired. Work pulled forward into the last days of "
                f"a cycle uses credits that are already paid for; it saves nothing, but nothing is wasted.")
    if kind == "team-practice":
        line = best_team_line(per)
        team = config.team_label(raw)
        if line is None:
            return (f"Team {team}: learn from the most efficient team", "")
        best = config.team_label(line["best_team"])
        unit = UNIT.get((line["feature"], line["operation"]), "item")
        what = WORK.get((line["feature"], line["operation"]), f"{config.feature_label(line['feature'])} {line['operation']}")
        return (f"Team {team}: learn from team {best}'s {what}",
                f"{best}: {fmt.credits(line['best_price'])} credits per {unit} vs {team}'s "
                f"{fmt.credits(line['price'])}. Team {team} paid {fmt.credits(total('gap') / m)} credits a month {over} "
                f"more than the same operations would have cost at the best team's credits per item. Assuming "
                f"{fmt.pct(rec.team_practice_share)} of that gap can be closed." + tail)
    raise ValueError(kind)


def plan_recommendations(config: SiteConfig, d: Decision, guides: set[str]) -> list[Recommendation]:
    """At most one: the tier decision's switch-now, when it costs less money over the horizon."""
    saving = d.saving
    if d.action != "switch-now" or saving is None or saving <= 0 or not d.path:
        return []
    money = saving / d.horizon_months
    cur = config.site.currency
    needs_topups = d.path[0].demand > float(d.current.monthly_credits) and d.tier.monthly_credits > d.current.monthly_credits
    kind_name = "topups-vs-upgrade" if needs_topups else "tier-change"
    kind = KINDS[kind_name]
    now_cost, new_cost = d.annual_cost[d.current.name], d.annual_cost[d.tier.name]
    evidence = {
        "rule": kind.detection, "formula": kind.formula, "assumptions": {},
        "action": d.action, "current_tier": d.current.name, "tier": d.tier.name,
        "horizon_months": d.horizon_months, "current_cost": now_cost, "tier_cost": new_cost,
        "topup_price_per_credit": d.topup_price_per_credit, "break_even_demand": d.break_even_demand,
        "demand_next_cycle": d.path[0].demand, "monthly_money_saved": money,
    }
    title = (f"Upgrade to {d.tier.name} instead of buying top-ups" if needs_topups
             else f"Move from {d.current.name} to {d.tier.name}")
    summary = (f"Over the next {d.horizon_months} months of expected demand, {d.current.name} would cost "
               f"{fmt.money(now_cost, cur)}{' with top-ups' if needs_topups else ''} and {d.tier.name} "
               f"{fmt.money(new_cost, cur)}: about {fmt.money(money, cur)} a month less.")
    return [Recommendation(f"{kind_name}:{slugify(d.tier.name)}", kind_name, title, "subscription", None, summary,
                           evidence, guide_url(kind, guides), money, category="plan")]
