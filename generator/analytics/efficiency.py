"""Efficiency figures of a cycle, for the whole subscription, one team or one feature.

Every term is defined once here (and in guides/glossary):
- cost per operation: credits ÷ events; per item: credits ÷ quantity (SPEC §3), by feature, operation, model.
- regeneration: an image `generate` after the first one of its session (the image was made again).
- regeneration share: regenerations ÷ generates in sessions; edit share: edits ÷ (edits + regenerations).
- non-final upscale: an `upscale` followed by a `generate` or `edit` in the same session (the upscaled
  image was changed afterwards, so the upscale was not of the final image).
- batch share: images made by batch generations (quantity > 1) ÷ all images generated.
- enhancement before the final version: a compose `enhance` followed by a later `create` in the same
  document session.
- conversation: a chat session; short: at most `short_conversation_responses` responses; restarted:
  short, and the same member opened another conversation within `restart_window_minutes` of its last response.
- knowledge premium: per feature × operation × model, credits per event with knowledge integration
  minus credits per event without it (measured over the whole subscription in the cycle); premium
  credits = knowledge events × that premium.
- organisation median: the median of a metric over the teams that have it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from statistics import median

from generator.model.details import Details, OpRow

ZERO = Decimal(0)
OpKey = tuple[str, str, str | None]  # feature, operation, model


def ratio(num: float | Decimal | int, den: float | Decimal | int) -> float | None:
    return float(num) / float(den) if den else None


@dataclass(frozen=True)
class CostLine:
    feature: str
    operation: str
    model: str | None
    events: int
    credits: Decimal
    quantity: int
    previous_per_item: float | None = None  # same line in the previous cycle

    @property
    def per_event(self) -> float | None:
        return ratio(self.credits, self.events)

    @property
    def per_item(self) -> float | None:
        return ratio(self.credits, self.quantity)

    @property
    def change(self) -> float | None:
        """Month-over-month change of credits per item (0.1 = 10 % dearer)."""
        if self.previous_per_item in (None, 0) or self.per_item is None:
            return None
        return self.per_item / self.previous_per_item - 1


@dataclass(frozen=True)
class ImageWorkflow:
    generates: int
    generated_items: int
    batch_items: int
    sessions: int
    session_generates: int
    regenerations: int
    regeneration_credits: Decimal
    edits: int
    upscales: int
    nonfinal_upscales: int
    nonfinal_upscale_credits: Decimal

    @property
    def regeneration_share(self) -> float | None:
        return ratio(self.regenerations, self.session_generates)

    @property
    def edit_share(self) -> float | None:
        return ratio(self.edits, self.edits + self.regenerations)

    @property
    def nonfinal_upscale_share(self) -> float | None:
        return ratio(self.nonfinal_upscales, self.upscales)

    @property
    def batch_share(self) -> float | None:
        return ratio(self.batch_items, self.generated_items)


@dataclass(frozen=True)
class ComposeWorkflow:
    documents: int
    creates: int
    enhances: int
    enhances_before_final: int
    enhances_before_final_credits: Decimal

    @property
    def enhances_per_document(self) -> float | None:
        return ratio(self.enhances, self.documents)

    @property
    def before_final_share(self) -> float | None:
        return ratio(self.enhances_before_final, self.enhances)


@dataclass(frozen=True)
class ChatWorkflow:
    conversations: int
    responses: int
    short: int
    restarted: int
    restarted_responses: int
    restarted_credits: Decimal

    @property
    def responses_per_conversation(self) -> float | None:
        return ratio(self.responses, self.conversations)

    @property
    def short_share(self) -> float | None:
        return ratio(self.short, self.conversations)

    @property
    def restart_share(self) -> float | None:
        return ratio(self.restarted, self.conversations)


@dataclass(frozen=True)
class KnowledgeUse:
    events: int  # events with knowledge integration
    credits: Decimal
    eligible_events: int  # events of the features that used it at all
    premium_credits: float

    @property
    def share(self) -> float | None:
        return ratio(self.events, self.eligible_events)

    @property
    def premium_per_event(self) -> float | None:
        return ratio(self.premium_credits, self.events)


@dataclass(frozen=True)
class Efficiency:
    cycle: str
    team: str | None  # None: the whole subscription (or the feature given)
    feature: str | None
    credits: Decimal
    events: int
    cost_lines: list[CostLine]
    image: ImageWorkflow
    compose: ComposeWorkflow
    chat: ChatWorkflow
    knowledge: KnowledgeUse

    def metrics(self) -> dict[str, float | None]:
        """The ratios that compare teams fairly (each independent of a team's size)."""
        gen = [c for c in self.cost_lines if c.feature == "image" and c.operation == "generate"]
        chat = [c for c in self.cost_lines if c.feature == "chat" and c.operation == "response"]
        return {
            "credits_per_event": ratio(self.credits, self.events),
            "image_credits_per_item": ratio(sum((c.credits for c in gen), ZERO), sum(c.quantity for c in gen)),
            "regeneration_share": self.image.regeneration_share,
            "edit_share": self.image.edit_share,
            "nonfinal_upscale_share": self.image.nonfinal_upscale_share,
            "batch_share": self.image.batch_share,
            "enhances_per_document": self.compose.enhances_per_document,
            "chat_credits_per_response": ratio(sum((c.credits for c in chat), ZERO), sum(c.events for c in chat)),
            "responses_per_conversation": self.chat.responses_per_conversation,
            "restart_share": self.chat.restart_share,
            "knowledge_share": self.knowledge.share,
        }


def knowledge_premiums(ops: list[OpRow]) -> dict[OpKey, float]:
    """Per (feature, operation, model): credits per event with knowledge minus without (only where positive)."""
    sums: dict[tuple[OpKey, bool], list] = defaultdict(lambda: [ZERO, 0])
    for r in ops:
        s = sums[((r.feature, r.operation, r.model), r.knowledge)]
        s[0] += r.credits
        s[1] += r.events
    out = {}
    for (key, knowledge), (credits, events) in sums.items():
        if not knowledge or not events or (key, False) not in sums:
            continue
        base_credits, base_events = sums[(key, False)]
        if base_events:
            premium = float(credits) / events - float(base_credits) / base_events
            if premium > 0:
                out[key] = premium
    return dict(sorted(out.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")))


def cost_lines(ops: list[OpRow], previous: list[OpRow] | None = None) -> list[CostLine]:
    """Cost per operation by (feature, operation, model), with last cycle's credits per item beside it."""
    def totals(rows: list[OpRow]) -> dict[OpKey, list]:
        acc: dict[OpKey, list] = defaultdict(lambda: [0, ZERO, 0])
        for r in rows:
            a = acc[(r.feature, r.operation, r.model)]
            a[0] += r.events
            a[1] += r.credits
            a[2] += r.quantity
        return acc

    now, before = totals(ops), totals(previous or [])
    out = []
    for key in sorted(now, key=lambda k: (k[0], k[1], k[2] or "")):
        events, credits, quantity = now[key]
        prev = before.get(key)
        prev_per_item = float(prev[1]) / prev[2] if prev and prev[2] else None
        out.append(CostLine(key[0], key[1], key[2], events, credits, quantity, prev_per_item))
    return out


def efficiency(details: Details, cycle: str, previous_cycle: str | None, team: str | None = None,
               feature: str | None = None, premiums: dict[OpKey, float] | None = None) -> Efficiency:
    """The figures of one cycle, narrowed to a team and/or a feature (None: everything)."""
    def keep(r) -> bool:
        return (team is None or r.team == team) and (feature is None or r.feature == feature)

    now = details.of_cycle(cycle)
    ops = [r for r in now.ops if keep(r)]
    prev = [r for r in details.of_cycle(previous_cycle).ops if keep(r)]
    if premiums is None:
        premiums = knowledge_premiums(now.ops)
    sessions = [s for s in now.sessions if keep(s)]
    chats = [c for c in now.chats if (team is None or c.team == team) and feature in (None, "chat")]
    img = [s for s in sessions if s.feature == "image"]
    doc = [s for s in sessions if s.feature == "compose"]
    gen = [r for r in ops if r.feature == "image" and r.operation == "generate"]

    def count(rows, op):
        return sum(r.events for r in rows if r.operation == op)

    image = ImageWorkflow(
        generates=sum(r.events for r in gen), generated_items=sum(r.quantity for r in gen),
        batch_items=sum(r.batch_items for r in gen), sessions=sum(s.sessions for s in img),
        session_generates=sum(s.generates for s in img), regenerations=sum(s.regenerations for s in img),
        regeneration_credits=sum((s.regeneration_credits for s in img), ZERO),
        edits=count([r for r in ops if r.feature == "image"], "edit"),
        upscales=count([r for r in ops if r.feature == "image"], "upscale"),
        nonfinal_upscales=sum(s.nonfinal_upscales for s in img),
        nonfinal_upscale_credits=sum((s.nonfinal_upscale_credits for s in img), ZERO))
    compose = ComposeWorkflow(
        documents=sum(s.sessions for s in doc), creates=sum(s.creates for s in doc), enhances=sum(s.enhances for s in doc),
        enhances_before_final=sum(s.enhances_before_final for s in doc),
        enhances_before_final_credits=sum((s.enhances_before_final_credits for s in doc), ZERO))
    chat = ChatWorkflow(
        conversations=sum(c.conversations for c in chats), responses=sum(c.responses for c in chats),
        short=sum(c.short for c in chats), restarted=sum(c.restarted for c in chats),
        restarted_responses=sum(c.restarted_responses for c in chats),
        restarted_credits=sum((c.restarted_credits for c in chats), ZERO))
    with_knowledge = [r for r in ops if r.knowledge]
    eligible_features = {r.feature for r in with_knowledge}
    knowledge = KnowledgeUse(
        events=sum(r.events for r in with_knowledge), credits=sum((r.credits for r in with_knowledge), ZERO),
        eligible_events=sum(r.events for r in ops if r.feature in eligible_features),
        premium_credits=sum(min(float(r.credits), r.events * premiums.get((r.feature, r.operation, r.model), 0.0))
                            for r in with_knowledge))
    return Efficiency(cycle, team, feature, sum((r.credits for r in ops), ZERO), sum(r.events for r in ops),
                      cost_lines(ops, prev), image, compose, chat, knowledge)


def team_medians(by_team: dict[str, Efficiency]) -> dict[str, float | None]:
    """The organisation median of every metric over the teams that have a value for it."""
    names = next(iter(by_team.values())).metrics().keys() if by_team else []
    out: dict[str, float | None] = {}
    for name in names:
        values = [v for e in by_team.values() if (v := e.metrics()[name]) is not None]
        out[name] = median(values) if values else None
    return out
