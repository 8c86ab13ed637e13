"""Usage per day × feature × operation × model × team × member: the rows of the FOCUS export.

The lines stay in DuckDB, as the keyed table `cw_state.usage_lines` (details.keyed_tables): it is
partitioned by day, so the daily refresh recomputes the new day's lines and keeps every other one.
Python sees one fingerprint per cycle, which keys that cycle's part of the export (site/api/focus.py):
a cycle whose lines did not change reuses its part. The result is as fine as finance tools want it and
no finer: never one row per event.
"""

from __future__ import annotations

import duckdb

TABLE = "cw_state.usage_lines"
ORDER = "day, feature, operation, model NULLS FIRST, team, member"  # the export's row order within a cycle

SELECT = """
    SELECT day, feature, operation, model, team, member, sum(credits) AS credits, count(*) AS events,
           sum(quantity)::BIGINT AS quantity
    FROM {events} WHERE {where} GROUP BY ALL ORDER BY day"""  # by day: a cycle's lines are a few row groups


def cycle_fingerprints(con: duckdb.DuckDBPyConnection, cycle_sql: str) -> dict[str, str]:
    """Cycle name → a digest of its usage lines (count, credits and a sum of row hashes: order-free)."""
    rows = con.execute(f"""
        SELECT {cycle_sql}, count(*), sum(credits),
               sum(hash(day, feature, operation, model, team, member, credits, events, quantity)::HUGEINT)
        FROM {TABLE} GROUP BY 1""").fetchall()
    return {cycle: f"{n}:{credits}:{digest}" for cycle, n, credits, digest in rows}
