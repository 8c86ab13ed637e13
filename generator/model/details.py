"""The finer aggregates the analytics need, as GROUP BY queries over the DuckDB `events` table.

Each query returns a small result (per cycle × team × feature × operation × model, per cycle × team ×
member, session counts per cycle × team); no per-event row ever reaches Python. Sessions are
summarised inside DuckDB: a session belongs to the cycle of its first day and the team of its first
event. A per day × feature × team × member table stays in DuckDB for `top_contributors`, which the
alerts ask for once they know their date ranges. Everything runs while `build_report` holds the
connection (after `usage.summarize` removed the events after as_of).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from itertools import pairwise

import duckdb

from generator.config import SiteConfig
from generator.model import usage_lines

ZERO = Decimal(0)


@dataclass(frozen=True)
class OpRow:
    """One cycle × feature × operation × model × knowledge × team."""

    cycle: str
    feature: str
    operation: str
    model: str | None
    knowledge: bool
    team: str
    events: int
    credits: Decimal
    quantity: int
    batch_events: int  # events with quantity > 1
    batch_items: int
    batch_credits: Decimal


@dataclass(frozen=True)
class MemberRow:
    cycle: str
    team: str
    feature: str
    member: str
    credits: Decimal
    events: int


@dataclass(frozen=True)
class SessionRow:
    """Image and compose sessions of one cycle × team × feature (sessions without an id are not counted)."""

    cycle: str
    team: str
    feature: str
    sessions: int
    generates: int
    regenerations: int  # generate events after the first of their session
    regeneration_credits: Decimal
    edits: int
    upscales: int
    nonfinal_upscales: int  # upscales followed by a generate or edit in the same session
    nonfinal_upscale_credits: Decimal
    creates: int
    enhances: int
    enhances_before_final: int  # enhancements followed by a later create in the same document session
    enhances_before_final_credits: Decimal


@dataclass(frozen=True)
class BatchRow:
    """Single-image generations repeated in one session with one model (≥ 2 of them): batch candidates."""

    cycle: str
    team: str
    model: str | None
    singles: int
    credits: Decimal


@dataclass(frozen=True)
class ChatRow:
    """Chat conversations (sessions of `response` events) of one cycle × team."""

    cycle: str
    team: str
    conversations: int
    responses: int
    short: int  # at most `short_conversation_responses` responses
    restarted: int  # short, and the same member started another conversation within the restart window
    restarted_responses: int
    restarted_credits: Decimal


@dataclass(frozen=True)
class Details:
    ops: list[OpRow]
    members: list[MemberRow]
    sessions: list[SessionRow]
    batches: list[BatchRow]
    chats: list[ChatRow]

    @cached_property
    def _by_cycle(self) -> dict[str, Details]:
        parts: dict[str, tuple[list, ...]] = defaultdict(lambda: ([], [], [], [], []))
        for i, rows in enumerate((self.ops, self.members, self.sessions, self.batches, self.chats)):
            for r in rows:
                parts[r.cycle][i].append(r)
        return {cycle: Details(*lists) for cycle, lists in parts.items()}

    def of_cycle(self, cycle: str | None) -> Details:
        """The rows of one cycle (none for None or a cycle without events)."""
        return self._by_cycle.get(cycle, EMPTY) if cycle is not None else EMPTY


EMPTY = Details([], [], [], [], [])


@dataclass(frozen=True)
class Range:
    """A span of days, optionally narrowed to one feature or team, whose top contributors are wanted."""

    key: str
    first: dt.date
    last: dt.date
    feature: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class Top:
    name: str
    credits: Decimal
    share: float  # of the range's credits


def cycle_sql(config: SiteConfig, day: str = "day") -> str:
    """SQL naming the cycle (`YYYY-MM`) that holds a local date: its start is `cycle_start_day` days back at most."""
    back = config.site.cycle_start_day - 1
    return f"strftime({day} - INTERVAL {back} DAY, '%Y-%m')" if back else f"strftime({day}, '%Y-%m')"


# --- the keyed tables behind every figure below -----------------------------------------------
#
# Each finer figure is a small GROUP BY over one of these tables, and each table is a function of
# its partitions: a day (day × feature × team × member, the operations), a session (the
# image and document sessions, the batch candidates, the chat conversations). A partition's rows
# depend on that partition's events only, so when an export adds events, recomputing the partitions
# those events fall in (model/state.py) gives exactly the table a cold build computes.


@dataclass(frozen=True)
class KeyedTable:
    name: str
    part: str  # the table's partition column; `part_sql` computes it from an event
    part_sql: str
    select: str  # SELECT over `{events}` (the events, or a subset) with a `{where}` slot narrowing it to some partitions
    by_session: bool  # partitioned by session (else by day or cycle)


def keyed_tables(config: SiteConfig) -> list[KeyedTable]:
    return [
        KeyedTable("day_member", "day", "day", """
            SELECT day, feature, team, member, sum(credits) AS credits, count(*) AS events
            FROM {events} WHERE {where} GROUP BY ALL""", False),
        KeyedTable("ops", "day", "day", """
            SELECT day, feature, operation, model, knowledge, team, count(*) AS events,
                   sum(credits) AS credits, sum(quantity) AS quantity,
                   count(*) FILTER (WHERE quantity > 1) AS batch_events,
                   coalesce(sum(quantity) FILTER (WHERE quantity > 1), 0) AS batch_items,
                   coalesce(sum(credits) FILTER (WHERE quantity > 1), 0) AS batch_credits
            FROM {events} WHERE {where} GROUP BY ALL""", False),
        KeyedTable("usage_lines", "day", "day", usage_lines.SELECT, False),
        KeyedTable("sessions", "session_id", "session_id", _SESSIONS, True),
        KeyedTable("batches", "session_id", "session_id", f"""
            SELECT session_id, model, min(day) AS day0, {_first("team")} AS team, count(*) AS n, sum(credits) AS c
            FROM {{events}}
            WHERE feature = 'image' AND operation = 'generate' AND quantity = 1 AND session_id IS NOT NULL
              AND {{where}}
            GROUP BY session_id, model""", True),
        KeyedTable("conversations", "session_id", "session_id", f"""
            SELECT session_id, {_first("member")} AS member, {_first("team")} AS team,
                   min(day) AS day0, min(ts) AS t0, max(ts) AS t1, count(*) AS n, sum(credits) AS c
            FROM {{events}}
            WHERE feature = 'chat' AND operation = 'response' AND session_id IS NOT NULL AND {{where}}
            GROUP BY session_id""", True),
    ]


def chat_flags_select(config: SiteConfig, conversations: str = "cw_state.conversations") -> str:
    """Each conversation flagged short and restarted. Restarted: short, and the same member started the
    next one (by start, then id) within the restart window. A conversation's flags depend on it and its
    member's next conversation only, so `conversations` may be any run of a member's conversations in
    that order: the flags are right for each one whose next is in the run too."""
    rec = config.recommendations
    short = int(rec.short_conversation_responses)
    window = float(rec.restart_window_minutes) * 60
    return f"""
        SELECT session_id, member, team, day0, t0, n, c, n <= {short} AS is_short,
               n <= {short} AND next_t0 IS NOT NULL AND epoch(next_t0) - epoch(t1) <= {window} AS is_restart
        FROM (SELECT *, lead(t0) OVER (PARTITION BY member ORDER BY t0, session_id) AS next_t0 FROM {conversations})"""


def build_keyed_tables(con: duckdb.DuckDBPyConnection, config: SiteConfig) -> None:
    """Every keyed table from all events, into the (attached) database `cw_state`."""
    for t in keyed_tables(config):
        con.execute(f"CREATE OR REPLACE TABLE cw_state.{t.name} AS " + t.select.format(events="events", where="true"))
    con.execute("CREATE OR REPLACE TABLE cw_state.chat_flags AS " + chat_flags_select(config))


def collect(con: duckdb.DuckDBPyConnection, config: SiteConfig) -> Details:
    """The finer figures from the keyed tables (`usage.summarize` opened them, model/state.py)."""
    cyc = cycle_sql(config)
    con.execute("CREATE OR REPLACE TEMP VIEW cw_day_member AS SELECT * FROM cw_state.day_member")
    ops = [OpRow(*r) for r in con.execute(f"""
        SELECT {cyc}, feature, operation, model, knowledge, team, sum(events)::BIGINT, sum(credits), sum(quantity),
               sum(batch_events)::BIGINT, sum(batch_items), sum(batch_credits)
        FROM cw_state.ops GROUP BY ALL ORDER BY ALL""").fetchall()]
    members = [MemberRow(*r) for r in con.execute(f"""
        SELECT {cyc}, team, feature, member, sum(credits), sum(events)::BIGINT
        FROM cw_state.day_member GROUP BY ALL ORDER BY ALL""").fetchall()]
    return Details(ops, members, _sessions(con, config), _batches(con, config), _chats(con, config))


# Spillable forms only: counts and sums instead of per-session lists. A list() keeps every group's
# rows in memory beside the hash table; measured on 1 M events, the list form of the session query ran
# out of memory at a 120 MB limit where this form spills and finishes with the same rows.
# `_first` picks the value of a session's first event (ties on the instant: the smaller event_id).
# (arg_min over an {ts, event_id} struct gives the same rows but was slower here.)
def _first(value: str) -> str:
    return f"first({value} ORDER BY ts, event_id)"


# One row per image or document session. An upscale (enhancement) is "non-final" when a later generate
# or edit (create) followed it in the same session: one GROUP BY finds each session's last change, a
# join counts what came before it.
_SESSIONS = f"""
    WITH ev AS (
      SELECT session_id, feature, team, ts, event_id, day, operation, credits FROM {{events}}
      WHERE session_id IS NOT NULL AND feature IN ('image', 'compose') AND {{where}}
    ), s AS (
      SELECT session_id, feature, min(day) AS day0, {_first("team")} AS team,
        count(*) FILTER (WHERE operation = 'generate') AS generates,
        coalesce(sum(credits) FILTER (WHERE operation = 'generate'), 0)
          - coalesce({_first("credits")} FILTER (WHERE operation = 'generate'), 0) AS regen_credits,
        count(*) FILTER (WHERE operation = 'edit') AS edits,
        max(ts) FILTER (WHERE operation IN ('generate', 'edit')) AS last_change,
        count(*) FILTER (WHERE operation = 'upscale') AS ups,
        count(*) FILTER (WHERE operation = 'create') AS creates,
        max(ts) FILTER (WHERE operation = 'create') AS last_create,
        count(*) FILTER (WHERE operation = 'enhance') AS enh
      FROM ev GROUP BY session_id, feature
    ), early AS (
      SELECT e.session_id, e.feature,
        count(*) FILTER (WHERE e.operation = 'upscale' AND e.ts < s.last_change) AS early_ups,
        sum(e.credits) FILTER (WHERE e.operation = 'upscale' AND e.ts < s.last_change) AS early_ups_credits,
        count(*) FILTER (WHERE e.operation = 'enhance' AND e.ts < s.last_create) AS early_enh,
        sum(e.credits) FILTER (WHERE e.operation = 'enhance' AND e.ts < s.last_create) AS early_enh_credits
      FROM (SELECT session_id, feature, ts, operation, credits FROM ev WHERE operation IN ('upscale', 'enhance')) e
      JOIN (SELECT session_id, feature, last_change, last_create FROM s
            WHERE last_change IS NOT NULL OR last_create IS NOT NULL) s
        ON e.session_id = s.session_id AND e.feature = s.feature
      WHERE (e.operation = 'upscale' AND e.ts < s.last_change) OR (e.operation = 'enhance' AND e.ts < s.last_create)
      GROUP BY e.session_id, e.feature
    )
    SELECT s.session_id, s.feature, day0, team, generates, regen_credits, edits, ups, creates, enh,
           coalesce(early_ups, 0) AS early_ups, coalesce(early_ups_credits, 0) AS early_ups_credits,
           coalesce(early_enh, 0) AS early_enh, coalesce(early_enh_credits, 0) AS early_enh_credits
    FROM s LEFT JOIN early ON early.session_id = s.session_id AND early.feature = s.feature"""


def _sessions(con: duckdb.DuckDBPyConnection, config: SiteConfig) -> list[SessionRow]:
    cyc = cycle_sql(config, "day0")
    return [SessionRow(*r) for r in con.execute(f"""
        SELECT {cyc}, team, feature, count(*),
          sum(generates)::BIGINT, sum(greatest(generates - 1, 0))::BIGINT, sum(regen_credits),
          sum(edits)::BIGINT, sum(ups)::BIGINT, sum(early_ups)::BIGINT, sum(early_ups_credits),
          sum(creates)::BIGINT, sum(enh)::BIGINT, sum(early_enh)::BIGINT, sum(early_enh_credits)
        FROM cw_state.sessions GROUP BY ALL ORDER BY ALL""").fetchall()]


def _batches(con: duckdb.DuckDBPyConnection, config: SiteConfig) -> list[BatchRow]:
    cyc = cycle_sql(config, "day0")
    return [BatchRow(*r) for r in con.execute(f"""
        SELECT {cyc}, team, model, sum(n)::BIGINT, sum(c) FROM cw_state.batches WHERE n >= 2
        GROUP BY ALL ORDER BY ALL""").fetchall()]


def _chats(con: duckdb.DuckDBPyConnection, config: SiteConfig) -> list[ChatRow]:
    cyc = cycle_sql(config, "day0")
    return [ChatRow(*r) for r in con.execute(f"""
        SELECT {cyc}, team, count(*), sum(n)::BIGINT, count(*) FILTER (WHERE is_short),
               count(*) FILTER (WHERE is_restart), coalesce(sum(n) FILTER (WHERE is_restart), 0)::BIGINT,
               coalesce(sum(c) FILTER (WHERE is_restart), 0)
        FROM cw_state.chat_flags GROUP BY ALL ORDER BY ALL""").fetchall()]


def _segments(ranges: list[Range]) -> tuple[list[tuple[int, dt.date, dt.date]], list[tuple[str, int]]]:
    """Cut the ranges' days into disjoint segments at every range's first day and the day after its last.

    Each range is then exactly a run of whole segments, so the credits are summed once per segment
    rather than once per range that covers a day (threshold alerts share most of their days).
    """
    cuts = sorted({r.first for r in ranges} | {r.last + dt.timedelta(days=1) for r in ranges})
    segs = [(i, a, b - dt.timedelta(days=1)) for i, (a, b) in enumerate(pairwise(cuts))]
    index = {a: i for i, a, _ in segs}
    cover = []
    for r in ranges:
        i = index[r.first]
        while i < len(segs) and segs[i][2] <= r.last:
            cover.append((r.key, i))
            i += 1
    return segs, cover


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """Insert rows with one statement per 500 (executemany pays a round trip per row)."""
    for i in range(0, len(rows), 500):
        chunk = rows[i:i + 500]
        marks = "(" + ", ".join("?" * len(chunk[0])) + ")"
        con.execute(f"INSERT INTO {table} VALUES " + ", ".join([marks] * len(chunk)), [v for r in chunk for v in r])


def top_contributors(con: duckdb.DuckDBPyConnection, ranges: list[Range]) -> dict[str, dict[str, Top]]:
    """For each range: the feature, team and member with the most credits in it (ties: the first name)."""
    if not ranges:
        return {}
    segs, cover = _segments(ranges)
    # Each segment as its days: the join below is then on equal days, not a range join.
    con.execute("CREATE OR REPLACE TEMP TABLE cw_segs (seg INTEGER, day DATE)")
    _insert(con, "cw_segs", [(i, a + dt.timedelta(days=k)) for i, a, b in segs for k in range((b - a).days + 1)])
    con.execute("CREATE OR REPLACE TEMP TABLE cw_ranges (key VARCHAR, seg INTEGER, feature VARCHAR, team VARCHAR)")
    scope = {r.key: (r.feature, r.team) for r in ranges}
    _insert(con, "cw_ranges", [(k, i, *scope[k]) for k, i in cover])
    rows = con.execute("""
        WITH per_seg AS (
          SELECT s.seg, d.feature, d.team, d.member, sum(d.credits) AS credits
          FROM cw_day_member d JOIN cw_segs s ON d.day = s.day GROUP BY ALL
        ), j AS (
          SELECT r.key, p.feature, p.team, p.member, p.credits
          FROM per_seg p JOIN cw_ranges r ON p.seg = r.seg
          WHERE (r.feature IS NULL OR p.feature = r.feature) AND (r.team IS NULL OR p.team = r.team)
        ), total AS (SELECT key, sum(credits) AS t FROM j GROUP BY key),
        by_dim AS (
          SELECT key, 'feature' AS dim, feature AS name, sum(credits) AS c FROM j GROUP BY ALL
          UNION ALL SELECT key, 'team', team, sum(credits) FROM j GROUP BY ALL
          UNION ALL SELECT key, 'member', member, sum(credits) FROM j GROUP BY ALL
        )
        SELECT b.key, b.dim, first(b.name ORDER BY b.c DESC, b.name), max(b.c), any_value(t.t)
        FROM by_dim b JOIN total t USING (key) GROUP BY b.key, b.dim ORDER BY ALL""").fetchall()
    con.execute("DROP TABLE cw_ranges")
    con.execute("DROP TABLE cw_segs")
    out: dict[str, dict[str, Top]] = {r.key: {} for r in ranges}
    for key, dim, name, credits, total in rows:
        share = float(credits / total) if total else 0.0
        out[key][dim] = Top(name, credits, share)
    return out
