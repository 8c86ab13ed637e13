"""The account of every row read, and what looks wrong or missing in the data (the data-quality page).

Rows read = counted + duplicate + quarantined, per file. Besides the rows left out, it flags
names the spec does not know (kept and reported under their own name) and likely missing
exports: runs of days without a single event where this organisation is normally active.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal

import duckdb

from generator.errors import Problem
from generator.ingest.exports import FileStats
from generator.ingest.load import Ingested
from generator.model.cycle_report import CycleFigures
from generator.model.usage import Usage

# SPEC §1: the features and operations Aethera reports; a refund may come from any feature.
KNOWN_OPERATIONS = {"image": {"generate", "edit", "upscale"}, "compose": {"create", "enhance"}, "chat": {"response"}}
# A weekday counts as a working day for this organisation when it had events in at least this
# share of its occurrences; a gap is flagged when it swallows at least this many working days
# (a single quiet working day is usually a public holiday, not a missing export).
USUAL_DAY_SHARE = 0.5
MIN_MISSING_WORKDAYS = 2


@dataclass(frozen=True)
class UnknownName:
    feature: str
    operation: str
    events: int
    credits: Decimal
    why: str  # "unknown feature" or "unknown operation for image"


@dataclass(frozen=True)
class Gap:
    """Days in a row with no events at all, between two days with events."""

    first: dt.date
    last: dt.date
    workdays: int  # of them, weekdays on which this organisation usually works

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class DataQuality:
    files: list[FileStats]
    problems: list[Problem]  # the rows left out, each with its place and reason
    unknown: list[UnknownName]
    gaps: list[Gap]
    usual_weekdays: list[int]  # 0 = Monday
    events_after_as_of: int

    @property
    def rows_read(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def counted(self) -> int:
        return sum(f.counted for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicate for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)


def unknown_names(con: duckdb.DuckDBPyConnection) -> list[UnknownName]:
    # From the keyed per-day operations table (model/state.py), not another scan of every event.
    rows = con.execute("""SELECT feature, operation, sum(events)::BIGINT, sum(credits) FROM cw_state.ops
                          GROUP BY ALL ORDER BY ALL""").fetchall()
    out = []
    for feature, operation, n, credits in rows:
        if operation == "refund":
            continue
        if feature not in KNOWN_OPERATIONS:
            out.append(UnknownName(feature, operation, n, credits, "unknown feature"))
        elif operation not in KNOWN_OPERATIONS[feature]:
            out.append(UnknownName(feature, operation, n, credits, f"unknown operation for {feature}"))
    return out


def usual_weekdays(active: set[dt.date], first: dt.date, last: dt.date) -> list[int]:
    """Weekdays with events on at least USUAL_DAY_SHARE of their occurrences in [first, last]."""
    seen, had = [0] * 7, [0] * 7
    day = first
    while day <= last:
        seen[day.weekday()] += 1
        had[day.weekday()] += day in active
        day += dt.timedelta(days=1)
    return [w for w in range(7) if seen[w] and had[w] / seen[w] >= USUAL_DAY_SHARE]


def find_gaps(active: set[dt.date], explained: frozenset[dt.date] = frozenset()) -> tuple[list[Gap], list[int]]:
    """Runs of empty days between active days that swallow at least MIN_MISSING_WORKDAYS working days.

    `explained` days are quiet for a known reason (the cycle had run out) and never count.
    """
    if not active:
        return [], []
    days = sorted(active)
    usual = usual_weekdays(active, days[0], days[-1])
    gaps = []
    for before, after in itertools.pairwise(days):
        if (after - before).days < 2:
            continue
        first, last = before + dt.timedelta(days=1), after - dt.timedelta(days=1)
        span = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        workdays = sum(d.weekday() in usual and d not in explained for d in span)
        if workdays >= MIN_MISSING_WORKDAYS:
            gaps.append(Gap(first, last, workdays))
    return gaps, usual


def assess(ingested: Ingested, usage: Usage, cycles: list[CycleFigures]) -> DataQuality:
    active = {d.day for d in usage.days if d.events}
    ran_out = frozenset(day for c in cycles if c.exhausted_on for day in c.cycle.dates() if day > c.exhausted_on)
    gaps, usual = find_gaps(active, ran_out)
    return DataQuality(ingested.files, ingested.quarantined, unknown_names(ingested.con), gaps, usual,
                       usage.events_after_as_of)
