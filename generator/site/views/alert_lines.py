"""Alerts as the overview lists them: in reading order, budget alerts of one kind collapsed into one line.

The month page lists every alert (each keeps its own anchor, which feature and team pages link to).

Order (Analytics.alerts_of): critical, warning, info; the subscription before features and teams;
then scope and date. Two or more budget alerts of the same level, scope type and kind (went over, or
on pace to) read as one line, "4 team budgets on pace to go over", naming the budgets in its detail.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.analytics.alerts import Alert
from generator.config import SiteConfig


@dataclass(frozen=True)
class AlertLine:
    id: str  # the anchor: the alert's id, or the first collapsed alert's
    level: str
    cycle: str
    title: str
    detail: str
    when: str
    projected: bool
    count: int = 1


def _line(a: Alert) -> AlertLine:
    return AlertLine(a.id, a.level, a.cycle, a.title, a.detail, a.when, a.projected)


def alert_lines(config: SiteConfig, alerts: list[Alert]) -> list[AlertLine]:
    groups: dict[tuple[str, str, bool], list[Alert]] = {}
    for a in alerts:
        if a.kind == "budget-overrun":
            groups.setdefault((a.level, a.scope.split(":", 1)[0], a.projected), []).append(a)
    out: list[AlertLine] = []
    done: set[tuple[str, str, bool]] = set()
    for a in alerts:
        key = (a.level, a.scope.split(":", 1)[0], a.projected)
        group = groups.get(key) if a.kind == "budget-overrun" else None
        if not group or len(group) < 2:
            out.append(_line(a))
            continue
        if key in done:
            continue
        done.add(key)
        kind = key[1]
        names = [config.scope_label(g.scope) for g in group]
        whens = {g.when for g in group}
        what = "on pace to go over" if key[2] else "went over"
        first = min(group, key=lambda g: g.date).when
        when = first if len(whens) == 1 else f"first {first}" if first.startswith("before") else f"first on {first}"
        out.append(AlertLine(group[0].id, a.level, a.cycle, f"{len(group)} {kind} budgets {what}",
                             f"{', '.join(names)}: " + " ".join(g.detail for g in group), when, key[2], len(group)))
    return out
