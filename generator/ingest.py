"""Stage 2: read the usage exports into DuckDB, validate every row, count each event once.

Each export is loaded as text into one `raw` table (a reader per format: CSV now; JSON Lines
and Parquet slot into `READERS`), with its file id and the line each row starts on. Validation
and de-duplication are SQL over that table; what survives is the typed `events` table the
aggregate queries read. Credits are DECIMAL, so sums are exact.
"""

from __future__ import annotations

import csv
import difflib
import glob
import gzip
import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from generator.config import SiteConfig
from generator.errors import DataError, Problem

COLUMNS = ("event_id", "timestamp", "member", "team", "feature", "operation", "model",
           "credits", "quantity", "session_id", "knowledge")
REQUIRED = ("event_id", "timestamp", "member", "feature", "operation", "credits")
SHOWN_ERRORS = 20
# Spellings a spreadsheet writes for booleans; anything else in `knowledge` is a data error.
TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")


@dataclass
class ExportFile:
    id: int
    path: Path
    shown: str  # as the user wrote it: relative to site.toml where possible


@dataclass
class FileStats:
    shown: str
    rows: int = 0
    counted: int = 0
    duplicate: int = 0
    quarantined: int = 0


@dataclass
class Ingested:
    """The `events` table in `con` plus the account of every row read."""

    con: duckdb.DuckDBPyConnection
    files: list[FileStats]
    quarantined: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(f.rows for f in self.files)


def find_exports(config: SiteConfig, strict: bool = False) -> tuple[list[ExportFile], list[str]]:
    """Expand `[data].exports` globs relative to site.toml, sorted and each file once."""
    warnings: list[str] = []
    seen: dict[Path, ExportFile] = {}
    for pattern in config.data.exports:
        matches = sorted(glob.glob(str(config.root / pattern), recursive=True))
        if not matches:
            warnings.append(f"{config.path.name}: data.exports: {pattern!r} matches no file")
        for m in matches:
            path = Path(m).resolve()
            if path not in seen and path.is_file():
                seen[path] = ExportFile(len(seen), path, _shown(path, config.root))
    if strict and warnings:
        raise DataError([Problem(w.split(":")[0], None, "data.exports", w.split(": ", 2)[-1]) for w in warnings])
    if not seen:
        raise DataError([Problem(config.path.name, None, "data.exports",
                                 "no export files found; check the globs in [data].exports")])
    return list(seen.values()), warnings


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


# --- readers: one per format, each appends text rows to `raw` ------------------------------


def read_csv(con: duckdb.DuckDBPyConnection, export: ExportFile) -> None:
    header = _csv_header(export)
    _check_header(export, header, line=1)
    spec = ", ".join(f"'{c}': 'VARCHAR'" for c in header)
    src = f"""read_csv(?, columns={{{spec}}}, header=true, auto_detect=false, delim=',', quote='"',
              escape='"', compression='{"gzip" if export.path.suffix == ".gz" else "none"}')"""
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE f AS SELECT * FROM {src}", [str(export.path)])
    except duckdb.Error as exc:
        raise DataError([Problem(export.shown, None, "", f"cannot read CSV: {_first_line(exc)}")]) from None
    present = [c for c in COLUMNS if c in header]
    fields = " || ".join(f"coalesce({_q(c)}, '')" for c in present)
    # A quoted field may span lines; count the newlines of earlier rows so lines stay exact.
    nl = f"length({fields}) - length(replace({fields}, chr(10), ''))"
    has_nl = con.execute(f"SELECT count(*) FROM f WHERE {fields} LIKE '%' || chr(10) || '%'").fetchone()[0]
    line = (f"rowid + 2 + coalesce(sum({nl}) OVER (ORDER BY rowid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)"
            if has_nl else "rowid + 2")
    cols = ", ".join(_q(c) if c in header else "NULL" for c in COLUMNS)
    con.execute(f"INSERT INTO raw SELECT {cols}, {export.id}, {line} FROM f ORDER BY rowid")
    con.execute("DROP TABLE f")


def _csv_header(export: ExportFile) -> list[str]:
    opener: Callable = gzip.open if export.path.suffix == ".gz" else open
    try:
        with opener(export.path, "rb") as fh:
            first = fh.readline(1 << 20)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError([Problem(export.shown, None, "", f"cannot read: {exc}")]) from None
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError([Problem(export.shown, 1, "", "header is not valid UTF-8; save the export as UTF-8")]) from None
    if not text.strip():
        raise DataError([Problem(export.shown, None, "", "empty export: no header row")])
    return [h.strip() for h in next(csv.reader(io.StringIO(text)))]


def _check_header(export: ExportFile, header: list[str], line: int) -> None:
    problems = []
    for name in header:
        if name not in COLUMNS:
            close = difflib.get_close_matches(name, COLUMNS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; expected columns: {', '.join(COLUMNS)}"
            problems.append(Problem(export.shown, line, name or "(blank)", f"unknown column{hint}"))
    for name in REQUIRED:
        if name not in header:
            problems.append(Problem(export.shown, line, name, "required column is missing from the header"))
    dupes = sorted({h for h in header if header.count(h) > 1})
    problems += [Problem(export.shown, line, d, "column appears twice in the header") for d in dupes]
    if problems:
        raise DataError(problems)


READERS: dict[str, Callable[[duckdb.DuckDBPyConnection, ExportFile], None]] = {
    ".csv": read_csv,
    ".csv.gz": read_csv,
}


def _reader_for(export: ExportFile) -> Callable[[duckdb.DuckDBPyConnection, ExportFile], None]:
    name = export.path.name.lower()
    for suffix in sorted(READERS, key=len, reverse=True):
        if name.endswith(suffix):
            return READERS[suffix]
    raise DataError([Problem(export.shown, None, "", f"unsupported export format; expected one of {', '.join(sorted(READERS))}")])


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# --- validation and de-duplication ---------------------------------------------------------

# One CASE per row: the first failing column (in schema order) and why. NULL when the row is good.
_TS_PATTERN = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|z|[+-]\d{2}(:?\d{2})?)?$"
_CREDITS_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"
_BOOLS = ", ".join(f"'{w}'" for w in TRUE_WORDS + FALSE_WORDS)
_PROBLEM_SQL = f"""
CASE
  WHEN event_id IS NULL THEN 'event_id|required value is missing'
  WHEN ts_text IS NULL THEN 'timestamp|required value is missing'
  WHEN NOT regexp_full_match(ts_text, '{_TS_PATTERN}') OR ts IS NULL
    THEN 'timestamp|' || quote_text(ts_text) || ' is not an ISO 8601 timestamp (e.g. 2026-10-01T09:30:00+02:00)'
  WHEN member IS NULL THEN 'member|required value is missing'
  WHEN feature IS NULL THEN 'feature|required value is missing'
  WHEN operation IS NULL THEN 'operation|required value is missing'
  WHEN credits_text IS NULL THEN 'credits|required value is missing'
  WHEN NOT regexp_full_match(credits_text, '{_CREDITS_PATTERN}')
    THEN 'credits|' || quote_text(credits_text) || ' is not a number'
  WHEN length(rtrim(regexp_extract(credits_text, '\\.(\\d*)', 1), '0')) > 6
    THEN 'credits|' || quote_text(credits_text) || ' has more than 6 decimal places'
  WHEN credits IS NULL THEN 'credits|' || quote_text(credits_text) || ' is too large'
  WHEN credits < 0 AND operation <> 'refund'
    THEN 'credits|' || credits_text || ' is negative; only a refund (operation = refund) may be negative'
  WHEN credits > 0 AND operation = 'refund' THEN 'credits|a refund must have negative credits, got ' || credits_text
  WHEN quantity_text IS NOT NULL AND (NOT regexp_full_match(quantity_text, '^[+]?\\d+$') OR quantity IS NULL OR quantity < 1)
    THEN 'quantity|' || quote_text(quantity_text) || ' is not a whole number ≥ 1'
  WHEN knowledge_text IS NOT NULL AND lower(knowledge_text) NOT IN ({_BOOLS})
    THEN 'knowledge|' || quote_text(knowledge_text) || ' is not a boolean (true/false, yes/no, 1/0)'
END"""


def _clean(col: str) -> str:
    return f"nullif(trim({col}), '')"


_TYPED_SQL = f"""
CREATE OR REPLACE TEMP TABLE typed AS
SELECT *, {_PROBLEM_SQL} AS problem FROM (
  SELECT
    file_id, line,
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
    TRY_CAST({_clean("quantity")} AS BIGINT) AS quantity,
    {_clean("session_id")} AS session_id,
    {_clean("knowledge")} AS knowledge_text,
    lower({_clean("knowledge")}) IN ({", ".join(f"'{w}'" for w in TRUE_WORDS)}) AS knowledge
  FROM raw
)"""

_CONTENT = "ts, member, team, feature, operation, model, credits, coalesce(quantity, 1), session_id, coalesce(knowledge, false)"


def ingest(config: SiteConfig, strict: bool = False) -> Ingested:
    """Load every export, validate, de-duplicate; raise DataError under on_error = "fail"."""
    exports, warnings = find_exports(config, strict)
    con = duckdb.connect(":memory:")
    con.execute(f"SET TimeZone = '{config.site.timezone}'")
    con.execute("SET preserve_insertion_order = true")
    con.execute("CREATE TEMP TABLE raw (" + ", ".join(f"{_q(c)} VARCHAR" for c in COLUMNS)
                + ", file_id INTEGER, line BIGINT)")
    for export in exports:
        _reader_for(export)(con, export)
    con.execute("CREATE OR REPLACE MACRO quote_text(s) AS '''' || s || ''''")
    con.execute(_TYPED_SQL)

    stats = [FileStats(e.shown) for e in exports]
    for fid, n in con.execute("SELECT file_id, count(*) FROM typed GROUP BY ALL").fetchall():
        stats[fid].rows = n
    for e in exports:
        if stats[e.id].rows == 0:
            raise DataError([Problem(e.shown, None, "", "empty export: a header but no rows")])

    problems = _row_problems(con, exports) + _conflict_problems(con, exports)
    if problems and config.data.on_error == "fail":
        shown = sorted(problems, key=lambda p: (p.file, p.line or 0))[:SHOWN_ERRORS]
        raise DataError(shown, total=len(problems))

    _build_events(con, config)
    for fid, kind, n in con.execute("""
        SELECT file_id, 'counted', count(*) FROM events GROUP BY ALL
        UNION ALL SELECT file_id, 'duplicate', count(*) FROM typed_ok WHERE NOT keep GROUP BY ALL
        UNION ALL SELECT file_id, 'quarantined', count(*) FROM typed WHERE problem IS NOT NULL OR conflict GROUP BY ALL
    """).fetchall():
        setattr(stats[fid], kind, n)
    return Ingested(con, stats, problems, warnings)


def _row_problems(con: duckdb.DuckDBPyConnection, exports: list[ExportFile]) -> list[Problem]:
    rows = con.execute("SELECT file_id, line, problem FROM typed WHERE problem IS NOT NULL ORDER BY file_id, line").fetchall()
    out = []
    for fid, line, problem in rows:
        column, reason = problem.split("|", 1)
        out.append(Problem(exports[fid].shown, line, column, reason))
    return out


def _conflict_problems(con: duckdb.DuckDBPyConnection, exports: list[ExportFile]) -> list[Problem]:
    """The same event_id with different content: a data error naming both places."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE conflicts AS
        SELECT event_id FROM typed WHERE problem IS NULL
        GROUP BY event_id HAVING count(DISTINCT ({_CONTENT})) > 1""")
    con.execute("ALTER TABLE typed ADD COLUMN conflict BOOLEAN DEFAULT false")
    con.execute("UPDATE typed SET conflict = true WHERE problem IS NULL AND event_id IN (SELECT event_id FROM conflicts)")
    rows = con.execute("""
        SELECT event_id, file_id, line FROM typed WHERE conflict ORDER BY event_id, file_id, line""").fetchall()
    out: list[Problem] = []
    first: dict[str, tuple[int, int]] = {}
    for event_id, fid, line in rows:
        if event_id not in first:
            first[event_id] = (fid, line)
            continue
        f0, l0 = first[event_id]
        out.append(Problem(exports[fid].shown, line, "event_id",
                           f"{event_id!r} was already read with different content at {exports[f0].shown}:{l0}"))
    return out


def _build_events(con: duckdb.DuckDBPyConnection, config: SiteConfig) -> None:
    """Keep the first good copy of every event; resolve the team from `[teams]`, else Unassigned."""
    con.execute("CREATE OR REPLACE TEMP TABLE member_teams (member VARCHAR, team VARCHAR)")
    if config.teams:
        con.executemany("INSERT INTO member_teams VALUES (?, ?)", sorted(config.teams.items()))
    con.execute("""
        CREATE OR REPLACE TEMP TABLE typed_ok AS
        SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY file_id, line) = 1 AS keep
        FROM typed WHERE problem IS NULL AND NOT conflict""")
    con.execute(f"""
        CREATE OR REPLACE TABLE events AS
        SELECT t.event_id, t.ts, CAST(timezone('{config.site.timezone}', t.ts) AS DATE) AS day,
               t.member, coalesce(t.team, m.team, 'Unassigned') AS team, t.feature, t.operation, t.model,
               t.credits, coalesce(t.quantity, 1) AS quantity, t.session_id, coalesce(t.knowledge, false) AS knowledge,
               t.file_id, t.line
        FROM typed_ok t LEFT JOIN member_teams m ON m.member = t.member
        WHERE t.keep""")
