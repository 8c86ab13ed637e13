"""Usage per day × feature × operation × model × team × member: the rows of the FOCUS export.

The lines stay in DuckDB, as the keyed table `cw_state.usage_lines` (details.keyed_tables): it is
partitioned by day, so the daily refresh recomputes the new day's lines and keeps every other one.
Python sees a digest of each day's lines, which key that cycle's part of the export (site/api/focus.py):
a cycle whose lines did not change reuses its part, and one whose later days changed keeps the lines of
the days before them. The result is as fine as finance tools want it and no finer: never one row per event.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

import duckdb

TABLE = "cw_state.usage_lines"
ORDER = "day, feature, operation, model NULLS FIRST, team, member"  # the export's row order within a cycle

SELECT = """
    SELECT day, feature, operation, model, team, member, sum(credits) AS credits, count(*) AS events,
           sum(quantity)::BIGINT AS quantity
    FROM {events} WHERE {where} GROUP BY ALL ORDER BY day"""  # by day: a cycle's lines are a few row groups


class UsageDay(NamedTuple):
    """One day's usage lines, summed: what tells a cycle's FOCUS part which of its days changed."""

    day: str  # ISO date
    lines: int
    credits: Decimal
    digest: int  # a sum of the lines' row hashes (order-free)


def usage_days(con: duckdb.DuckDBPyConnection, cycle_sql: str) -> dict[str, tuple[UsageDay, ...]]:
    """Cycle name → its days with usage lines, in order (one scan of the lines)."""
    rows = con.execute(f"""
        SELECT {cycle_sql} AS cycle, day, count(*), sum(credits),
               sum(hash(day, feature, operation, model, team, member, credits, events, quantity)::HUGEINT)
        FROM {TABLE} GROUP BY ALL ORDER BY day""").fetchall()
    days: dict[str, list[UsageDay]] = {}
    for cycle, day, n, credits, digest in rows:
        days.setdefault(cycle, []).append(UsageDay(day.isoformat(), n, credits, int(digest)))
    return {cycle: tuple(d) for cycle, d in days.items()}
