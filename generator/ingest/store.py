"""The ingest cache: validated, de-duplicated events kept in `.creditwise/cache/events.duckdb`.

Its key is everything its content depends on: the sha256 of every export, the site timezone
(naive timestamps are read in it), the storage schema and the Creditwise version. A build whose
exports are all known reuses it as is; one that only adds exports reads just the new ones and
appends their events; anything else (a changed or deleted export, a new timezone, a new
version) builds it afresh. The fresh copy is written beside the old one and renamed over it,
in the background while pages render, so a crash never leaves a half-written cache.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import enum
import os

import duckdb

from generator import __version__
from generator.config import SiteConfig
from generator.errors import Problem
from generator.ingest.background import on_own_cursor
from generator.ingest.exports import ContentHashes, ExportFile, FileStats
from generator.ingest.sql import EVENT_COLUMNS, conflicting_ids, fast_read, quote_sql

SCHEMA_VERSION = "3"


class StoreState(enum.Enum):
    COLD = "cold"
    INCREMENTAL = "incremental"
    REUSED = "reused"


def path_list(exports: list[ExportFile]) -> str:
    """A SQL list literal of the exports' paths, indexed by file id + 1."""
    return "[" + ", ".join(quote_sql(str(e.path)) for e in exports) + "]"


class EventStore:
    def __init__(self, config: SiteConfig, exports: list[ExportFile], con: duckdb.DuckDBPyConnection):
        self.config, self.exports, self.con = config, exports, con
        self.dir = config.cache_dir
        self.path = self.dir / "events.duckdb"
        self.hashes = ContentHashes(self.dir)
        self.digests: dict[str, str] = {}
        self._pending: tuple[list[FileStats], list[Problem], list[str]] | None = None
        self._writing: concurrent.futures.Future | None = None

    @property
    def meta(self) -> dict[str, str]:
        return {"schema": SCHEMA_VERSION, "timezone": self.config.site.timezone, "creditwise": __version__}

    # -- reading --------------------------------------------------------------------------------

    def open(self) -> StoreState:
        self.digests = self.hashes.of_all([e.path for e in self.exports])
        self.hashes.save()
        if not self.path.exists():
            return StoreState.COLD
        try:
            self.con.execute(f"ATTACH {quote_sql(str(self.path))} AS cache (READ_ONLY)")
            meta = dict(self.con.execute("SELECT key, value FROM cache.meta").fetchall())
            stored = dict(self.con.execute("SELECT path, sha FROM cache.files").fetchall())
        except duckdb.Error:
            self._detach()
            return StoreState.COLD  # unreadable or from another version: rebuild it
        if meta != self.meta or any(self.digests.get(p) != sha for p, sha in stored.items()):
            self._detach()
            return StoreState.COLD
        if stored.keys() == self.digests.keys():
            self._use_cached_store()
            return StoreState.REUSED
        self._detach()
        try:
            self.con.execute(f"ATTACH {quote_sql(str(self.path))} AS cache")
        except duckdb.Error:
            return StoreState.COLD  # another build holds it: work without it
        return StoreState.INCREMENTAL

    def _use_cached_store(self) -> None:
        self.con.execute("CREATE OR REPLACE TEMP VIEW store AS SELECT * FROM cache.store")

    def _detach(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.con.execute("DETACH DATABASE IF EXISTS cache")

    def file_stats(self) -> list[FileStats]:

        rows = self.con.execute("SELECT path, shown, rows, quarantined FROM cache.files").fetchall()
        stats = {path: FileStats(shown, rows=n, quarantined=q) for path, shown, n, q in rows}
        for path, n in self.con.execute("SELECT first_file, count(*) FROM store GROUP BY ALL").fetchall():
            stats[path].counted = int(n)
        for s in stats.values():
            s.duplicate = s.rows - s.counted - s.quarantined
        return [stats[str(e.path)] for e in self.exports]

    def problems(self) -> list[Problem]:
        return [Problem(*row) for row in self.con.execute(
            "SELECT file, line, col, reason, unit, event_id FROM cache.problems ORDER BY file, line").fetchall()]

    # -- growing ------------------------------------------------------------------------------

    def append_new(self) -> bool:
        """Read only the exports the cache has not seen; False when that needs a fresh build instead."""

        stored = {r[0] for r in self.con.execute("SELECT path FROM cache.files").fetchall()}
        new = [e for e in self.exports if str(e.path) not in stored]
        tz = self.config.site.timezone
        if fast_read(self.con, new, tz) is None or conflicting_ids(self.con):
            return self._give_up()
        if self.con.execute("SELECT count(*) FROM g WHERE bad").fetchone()[0]:
            return self._give_up()  # bad rows need their lines named: the full path does that
        # The cached events that share an id with a new one, read once (one narrow scan of the ids):
        # the clash check, the insert and the first-file update below then join this handful of rows.
        # The bounds say nothing new, but DuckDB prunes the cache's row groups by them (a join alone does
        # not): ids that arrive in order skip every row group of other days.
        self.con.execute("""CREATE OR REPLACE TEMP TABLE cw_known AS
            SELECT * FROM cache.store
            WHERE event_id BETWEEN (SELECT min(event_id) FROM g WHERE is_event) AND (SELECT max(event_id) FROM g WHERE is_event)
              AND event_id IN (SELECT event_id FROM g WHERE is_event)""")
        clash = self.con.execute("""
            SELECT count(*) FROM g JOIN cw_known s USING (event_id)
            WHERE g.is_event AND hash(g.ts, g.member, g.team, g.feature, g.operation, g.model, g.credits, g.quantity,
                                      g.session_id, g.knowledge)
                              <> hash(s.ts, s.member, s.team, s.feature, s.operation, s.model, s.credits, s.quantity,
                                      s.session_id, s.knowledge)""").fetchone()[0]
        clash += self.con.execute("""SELECT count(*) FROM g WHERE is_event
            AND event_id IN (SELECT event_id FROM cache.conflict_ids)""").fetchone()[0]
        rows_of = dict(self.con.execute("SELECT file_id, sum(n) FROM g WHERE NOT is_event GROUP BY ALL").fetchall())
        if clash or any(not rows_of.get(i) for i in range(len(new))):
            return self._give_up()  # a conflict or an empty export: the full path names it
        path_of = path_list(new)  # g's file ids are positions in `new`; the cache keeps paths
        self.con.execute("BEGIN")
        self.con.execute(f"""INSERT INTO cache.store SELECT {EVENT_COLUMNS}, {path_of}[first_file + 1] FROM g
            WHERE is_event AND event_id NOT IN (SELECT event_id FROM cw_known)""")
        # Each event counts in the first file by path, whatever the order files arrived in.
        self.con.execute(f"""UPDATE cache.store s SET first_file = {path_of}[g.first_file + 1] FROM g
            WHERE g.is_event AND g.event_id = s.event_id AND {path_of}[g.first_file + 1] < s.first_file
              AND g.event_id IN (SELECT event_id FROM cw_known)""")
        for i, e in enumerate(new):
            rows = rows_of[i]
            self.con.execute("INSERT INTO cache.files VALUES (?, ?, ?, ?, 0)",
                             [str(e.path), e.shown, self.digests[str(e.path)], rows])
        self.con.execute("COMMIT")
        self.con.execute("DROP TABLE cw_known")
        self._use_cached_store()
        return True

    def _give_up(self) -> bool:
        self.con.execute("DROP TABLE IF EXISTS cw_known")
        self._detach()
        self.con.execute("DROP TABLE IF EXISTS g")
        return False

    # -- writing ------------------------------------------------------------------------------

    def save_later(self, files: list[FileStats], problems: list[Problem], conflicts: list[str]) -> None:
        """Remember what to write; `persist` writes it once the report no longer needs the connection."""
        self._pending = (files, problems, conflicts)

    def persist(self) -> None:
        if self._pending is None:
            return
        pending = self._pending
        self._writing = on_own_cursor(self.con, lambda cursor: self._write(cursor, *pending))

    def _write(self, con: duckdb.DuckDBPyConnection, files: list[FileStats], problems: list[Problem],
               conflicts: list[str]) -> None:

        tmp = self.path.with_name(f"events.{os.getpid()}.tmp")
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp.unlink(missing_ok=True)
            con.execute(f"ATTACH {quote_sql(str(tmp))} AS fresh")
            con.execute(f"""CREATE TABLE fresh.store AS
                SELECT {EVENT_COLUMNS}, {path_list(self.exports)}[first_file + 1] AS first_file FROM g WHERE is_event""")
            con.execute("CREATE TABLE fresh.meta (key VARCHAR, value VARCHAR)")
            con.executemany("INSERT INTO fresh.meta VALUES (?, ?)", sorted(self.meta.items()))
            con.execute("CREATE TABLE fresh.files (path VARCHAR, shown VARCHAR, sha VARCHAR, rows BIGINT, quarantined BIGINT)")
            con.executemany("INSERT INTO fresh.files VALUES (?, ?, ?, ?, ?)",
                            [(str(e.path), f.shown, self.digests[str(e.path)], f.rows, f.quarantined)
                             for e, f in zip(self.exports, files, strict=True)])
            con.execute("""CREATE TABLE fresh.problems (file VARCHAR, line BIGINT, col VARCHAR, reason VARCHAR,
                           unit VARCHAR, event_id VARCHAR)""")
            if problems:
                con.executemany("INSERT INTO fresh.problems VALUES (?, ?, ?, ?, ?, ?)",
                                [(p.file, p.line, p.where, p.reason, p.unit, p.event_id) for p in problems])
            con.execute("CREATE TABLE fresh.conflict_ids AS SELECT unnest(?::VARCHAR[]) AS event_id", [conflicts])
            con.execute("DETACH fresh")
            tmp.replace(self.path)
        except BaseException:  # the cache is an optimisation: a failure only costs speed next time
            tmp.unlink(missing_ok=True)

    def finish(self) -> None:
        if self._writing is not None:
            concurrent.futures.wait([self._writing])
            self._writing = None
        self._detach()

