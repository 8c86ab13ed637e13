"""Reduce the `events` table to the small aggregates the report model needs.

Everything here is one SQL query over DuckDB; what reaches Python is per day × feature × team
(a few thousand rows for a year), never per event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from generator.config import SiteConfig
from generator.errors import DataError, Problem
from generator.ingest.load import Ingested
from generator.model.cycles import Cycle, cycle_of, local_date
from generator.model.state import open_state


@dataclass(frozen=True)
class DayUsage:
    """Credits and events of one local day for one (feature, team)."""

    day: dt.date
    feature: str
    team: str
    credits: Decimal
    events: int


@dataclass(frozen=True)
class WindowUsage:
    """Credits inside the current cycle's burn window, for one (feature, team)."""

    feature: str
    team: str
    credits: Decimal


@dataclass(frozen=True)
class Usage:
    as_of: dt.datetime
    first_day: dt.date
    days: list[DayUsage]
    current_cycle: Cycle
    window_start: dt.datetime  # burn window (window_start, as_of], clipped to the cycle start
    window: list[WindowUsage]
    events_counted: int
    events_after_as_of: int


def summarize(ingested: Ingested, config: SiteConfig) -> Usage:
    con = ingested.con
    latest, count = con.execute("SELECT max(ts), count(*) FROM all_events").fetchone()
    if not count:
        raise DataError([Problem(config.path.name, None, "data.exports", "the exports hold no countable events")])
    as_of = (config.as_of_override or latest).astimezone(config.tz)
    after = con.execute("SELECT count(*) FROM all_events WHERE ts > ?", [as_of]).fetchone()[0]
    # Events after as_of are left out of every figure (counted on the data-quality page).
    con.execute(f"CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM all_events WHERE ts <= TIMESTAMPTZ '{as_of.isoformat()}'")
    first_day = con.execute("SELECT min(day) FROM events").fetchone()[0]
    if first_day is None:
        raise DataError([Problem(config.path.name, None, "site.as_of", f"no event at or before as_of {as_of.isoformat()}")])
    # The keyed tables behind the finer figures, refreshed from the cache; the days come from one of
    # them (per day × feature × team × member) rather than from another scan of every event.
    open_state(config, ingested)
    days = [DayUsage(*row) for row in con.execute("""
        SELECT day, feature, team, sum(credits), sum(events)::BIGINT FROM cw_state.day_member
        GROUP BY ALL ORDER BY ALL""").fetchall()]

    tz = config.tz
    current = cycle_of(local_date(as_of, tz), config.site.cycle_start_day, tz)
    window_start = max(as_of - dt.timedelta(days=config.thresholds.burn_window_days), current.start)
    # Clipped to the cycle start, the window is closed there: an event at the exact start belongs to it.
    op = ">=" if window_start == current.start else ">"
    window = [WindowUsage(*row) for row in con.execute(
        f"SELECT feature, team, sum(credits) FROM events WHERE ts {op} ? AND ts <= ? GROUP BY ALL ORDER BY ALL",
        [window_start, as_of]).fetchall()]
    return Usage(as_of, first_day, days, current, window_start, window, count - after, after)
