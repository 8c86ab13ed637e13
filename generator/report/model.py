"""The whole report model — everything pages, charts and the JSON API show.

Templates and chart code only lay out what this holds; all arithmetic happens before here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from generator.analytics.assemble import Analytics, build_analytics
from generator.config import SiteConfig
from generator.ingest.exports import FileStats
from generator.ingest.load import Ingested
from generator.model.cycle_report import CycleFigures, build_cycles
from generator.model.data_quality import DataQuality, assess
from generator.model.details import cycle_sql
from generator.model.surprises import surprises
from generator.model.tier_plan import Plan, recommend
from generator.model.usage import Usage, summarize
from generator.model.usage_lines import UsageDay, usage_days


@dataclass(frozen=True)
class Report:
    config: SiteConfig
    as_of: dt.datetime
    cycles: list[CycleFigures]  # oldest first
    plan: Plan
    features: list[str]
    teams: list[str]
    files: list[FileStats]
    events_counted: int
    events_after_as_of: int
    quarantined: int  # rows left out (a conflicting event leaves out every copy)
    quarantine_problems: int  # the problems that left them out, one line each
    warnings: list[str]
    analytics: Analytics  # alerts, budgets, forecast, efficiency, recommendations
    data_quality: DataQuality  # every row accounted for, unknown names, likely missing exports
    usage_days: dict[str, tuple[UsageDay, ...]]  # cycle → a digest of each day's usage lines (FOCUS export)

    @property
    def current(self) -> CycleFigures:
        return next(c for c in self.cycles if c.current)

    def neighbours(self, cycle: CycleFigures) -> tuple[CycleFigures | None, CycleFigures | None]:
        i = self.cycles.index(cycle)
        return (self.cycles[i - 1] if i else None, self.cycles[i + 1] if i + 1 < len(self.cycles) else None)


def build_report(config: SiteConfig, ingested: Ingested, guides: set[str]) -> Report:
    """`guides`: the slugs of the site's guide pages."""
    usage: Usage = summarize(ingested, config)  # as_of, the days, and the model's keyed tables (model/state.py)
    cycles = build_cycles(config, usage)
    plan = recommend(config, cycles)
    return Report(
        config=config,
        as_of=usage.as_of,
        cycles=cycles,
        plan=plan,
        features=sorted({d.feature for d in usage.days}),
        teams=sorted({d.team for d in usage.days}),
        files=ingested.files,
        events_counted=usage.events_counted,
        events_after_as_of=usage.events_after_as_of,
        quarantined=sum(f.quarantined for f in ingested.files),
        quarantine_problems=len(ingested.quarantined),
        warnings=[*ingested.warnings, *surprises(config, cycles)],
        analytics=build_analytics(config, ingested.con, usage, cycles, plan, guides),
        data_quality=assess(ingested, usage, cycles),
        usage_days=usage_days(ingested.con, cycle_sql(config)),
    )
