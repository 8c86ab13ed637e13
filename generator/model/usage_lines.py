"""Usage per day × feature × operation × model × team × member, the rows of the FOCUS export.

One GROUP BY over the DuckDB `events` table (after `usage.summarize` removed the events after as_of);
the result is as fine as finance tools want it and no finer: never one row per event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import duckdb


@dataclass(frozen=True)
class UsageLine:
    day: dt.date  # local date in the site timezone
    feature: str
    operation: str
    model: str | None
    team: str
    member: str
    credits: Decimal
    events: int
    quantity: int


def usage_lines(con: duckdb.DuckDBPyConnection) -> list[UsageLine]:
    return [UsageLine(*row) for row in con.execute("""
        SELECT day, feature, operation, model, team, member, sum(credits), count(*), sum(quantity)::BIGINT
        FROM events GROUP BY ALL ORDER BY day, feature, operation, model NULLS FIRST, team, member""").fetchall()]
