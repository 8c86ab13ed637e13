"""Read the usage exports into DuckDB, validate every row, count each event once.

The fast path reads every export in one parallel DuckDB scan (all columns as text), types and
validates each row in SQL and de-duplicates with one GROUP BY: identical rows collapse into one
event, and per-file row counts come out of the same scan (GROUPING SETS). Line numbers are only
needed when something is wrong, so only then are the affected files re-read carefully
(`ingest_diagnostics`). The validated events are kept in a DuckDB file under
`.creditwise/cache/`, keyed by the content hash of every export (`event_store`), so a rebuild
reads only new files. Credits are DECIMAL, so sums are exact.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from generator.config import SiteConfig
from generator.errors import DataError, Problem
from generator.ingest.background import on_own_cursor
from generator.ingest.diagnostics import Diagnostics
from generator.ingest.exports import ExportFile, FileStats, find_exports
from generator.ingest.memory import MemoryLimit, configure, out_of_memory
from generator.ingest.sql import EVENT_COLUMNS, aggregate, conflicting_ids, fast_read
from generator.ingest.store import EventStore, StoreState

SHOWN_ERRORS = 20


@dataclass
class Ingested:
    """A connection whose `store` table holds every counted event, plus the account of every row read."""

    con: duckdb.DuckDBPyConnection
    files: list[FileStats]
    quarantined: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cache: str = "cold"  # cold | incremental | reused: how much of the cache this build could use
    store: EventStore | None = None
    memory: MemoryLimit | None = None  # the limit DuckDB works within (named if it runs out)
    writers: list = field(default_factory=list)  # later caches of this build (persist() then finish())
    readers: list[concurrent.futures.Future] = field(default_factory=list)  # reading the model's tables still
    _launcher: threading.Thread | None = None

    @property
    def rows_read(self) -> int:
        return sum(f.rows for f in self.files)

    def alongside(self, job: Callable[[duckdb.DuckDBPyConnection], Any]) -> concurrent.futures.Future:
        """Run `job(cursor)` in a thread while this one goes on (DuckDB releases the GIL while it works, so
        charts draw meanwhile); the later caches are written once it is done with the tables."""
        future = on_own_cursor(self.con, job)
        self.readers.append(future)
        return future

    def persist(self) -> None:
        """Start writing the cache in the background; the report no longer needs the connection's CPU."""
        if self.store is not None:
            self.store.persist()
        readers = list(self.readers)

        def after_readers() -> None:
            concurrent.futures.wait(readers)
            for writer in self.writers:
                writer.persist()

        self._launcher = threading.Thread(target=after_readers, daemon=True)
        self._launcher.start()

    def close(self) -> None:
        """Finish writing the cache (it is written while pages render), then close."""
        concurrent.futures.wait(self.readers)
        if self._launcher is not None:
            self._launcher.join()
        for writer in self.writers:
            writer.finish()
        if self.store is not None:
            self.store.finish()
        self.con.close()


# --- the whole stage -------------------------------------------------------------------------


def ingest(config: SiteConfig, strict: bool = False, use_cache: bool = True) -> Ingested:
    """Load every export, validate, de-duplicate; raise DataError under on_error = "fail"."""
    exports, warnings = find_exports(config)
    if strict and warnings:
        raise DataError([Problem(config.path.name, None, "data.exports", w.split(": ", 2)[-1]) for w in warnings])
    con = duckdb.connect(":memory:")
    limit = None
    try:
        # Memory sized to the machine (or set for it); past the limit DuckDB spills to .creditwise/tmp/.
        limit = configure(con, config, config.cache_dir.parent / "tmp")
        con.execute(f"SET TimeZone = '{config.site.timezone}'")
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")  # it would draw on stdout in the middle of our output
        store = EventStore(config, exports, con) if use_cache else None
        state = store.open() if store else StoreState.COLD
        if state is StoreState.REUSED:
            result = Ingested(con, store.file_stats(), store.problems(), warnings, "reused", store)
        elif state is StoreState.INCREMENTAL and store.append_new():
            result = Ingested(con, store.file_stats(), store.problems(), warnings, "incremental", store)
        else:
            files, problems, conflicts = _cold(con, config, exports)
            if store:
                store.save_later(files, problems, conflicts)
            result = Ingested(con, files, problems, warnings, "cold", store)
        result.memory = limit
        if not (result.quarantined and config.data.on_error == "fail"):
            _events_view(con, config)
    except duckdb.OutOfMemoryException as exc:
        con.close()
        raise out_of_memory(config, limit, exc) from None
    except BaseException:
        con.close()  # a long-lived preview server must not keep a connection per failed build
        raise
    if result.quarantined and config.data.on_error == "fail":
        shown = sorted(result.quarantined, key=lambda p: (p.file, p.line or 0))[:SHOWN_ERRORS]
        result.close()
        raise DataError(shown, total=len(result.quarantined))
    return result


def _cold(con: duckdb.DuckDBPyConnection, config: SiteConfig,
          exports: list[ExportFile]) -> tuple[list[FileStats], list[Problem], list[str]]:
    tz = config.site.timezone
    diag = Diagnostics(con, exports, tz)
    source = fast_read(con, exports, tz)
    if source is None:
        # Something in the files themselves (a broken row, bad UTF-8, a corrupt gzip): read each
        # file carefully, keeping what can be read and naming every line that cannot.
        diag.load(exports)
        source = diag.source()
        aggregate(con, source, tz)
    conflicts = conflicting_ids(con)
    bad_files = {r[0] for r in con.execute("SELECT DISTINCT file_id FROM g WHERE NOT is_event AND bad").fetchall()}
    if bad_files or conflicts:
        diag.explain(source, bad_files, conflicts)
        con.execute("DELETE FROM g WHERE is_event AND (bad OR event_id IN (SELECT unnest(?)))", [conflicts])

    stats = [FileStats(e.shown) for e in exports]
    for fid, n in con.execute("SELECT file_id, sum(n) FROM g WHERE NOT is_event GROUP BY ALL").fetchall():
        stats[fid].rows = int(n)
    # Each event counts in the first file (by path) that holds it; its other copies are duplicates.
    for fid, n in con.execute("SELECT first_file, count(*) FROM g WHERE is_event GROUP BY ALL").fetchall():
        stats[fid].counted = int(n)
    for e, f in zip(exports, stats, strict=True):
        f.rows += diag.unreadable_rows[str(e.path)]
        f.quarantined = diag.quarantined_rows[str(e.path)]
        f.duplicate = f.rows - f.counted - f.quarantined
    for e, f in zip(exports, stats, strict=True):
        if f.rows == 0:
            what = "a header but no rows" if e.format == "csv" else "no rows"
            raise DataError([Problem(e.shown, None, "", f"empty export: {what}")])
    con.execute(f"CREATE OR REPLACE TEMP VIEW store AS SELECT {EVENT_COLUMNS}, first_file FROM g WHERE is_event")
    return stats, diag.problems, conflicts


def _events_view(con: duckdb.DuckDBPyConnection, config: SiteConfig) -> None:
    """`all_events`: every counted event, its team resolved from `[teams]`, else Unassigned, and the
    export it counts in (`first_file`: the model state finds the events of new exports by it).

    (`usage.summarize` narrows it to `events`, those up to as_of, once as_of is known.)"""
    con.execute("CREATE OR REPLACE TEMP TABLE member_teams (member VARCHAR, team VARCHAR)")
    if config.teams:
        con.executemany("INSERT INTO member_teams VALUES (?, ?)", sorted(config.teams.items()))
    con.execute("""
        CREATE OR REPLACE TEMP VIEW all_events AS
        SELECT s.event_id, s.ts, s.day, s.member, coalesce(s.team, m.team, 'Unassigned') AS team, s.feature,
               s.operation, s.model, s.credits, s.quantity, s.session_id, s.knowledge, s.first_file
        FROM store s LEFT JOIN member_teams m ON m.member = s.member""")
