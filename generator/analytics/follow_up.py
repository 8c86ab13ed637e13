"""Follow-up of advice: did the credits a recommendation cited go down in the cycle after it was made?

A recommendation counts as made for the second-to-last complete cycle when its rule found at least
`min_monthly_savings` there; the cycle after it is the last complete cycle (both whole cycles, so the
two figures compare like with like). The follow-up shows the credits the rule cited in each (0 when the
rule found nothing afterwards) and the change, e.g. "regenerations: 1,301 → 1,105 credits, −15%".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.analytics.rules import Finding

# What each rule's cited credits are, in the words of the follow-up line.
CITED = {
    "edit-instead-of-regenerate": "regenerations", "upscale-final-only": "upscales of images changed afterwards",
    "batch-generation": "repeated single generations", "model-choice": "work on dearer models",
    "knowledge-deliberate": "knowledge-based events", "enhance-final-only": "enhancements of replaced drafts",
    "chat-context": "restarted conversations", "daily-pacing": "spike days", "expiring-credits": "expired credits",
    "team-practice": "operations compared with the best team",
}


@dataclass(frozen=True)
class FollowUp:
    what: str
    advised_in: str
    followed_in: str
    before: float  # cited credits in the cycle the advice was made for
    after: float  # in the cycle after

    @property
    def change(self) -> float:
        return self.after - self.before

    @property
    def change_ratio(self) -> float | None:
        return self.change / self.before if self.before else None

    def as_json(self) -> dict[str, Any]:
        return {"what": self.what, "advised_in": self.advised_in, "followed_in": self.followed_in,
                "cited_credits_before": self.before, "cited_credits_after": self.after, "change": self.change,
                "change_ratio": self.change_ratio}


def follow_up(kind: str, scope: str, by_cycle: dict[str, dict[tuple[str, str], Finding]], complete: list[str],
              least: float, unfound: float = 0.0) -> FollowUp | None:
    """`unfound`: the after figure when the rule found nothing in the cycle after (expired credits below the
    rule's share still expired: the follow-up shows them, not 0)."""
    if len(complete) < 2:
        return None
    advised, followed = complete[-2], complete[-1]
    made = by_cycle.get(advised, {}).get((kind, scope))
    if made is None or made.savings < least:
        return None
    later = by_cycle.get(followed, {}).get((kind, scope))
    return FollowUp(CITED.get(kind, "cited credits"), advised, followed, made.cited_credits,
                    later.cited_credits if later is not None else unfound)
