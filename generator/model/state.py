"""The model's keyed tables, kept between builds in `.creditwise/cache/model-state.duckdb`.

The daily refresh adds an export to a site whose cache already holds everything else. The finer
figures (operations, members, sessions, batches, conversations) are GROUP BYs over keyed tables
(`details.keyed_tables`) whose rows each depend on one partition of the events only: a day or a
session. So instead of recomputing them from every event, a build that only *added*
exports deletes and recomputes the partitions its new events fall in, and keeps every other row:
exactly the tables a cold build computes, for the price of the new day. Sessions and conversations
that cross a cycle boundary are no special case (a session is its own partition); nor is a late
export into an old cycle (its days and sessions are recomputed, nothing else).

The state is valid for the exports it records (path → sha256, all still present and unchanged),
the settings its tables depend on (timezone, cycle start day, `[teams]`, as_of) and Creditwise's
source. Anything else — a changed or deleted export, another setting, another version, an
unreadable file, another build holding it — computes the tables from all events, as a cold build
does, and writes a fresh copy in the background while pages render. The cache only ever saves time.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import json
import os
from typing import TYPE_CHECKING

import duckdb

from generator.config import SiteConfig
from generator.ingest.background import on_own_cursor
from generator.ingest.sql import quote_sql
from generator.model.details import build_keyed_tables, chat_flags_select, keyed_tables
from generator.resources import code_hash

if TYPE_CHECKING:
    from generator.ingest.load import Ingested

VERSION = "2"  # 2: the usage_lines table


def state_key(config: SiteConfig) -> str:
    material = {"version": VERSION, "code": code_hash(), "timezone": config.site.timezone,
                "cycle_start_day": config.site.cycle_start_day, "teams": sorted(config.teams.items()),
                "as_of": config.site.as_of.isoformat() if config.site.as_of else None,
                "chats": [config.recommendations.short_conversation_responses,
                          config.recommendations.restart_window_minutes]}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


class ModelState:
    """Opened by `open_state` once the `events` view exists; `collect` reads the tables from `cw_state`."""

    def __init__(self, config: SiteConfig, ingested: Ingested):
        self.config, self.con = config, ingested.con
        self.path = config.cache_dir / "model-state.duckdb"
        self.key = state_key(config)
        store = ingested.store
        self.digests: dict[str, str] = dict(store.digests) if store is not None else {}
        self.paths = [str(e.path) for e in store.exports] if store is not None else []
        self.first_file_is_path = ingested.cache != "cold"  # the cold store numbers files, the cache names them
        self.mode = "cold"  # cold | reused | refreshed: what this build could keep
        self.refreshed: dict[str, int] = {}  # table → partitions recomputed
        self._writing: concurrent.futures.Future | None = None
        self._fresh = False
        self._tmp = self.path.with_name(f"model-state.{os.getpid()}.tmp")

    # -- opening ------------------------------------------------------------------------------------

    def open(self) -> ModelState:
        if self.digests and self.path.exists() and self._attach_cached():
            return self
        if not self.digests:  # an ingest without a cache: the tables live in memory, for this build only
            self.con.execute("ATTACH ':memory:' AS cw_state")
            build_keyed_tables(self.con, self.config)
            return self
        # Computed straight into a new file beside the cache (DuckDB may evict its pages, which memory
        # tables could only spill), renamed over the old one once the model is done with it.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp.unlink(missing_ok=True)
        self.con.execute(f"ATTACH {quote_sql(str(self._tmp))} AS cw_state")
        build_keyed_tables(self.con, self.config)
        self.con.execute("CREATE TABLE cw_state.meta (key VARCHAR, value VARCHAR)")
        self.con.executemany("INSERT INTO cw_state.meta VALUES (?, ?)",
                             [("key", self.key), ("files", json.dumps(self.digests, sort_keys=True))])
        self._fresh = True
        return self

    def _attach_cached(self) -> bool:
        try:
            self.con.execute(f"ATTACH {quote_sql(str(self.path))} AS cw_state")
            meta = dict(self.con.execute("SELECT key, value FROM cw_state.meta").fetchall())
            files = json.loads(meta.get("files", "null"))
        except (duckdb.Error, ValueError):
            self._detach()
            return False  # unreadable, from another version, or held by another build: start afresh
        if meta.get("key") != self.key or not isinstance(files, dict) \
                or any(self.digests.get(p) != sha for p, sha in files.items()):
            self._detach()
            return False
        new = [p for p in self.digests if p not in files]
        if new:
            try:
                self._refresh(new)
            except duckdb.Error:
                with contextlib.suppress(duckdb.Error):
                    self.con.execute("ROLLBACK")
                self._detach()
                return False
        self.mode = "refreshed" if new else "reused"
        return True

    def _refresh(self, new_paths: list[str]) -> None:
        """Recompute the partitions that the events of the new exports fall in, in one transaction."""
        con = self.con
        if self.first_file_is_path:
            new_ids: list = new_paths
        else:
            new_ids = [i for i, p in enumerate(self.paths) if p in set(new_paths)]
        # An event first read from a new export is new (or a copy that now counts there: recomputing
        # its partitions too is harmless). Events after as_of are not in `events`, so not in the delta.
        con.execute("CREATE OR REPLACE TEMP TABLE cw_delta AS SELECT * FROM events WHERE list_contains(?, first_file)",
                    [new_ids])
        tables = keyed_tables(self.config)
        for t in tables:  # (temp tables first: one transaction may write to one database only; no NULL: NOT IN below)
            con.execute(f"""CREATE OR REPLACE TEMP TABLE cw_touched_{t.name} AS
                            SELECT DISTINCT {t.part_sql} AS p FROM cw_delta WHERE {t.part_sql} IS NOT NULL""")
            self.refreshed[t.name] = con.execute(f"SELECT count(*) FROM cw_touched_{t.name}").fetchone()[0]
        # One scan each for the events of the touched sessions and of the touched days; every
        # partition is then recomputed from those few events. (The bounds are implied by the IN; DuckDB
        # skips the row groups outside them, which a join alone does not.)
        con.execute("""CREATE OR REPLACE TEMP TABLE cw_touched_events AS SELECT * FROM events
                       WHERE session_id BETWEEN (SELECT min(session_id) FROM cw_delta) AND (SELECT max(session_id) FROM cw_delta)
                         AND session_id IN (SELECT DISTINCT session_id FROM cw_delta)""")
        con.execute("""CREATE OR REPLACE TEMP TABLE cw_touched_days AS SELECT * FROM events
                       WHERE day BETWEEN (SELECT min(day) FROM cw_delta) AND (SELECT max(day) FROM cw_delta)
                         AND day IN (SELECT DISTINCT day FROM cw_delta)""")
        conv = next(t for t in tables if t.name == "conversations")
        # A conversation's flags depend on its member's next conversation only. For each member of a
        # touched conversation (as it was or as it is now), recompute the flags from the last untouched
        # conversation that starts before the earliest touched one (`lo`) up to, not including, the first
        # untouched one that starts after the latest touched one (`hi`, which still serves as the next of
        # the one before it): every conversation outside [lo, hi) keeps the same next, so the same flags.
        con.execute(f"""CREATE OR REPLACE TEMP TABLE cw_new_conv AS
            {conv.select.format(events="cw_touched_events", where="true")}""")
        con.execute("""CREATE OR REPLACE TEMP TABLE cw_flag_bounds AS
            WITH x AS (
              SELECT member, min(t0) AS first, max(t0) AS last FROM (
                SELECT member, t0 FROM cw_state.conversations WHERE session_id IN (SELECT p FROM cw_touched_conversations)
                UNION ALL SELECT member, t0 FROM cw_new_conv) GROUP BY member
            ), untouched AS (
              SELECT c.member, c.t0 FROM cw_state.conversations c
              WHERE c.member IN (SELECT member FROM x) AND c.session_id NOT IN (SELECT p FROM cw_touched_conversations)
            )
            SELECT x.member, coalesce(max(u.t0) FILTER (WHERE u.t0 < x.first), any_value(x.first)) AS lo,
                   min(u.t0) FILTER (WHERE u.t0 > x.last) AS hi
            FROM x LEFT JOIN untouched u ON u.member = x.member
            GROUP BY x.member""")
        con.execute("BEGIN")
        for t in tables:
            touched = f"(SELECT p FROM cw_touched_{t.name})"
            source = "cw_touched_events" if t.by_session else "cw_touched_days"
            con.execute(f"DELETE FROM cw_state.{t.name} WHERE {t.part} IN {touched}")
            con.execute(f"INSERT INTO cw_state.{t.name} BY NAME "
                        + t.select.format(events=source, where=f"{t.part_sql} IN {touched}"))
        con.execute("DELETE FROM cw_state.chat_flags WHERE session_id IN (SELECT p FROM cw_touched_conversations)")
        con.execute("""DELETE FROM cw_state.chat_flags f USING cw_flag_bounds b
                       WHERE f.member = b.member AND f.t0 >= b.lo AND (b.hi IS NULL OR f.t0 < b.hi)""")
        span = """(SELECT c.* FROM cw_state.conversations c JOIN cw_flag_bounds b ON c.member = b.member
                   AND c.t0 >= b.lo AND (b.hi IS NULL OR c.t0 <= b.hi))"""
        con.execute(f"""INSERT INTO cw_state.chat_flags BY NAME
            SELECT f.* FROM ({chat_flags_select(self.config, span)}) f JOIN cw_flag_bounds b ON f.member = b.member
            WHERE b.hi IS NULL OR f.t0 < b.hi""")
        con.execute("UPDATE cw_state.meta SET value = ? WHERE key = 'files'", [json.dumps(self.digests, sort_keys=True)])
        con.execute("COMMIT")
        for name in [f"cw_touched_{t.name}" for t in tables] + ["cw_touched_events", "cw_touched_days", "cw_delta",
                                                                 "cw_new_conv", "cw_flag_bounds"]:
            con.execute(f"DROP TABLE {name}")

    def _detach(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.con.execute("DETACH DATABASE IF EXISTS cw_state")

    # -- writing a fresh copy -----------------------------------------------------------------------

    def persist(self) -> None:
        """Finish a freshly computed file in the background (pages render meanwhile)."""
        if self._fresh and self._writing is None:
            self._writing = on_own_cursor(self.con, self._write)

    def _write(self, con: duckdb.DuckDBPyConnection) -> None:
        try:
            con.execute("DETACH cw_state")  # checkpoints: the file is complete
            self._tmp.replace(self.path)
        except BaseException:  # an optimisation only: the next build computes the tables again
            self._tmp.unlink(missing_ok=True)

    def finish(self) -> None:
        if self._writing is not None:
            concurrent.futures.wait([self._writing])
            self._writing = None
        self._detach()
        if self._fresh:
            self._tmp.unlink(missing_ok=True)  # a build that failed before persist(): no half-made state


def open_state(config: SiteConfig, ingested: Ingested) -> ModelState:
    """The keyed tables for this build, attached as `cw_state` (call once the `events` view exists)."""
    state = ModelState(config, ingested).open()
    ingested.writers.append(state)
    return state
