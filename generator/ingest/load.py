"""Stage 2: read the usage exports into DuckDB, validate every row, count each event once.

The fast path reads every export in one parallel DuckDB scan (all columns as text), types and
validates each row in SQL and de-duplicates with one GROUP BY: identical rows collapse into one
event, and per-file row counts come out of the same scan (GROUPING SETS). Line numbers are only
needed when something is wrong, so only then are the affected files re-read carefully
(`ingest_diagnostics`). The validated events are kept in a DuckDB file under
`.creditwise/cache/`, keyed by the content hash of every export (`event_store`), so a rebuild
reads only new files. Credits are DECIMAL, so sums are exact.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import duckdb

from generator.config import SiteConfig
from generator.errors import DataError, Problem
from generator.ingest.diagnostics import Diagnostics, quote_sql
from generator.ingest.exports import COLUMNS, ExportFile, check_columns, find_exports
from generator.ingest.store import EventStore, StoreState

SHOWN_ERRORS = 20
# Spellings a spreadsheet writes for booleans; anything else in `knowledge` is a data error.
TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")
CSV_OPTIONS = "header=true, auto_detect=false, delim=',', quote='\"', escape='\"', max_line_size=8388608"


@dataclass
class FileStats:
    shown: str
    rows: int = 0
    counted: int = 0
    duplicate: int = 0
    quarantined: int = 0


@dataclass
class Ingested:
    """A connection whose `store` table holds every counted event, plus the account of every row read."""

    con: duckdb.DuckDBPyConnection
    files: list[FileStats]
    quarantined: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cache: str = "cold"  # cold | incremental | reused: how much of the cache this build could use
    store: EventStore | None = None

    @property
    def rows_read(self) -> int:
        return sum(f.rows for f in self.files)

    def persist(self) -> None:
        """Start writing the cache in the background; the report no longer needs the connection's CPU."""
        if self.store is not None:
            self.store.persist()

    def close(self) -> None:
        """Finish writing the cache (it is written while pages render), then close."""
        if self.store is not None:
            self.store.finish()
        self.con.close()


# --- sources: every export as rows of text columns plus its file name ---------------------


def _file_id(ids: list[int]) -> str:
    """The export's position in the whole list, from DuckDB's per-scan file_index (an int: cheap to group on)."""
    return f"[{', '.join(map(str, ids))}][CAST(file_index AS BIGINT) + 1] AS file_id"


def _csv_source(group: list[ExportFile], ids: list[int]) -> str:
    header = group[0].header
    spec = ", ".join(f"'{c}': 'VARCHAR'" for c in header)
    cols = ", ".join(f'"{c}"' if c in header else "NULL" for c in COLUMNS)
    paths = ", ".join(quote_sql(str(e.path)) for e in group)
    return f"SELECT {cols}, {_file_id(ids)} FROM read_csv([{paths}], columns={{{spec}}}, {CSV_OPTIONS})"


def _jsonl_source(group: list[ExportFile], ids: list[int]) -> str:
    spec = ", ".join(f"'{c}': 'VARCHAR'" for c in COLUMNS)
    paths = ", ".join(quote_sql(str(e.path)) for e in group)
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    return f"SELECT {cols}, {_file_id(ids)} FROM read_json([{paths}], format='newline_delimited', columns={{{spec}}})"


def _parquet_source(con: duckdb.DuckDBPyConnection, export: ExportFile, fid: int) -> str:
    path = quote_sql(str(export.path))
    try:
        names = tuple(r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({path})").fetchall())
    except duckdb.Error as exc:
        raise DataError([Problem(export.shown, None, "", f"not a readable Parquet file: {_first_line(exc)}")]) from None
    check_columns(export, names, line=None)
    cols = ", ".join(f'CAST("{c}" AS VARCHAR)' if c in names else "NULL" for c in COLUMNS)
    return f"SELECT {cols}, {fid} AS file_id FROM read_parquet({path})"


def source_sql(con: duckdb.DuckDBPyConnection, exports: list[ExportFile]) -> str:
    """One UNION ALL over every export; CSV files that share a header are read in one scan."""
    parts: list[str] = []
    csv_groups: dict[tuple[str, ...], list[int]] = {}
    for i, e in enumerate(exports):
        if e.format == "csv":
            csv_groups.setdefault(e.header, []).append(i)
    parts += [_csv_source([exports[i] for i in ids], ids) for ids in csv_groups.values()]
    jsonl = [i for i, e in enumerate(exports) if e.format == "jsonl"]
    if jsonl:
        parts.append(_jsonl_source([exports[i] for i in jsonl], jsonl))
    parts += [_parquet_source(con, e, i) for i, e in enumerate(exports) if e.format == "parquet"]
    return "\nUNION ALL ".join(parts)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --- typing, validation and de-duplication -------------------------------------------------

def _clean(col: str) -> str:
    # No trim(): on 1 M rows trimming every column tripled the scan. Values are kept as written;
    # a value of spaces alone counts as missing (see _blank).
    return f"nullif({col}, '')"


def _blank(col: str) -> str:
    # `< '!'` is a cheap pre-filter: only a value starting with a space or control character can be blank.
    return f"({col} IS NULL OR ({col} < '!' AND trim({col}) = ''))"


# Every check a row must pass: (column, condition that makes the row bad, why). The conditions are
# plain string functions rather than regular expressions where they run on every row: measured on
# 1 M rows, a regex per column tripled the whole ingest. TRY_CAST does the parsing; the checks
# reject what it would accept but an export must not contain ('1e3', '1_000', a date alone…).
_TS_SHAPE = "(ts_text LIKE '____-__-__T__:%' OR ts_text LIKE '____-__-__ __:%')"
_FRACTION = "split_part(credits_text, '.', 2)"
_FRACTION_DIGITS = "(length(credits_text) - strpos(credits_text, '.'))"
_BOOLS = ", ".join(f"'{w}'" for w in TRUE_WORDS + FALSE_WORDS)
_TRUE = ", ".join(f"'{w}'" for w in TRUE_WORDS)
_MISSING = "'required value is missing'"
CHECKS: list[tuple[str, str, str]] = [
    ("event_id", _blank("event_id"), _MISSING),
    ("timestamp", _blank("ts_text"), _MISSING),
    ("timestamp", f"ts IS NULL OR NOT ({_TS_SHAPE})",
     "'''' || ts_text || ''' is not an ISO 8601 timestamp (e.g. 2026-10-01T09:30:00+02:00)'"),
    ("member", _blank("member"), _MISSING),
    ("feature", _blank("feature"), _MISSING),
    ("operation", _blank("operation"), _MISSING),
    ("credits", _blank("credits_text"), _MISSING),
    ("credits", "contains(credits_text, 'e') OR contains(credits_text, 'E') OR contains(credits_text, '_')"
                " OR NOT coalesce(isfinite(TRY_CAST(credits_text AS DOUBLE)), false)",
     "'''' || credits_text || ''' is not a number'"),
    ("credits", f"strpos(credits_text, '.') > 0 AND {_FRACTION_DIGITS} > 6 AND length(rtrim({_FRACTION}, '0')) > 6",
     "'''' || credits_text || ''' has more than 6 decimal places'"),
    ("credits", "credits IS NULL", "'''' || credits_text || ''' is too large'"),
    ("credits", "credits < 0 AND operation <> 'refund'",
     "credits_text || ' is negative; only a refund (operation = refund) may be negative'"),
    ("credits", "credits > 0 AND operation = 'refund'", "'a refund must have negative credits, got ' || credits_text"),
    # BIGINT casts round '1.5' and read '1e3' or '0x10': only plain digits pass (one digit: the common case, no regex).
    ("quantity", "quantity_text IS NOT NULL AND NOT (quantity_raw >= 1 AND (length(quantity_text) = 1"
                 " OR regexp_full_match(quantity_text, '^[+]?0*[1-9][0-9]*$')))",
     "'''' || quantity_text || ''' is not a whole number ≥ 1'"),
    ("knowledge", f"knowledge_text IS NOT NULL AND lower(knowledge_text) NOT IN ({_BOOLS})",
     "'''' || knowledge_text || ''' is not a boolean (true/false, yes/no, 1/0)'"),
]
# Whether a row is bad (the fast path) and why (diagnostics) come from the same conditions.
BAD_SQL = " OR ".join(f"({cond})" for _, cond, _ in CHECKS)
PROBLEM_SQL = "CASE " + " ".join(f"WHEN {cond} THEN '{col}|' || {why}" for col, cond, why in CHECKS) + " END"


def typed_sql(source: str, tz: str, extra: str = "", explain: bool = True) -> str:
    """Rows of `source` typed (TRY_CAST: never an error) with their text kept for messages.

    `problem` says why a row is bad ('column|reason'); without `explain`, only `bad` says whether.
    """
    verdict = f"{PROBLEM_SQL} AS problem" if explain else f"{BAD_SQL} AS bad"
    # The local day is taken from the parsed `ts` one level up: parsing the text twice cost more
    # than the whole GROUP BY.
    return f"""
    SELECT *, CAST(timezone('{tz}', ts) AS DATE) AS day, {verdict} FROM (
      SELECT
        {_clean("event_id")} AS event_id,
        {_clean("timestamp")} AS ts_text,
        TRY_CAST({_clean("timestamp")} AS TIMESTAMPTZ) AS ts,
        {_clean("member")} AS member,
        {_clean("team")} AS team,
        {_clean("feature")} AS feature,
        {_clean("operation")} AS operation,
        {_clean("model")} AS model,
        {_clean("credits")} AS credits_text,
        TRY_CAST({_clean("credits")} AS DECIMAL(18, 6)) AS credits,
        {_clean("quantity")} AS quantity_text,
        TRY_CAST({_clean("quantity")} AS BIGINT) AS quantity_raw,
        coalesce(TRY_CAST({_clean("quantity")} AS BIGINT), 1) AS quantity,
        {_clean("session_id")} AS session_id,
        {_clean("knowledge")} AS knowledge_text,
        coalesce(lower({_clean("knowledge")}) IN ({_TRUE}), false) AS knowledge,
        file_id{extra}
      FROM ({source})
    )"""


EVENT_COLUMNS = "event_id, ts, day, member, team, feature, operation, model, credits, quantity, session_id, knowledge"


def aggregate(con: duckdb.DuckDBPyConnection, source: str, tz: str) -> None:
    """One scan: identical rows collapse into one event group; per-file counts ride along.

    Table `g`: event groups (is_event) with copies `n` and the first file holding them, and
    per-file rows (NOT is_event) with their row count; `bad` splits both by validity. Not TEMP:
    the cache writer reads it from a connection of its own.
    """
    con.execute(f"""
        CREATE OR REPLACE TABLE g AS
        SELECT {EVENT_COLUMNS}, bad, file_id,
               count(*) AS n, min(file_id) AS first_file, GROUPING(file_id) = 1 AS is_event
        FROM ({typed_sql(source, tz, explain=False)})
        GROUP BY GROUPING SETS (({EVENT_COLUMNS}, bad), (file_id, bad))""")


def conflicting_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    """event_ids read with two different contents."""
    return [r[0] for r in con.execute("""
        SELECT event_id FROM g WHERE is_event AND NOT bad GROUP BY event_id HAVING count(*) > 1 ORDER BY 1""").fetchall()]


# --- the whole stage -------------------------------------------------------------------------


def ingest(config: SiteConfig, strict: bool = False, use_cache: bool = True) -> Ingested:
    """Load every export, validate, de-duplicate; raise DataError under on_error = "fail"."""
    exports, warnings = find_exports(config)
    if strict and warnings:
        raise DataError([Problem(config.path.name, None, "data.exports", w.split(": ", 2)[-1]) for w in warnings])
    con = duckdb.connect(":memory:")
    # Bounded memory: past the limit DuckDB spills to disk. Measured on 10 M events, the limit also
    # made the GROUP BY faster (12 s instead of 25 s) than letting the hash tables grow to 3 GB.
    spill = config.cache_dir.parent / "tmp"
    spill.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET memory_limit = '{os.environ.get('CREDITWISE_MEMORY_LIMIT', '1536MB')}'")
    con.execute(f"SET temp_directory = {quote_sql(str(spill))}")
    con.execute(f"SET TimeZone = '{config.site.timezone}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")  # it would draw on stdout in the middle of our output
    store = EventStore(config, exports, con) if use_cache else None
    try:
        state = store.open() if store else StoreState.COLD
        if state is StoreState.REUSED:
            result = Ingested(con, store.file_stats(), store.problems(), warnings, "reused", store)
        elif state is StoreState.INCREMENTAL and store.append_new(_fast_read):
            result = Ingested(con, store.file_stats(), store.problems(), warnings, "incremental", store)
        else:
            files, problems, conflicts = _cold(con, config, exports)
            if store:
                store.save_later(files, problems, conflicts)
            result = Ingested(con, files, problems, warnings, "cold", store)
    except BaseException:
        con.close()  # a long-lived preview server must not keep a connection per failed build
        raise
    if result.quarantined and config.data.on_error == "fail":
        shown = sorted(result.quarantined, key=lambda p: (p.file, p.line or 0))[:SHOWN_ERRORS]
        result.close()
        raise DataError(shown, total=len(result.quarantined))
    _events_view(con, config)
    return result


def _fast_read(con: duckdb.DuckDBPyConnection, exports: list[ExportFile], tz: str) -> bool:
    """Aggregate the exports into `g`; False when DuckDB cannot read them (the careful path then explains)."""
    try:
        aggregate(con, source_sql(con, exports), tz)
        return True
    except (duckdb.OutOfMemoryException, duckdb.InterruptException):
        raise  # not the data's fault: no careful re-read would help
    except duckdb.Error:
        return False


def _cold(con: duckdb.DuckDBPyConnection, config: SiteConfig,
          exports: list[ExportFile]) -> tuple[list[FileStats], list[Problem], list[str]]:
    tz = config.site.timezone
    diag = Diagnostics(con, exports, tz)
    source = source_sql(con, exports)
    if not _fast_read(con, exports, tz):
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
    """`all_events`: every counted event, its team resolved from `[teams]`, else Unassigned.

    (`usage.summarize` narrows it to `events`, those up to as_of, once as_of is known.)"""
    con.execute("CREATE OR REPLACE TEMP TABLE member_teams (member VARCHAR, team VARCHAR)")
    if config.teams:
        con.executemany("INSERT INTO member_teams VALUES (?, ?)", sorted(config.teams.items()))
    con.execute("""
        CREATE OR REPLACE TEMP VIEW all_events AS
        SELECT s.event_id, s.ts, s.day, s.member, coalesce(s.team, m.team, 'Unassigned') AS team, s.feature,
               s.operation, s.model, s.credits, s.quantity, s.session_id, s.knowledge
        FROM store s LEFT JOIN member_teams m ON m.member = s.member""")
