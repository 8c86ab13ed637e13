"""The SQL of ingest, in one leaf module: reading every export as text rows, typing and validating
them, and collapsing identical rows into events. The load, the careful diagnostics and the events cache
all build on these pieces, so they agree on what a row and an event are.
"""

from __future__ import annotations

import duckdb

from generator.errors import DataError, Problem
from generator.ingest.exports import (
    COLUMNS,
    ExportFile,
    check_columns,
    may_hold_control_characters,
    scan_for_control_characters,
)

# Spellings a spreadsheet writes for booleans; anything else in `knowledge` is a data error.
TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")
CSV_OPTIONS = "header=true, auto_detect=false, delim=',', quote='\"', escape='\"', max_line_size=8388608"


def quote_sql(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --- sources: every export as rows of text columns plus its file name ---------------------


def _file_id(ids: list[int]) -> str:
    """The export's position in the whole list, from DuckDB's per-scan file_index (an int: cheap to group on)."""
    return f"[{', '.join(map(str, ids))}][CAST(file_index AS BIGINT) + 1] AS file_id"


def _csv_source(group: list[ExportFile], ids: list[int]) -> str:
    header = group[0].header
    spec = ", ".join(f"'{c}': 'VARCHAR'" for c in header)
    cols = ", ".join(f'"{c}"' if c in header else "NULL" for c in COLUMNS)
    paths = ", ".join(quote_sql(str(e.path)) for e in group)
    # Only files whose bytes may hold a control character get the per-row test for one.
    flags = ", ".join("true" if may_hold_control_characters(e) else "false" for e in group)
    return (f"SELECT {cols}, NULL AS json_problem, [{flags}][CAST(file_index AS BIGINT) + 1] AS check_text, "
            f"{_file_id(ids)} FROM read_csv([{paths}], columns={{{spec}}}, {CSV_OPTIONS})")


# JSON Lines read line by line as text (a separator that cannot occur in a line), so that a line's
# shape can be checked: a key given twice, a key that is not a column, an object or array where a
# value belongs, a number in exponent form (the same text in a string is refused).
JSON_LINES_OPTIONS = ("columns={'j': 'VARCHAR'}, header=false, auto_detect=false, delim=E'\\x1f', quote='', "
                      "escape='', max_line_size=8388608")
JSON_IS_OBJECT = "CASE WHEN json_valid(j) THEN json_type(j) = 'OBJECT' ELSE false END"
_COLUMN_LIST = "[" + ", ".join(f"'{c}'" for c in COLUMNS) + "]"
_PATHS = "[" + ", ".join(f"'$.{c}'" for c in COLUMNS) + "]"
# Only the few characters after the key are searched (a regular expression over the whole line costs more).
_EXPONENT = ("regexp_extract(substr(j, strpos(j, '\"credits\"'), 48), "
             "'^\"credits\"\\s*:\\s*(-?[0-9.]+[eE][-+]?[0-9]+)', 1)")
_CREDITS = COLUMNS.index("credits") + 1


def _json_problem_sql() -> str:
    """'column|reason' for a line `j` (with its keys `k` and their types `ty`) of the wrong shape, else NULL."""
    twice = "list_filter(k, lambda x: len(list_filter(k, lambda y: y = x)) > 1)[1]"
    unknown = f"list_filter(k, lambda x: NOT list_contains({_COLUMN_LIST}, x))[1]"
    nested = "list_position(list_transform(ty, lambda t: t IN ('OBJECT', 'ARRAY')), true)"
    # Cheap tests decide (measured: list_distinct or a lambda on every line cost more than the scan);
    # what names the key runs only on a bad line. Keys beyond those that are columns (each counted
    # once in `ty`) are a key given twice or one that is not a column.
    problem = f"""CASE
        WHEN len(k) <> list_aggregate(ty, 'count') THEN CASE
          WHEN len(list_distinct(k)) <> len(k) THEN {twice} || '|the key is given twice in one line'
          ELSE {unknown} || '|not a column (a key must be one of: {', '.join(COLUMNS)})' END
        WHEN (contains(substr(j, 2), '{{') OR contains(j, '[')) AND list_has_any(ty, ['OBJECT', 'ARRAY'])
          THEN {_COLUMN_LIST}[{nested}] || '|a JSON ' || lower(ty[{nested}]) || ' where a value belongs'
        WHEN ty[{_CREDITS}] = 'DOUBLE' AND {_EXPONENT} <> '' THEN 'credits|''' || {_EXPONENT} || ''' is not a number'
        END"""
    return problem


def json_rows_sql(inner: str, extra: str) -> str:
    """Rows shaped like the other sources from `inner` (JSON object lines `j` plus `extra` columns).

    Each line is parsed three times, however many keys it has: its values, their JSON types and its
    keys. `json_problem` is 'column|reason' for a line of the wrong shape, else NULL."""
    problem = _json_problem_sql()
    cols = ", ".join(f'v[{i}] AS "{c}"' for i, c in enumerate(COLUMNS, start=1))
    return f"""SELECT {cols}, {problem} AS json_problem, {extra} FROM (
        SELECT j, json_extract_string(j, {_PATHS}) AS v, json_type(j, {_PATHS}) AS ty, json_keys(j) AS k, {extra}
        FROM ({inner}))"""


def _jsonl_source(group: list[ExportFile], ids: list[int]) -> str:
    spec = ", ".join(f"'{c}': 'VARCHAR'" for c in COLUMNS)
    paths = ", ".join(quote_sql(str(e.path)) for e in group)
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    return (f"SELECT {cols}, NULL AS json_problem, true AS check_text, {_file_id(ids)} "
            f"FROM read_json([{paths}], format='newline_delimited', columns={{{spec}}})")


def json_lines_well_shaped(con: duckdb.DuckDBPyConnection, exports: list[ExportFile]) -> bool:
    """Whether every line of these JSON Lines exports is an object of the right shape.

    read_json (the fast scan) keeps a key's first value, drops keys that are not columns and turns
    an object into its text; this second, cheaper scan of the lines finds such a line, and the
    careful read then names it."""
    paths = ", ".join(quote_sql(str(e.path)) for e in exports if e.format == "jsonl")
    if not paths:
        return True
    # read_json has just read every line as an object, so the lines need no second validity test.
    lines = f"SELECT j FROM read_csv([{paths}], {JSON_LINES_OPTIONS}) WHERE j IS NOT NULL"
    found = con.execute(f"""SELECT count(*) FROM (SELECT j, json_keys(j) AS k, json_type(j, {_PATHS}) AS ty
        FROM ({lines})) WHERE ({_json_problem_sql()}) IS NOT NULL""")
    return found.fetchone()[0] == 0


def _parquet_source(con: duckdb.DuckDBPyConnection, export: ExportFile, fid: int) -> str:
    path = quote_sql(str(export.path))
    try:
        names = tuple(r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({path})").fetchall())
    except duckdb.Error as exc:
        raise DataError([Problem(export.shown, None, "", f"not a readable Parquet file: {_first_line(exc)}")]) from None
    check_columns(export, names, line=None)
    cols = ", ".join(f'CAST("{c}" AS VARCHAR)' if c in names else "NULL" for c in COLUMNS)
    return f"SELECT {cols}, NULL AS json_problem, true AS check_text, {fid} AS file_id FROM read_parquet({path})"


def source_sql(con: duckdb.DuckDBPyConnection, exports: list[ExportFile]) -> str:
    """One UNION ALL over every export; CSV files that share a header are read in one scan."""
    scan_for_control_characters(exports)  # the CSV files' bytes, all at once (each file's flag below)
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


# Unicode white space (Python's str.isspace): a value of these alone is blank, like an empty one.
_SPACE_CODES = (*range(0x09, 0x0E), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
                0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
_SPACE_CLASS = "".join(f"\\x{{{c:x}}}" for c in _SPACE_CODES)


def _blank(col: str) -> str:
    # A cheap pre-filter on the first character: only a value starting with an ASCII space or control
    # character, or with a character from U+0085 up, can be white space alone (measured: testing the
    # first code point on every row cost a tenth of the scan); only those reach the regular expression.
    return (f"({col} IS NULL OR CASE WHEN {col} < '!' OR {col} >= chr(133) "
            f"THEN regexp_full_match({col}, '[{_SPACE_CLASS}]*') ELSE false END)")


def _optional(col: str) -> str:
    """An optional text column: empty or white space alone is no value (a blank team takes [teams])."""
    return f"CASE WHEN {_blank(col)} THEN NULL ELSE {col} END"


# Characters a text value may not hold: C0 and C1 controls (tab included: no name has one) and the
# Unicode noncharacters of the BMP; the site's HTML, SVG and XML cannot carry them.
_CONTROL_CLASS = "[\\x00-\\x1f\\x7f-\\x9f\\x{fdd0}-\\x{fdef}\\x{fffe}\\x{ffff}]"
TEXT_COLUMNS = ("event_id", "member", "team", "feature", "operation", "model", "session_id")


def _control(col: str) -> str:
    return f"coalesce(regexp_matches({col}, '{_CONTROL_CLASS}'), false)"


# A timestamp's written offset (`±HH:MM`, `±HHMM` or `±HH` at its end) in hours and minutes, from plain
# string functions (no second parse): DuckDB accepts any offset, an export only up to ±18:00.
_OFFSET_COLON = "substr(ts_text, -6, 1) IN ('+', '-') AND substr(ts_text, -3, 1) = ':'"
_OFFSET_4 = "substr(ts_text, -5, 1) IN ('+', '-') AND length(ts_text) > 19"
_OFFSET_HOURS = f"""CASE WHEN {_OFFSET_COLON} THEN TRY_CAST(substr(ts_text, -5, 2) AS INTEGER)
    WHEN {_OFFSET_4} THEN TRY_CAST(substr(ts_text, -4, 2) AS INTEGER)
    WHEN substr(ts_text, -3, 1) IN ('+', '-') THEN TRY_CAST(substr(ts_text, -2, 2) AS INTEGER) ELSE 0 END"""
_OFFSET_MINUTES = f"""CASE WHEN {_OFFSET_COLON} OR {_OFFSET_4} THEN TRY_CAST(substr(ts_text, -2, 2) AS INTEGER)
    ELSE 0 END"""


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
# The timestamp's shape: a date and a time, a UTC offset (no zone name), the offset within ±18:00.
_TS_SHAPE_CHECKS: list[tuple[str, str, str]] = [
    ("timestamp", f"ts IS NULL OR NOT ({_TS_SHAPE})",
     "'''' || ts_text || ''' is not an ISO 8601 timestamp (e.g. 2026-10-01T09:30:00+02:00)'"),
    # After the date only digits, ':', '.', a sign and Z: a zone name (`… America/New_York`) is no offset.
    ("timestamp", "translate(substr(ts_text, 12), '0123456789:.+-Zz', '') <> ''",
     "'''' || ts_text || ''' names a time zone; write its UTC offset instead (e.g. 2026-10-01T09:30:00-04:00)'"),
    ("timestamp", f"({_OFFSET_HOURS}) * 60 + ({_OFFSET_MINUTES}) > 18 * 60 OR ({_OFFSET_MINUTES}) > 59",
     "'''' || ts_text || ''' has a UTC offset outside ±18:00'"),
]
CHECKS: list[tuple[str, str, str]] = [
    ("event_id", _blank("event_id"), _MISSING),
    ("timestamp", _blank("ts_text"), _MISSING),
    *_TS_SHAPE_CHECKS,
    ("timestamp", "ts < TIMESTAMPTZ '1970-01-01 00:00:00+00' OR ts >= TIMESTAMPTZ '2201-01-01 00:00:00+00'",
     "'''' || ts_text || ''' lies outside the years 1970–2200'"),
    ("member", _blank("member"), _MISSING),
    ("feature", _blank("feature"), _MISSING),
    ("operation", _blank("operation"), _MISSING),
    ("credits", _blank("credits_text"), _MISSING),
    # A text the DECIMAL cast could not read is a number too large for it (≥ 10¹² credits) or no number at
    # all ('+-1' is one for the DOUBLE cast alone); only those texts need the DOUBLE cast.
    ("credits", "contains(credits_text, 'e') OR contains(credits_text, 'E') OR contains(credits_text, '_')"
                " OR CASE WHEN credits IS NOT NULL THEN false"
                " ELSE NOT coalesce(isfinite(TRY_CAST(credits_text AS DOUBLE))"
                " AND abs(TRY_CAST(credits_text AS DOUBLE)) >= 1e12, false) END",
     "'''' || credits_text || ''' is not a number'"),
    # Seven decimal places take at least eight bytes (".0000001").
    ("credits", f"CASE WHEN strlen(credits_text) > 7 THEN strpos(credits_text, '.') > 0 AND {_FRACTION_DIGITS} > 6"
                f" AND length(rtrim({_FRACTION}, '0')) > 6 ELSE false END",
     "'''' || credits_text || ''' has more than 6 decimal places'"),
    ("credits", "credits IS NULL", "'''' || credits_text || ''' is too large'"),
    ("credits", "credits < 0 AND operation <> 'refund'",
     "credits_text || ' is negative; only a refund (operation = refund) may be negative'"),
    ("credits", "credits > 0 AND operation = 'refund'", "'a refund must have negative credits, got ' || credits_text"),
    # BIGINT casts round '1.5' and read '1e3' or '0x10': only plain digits pass (one digit: the common case, no regex).
    ("quantity", "quantity_text IS NOT NULL AND quantity_raw IS NULL AND length(quantity_text) > 18"
                 " AND regexp_full_match(quantity_text, '^[+]?[0-9]+$')",
     "'''' || quantity_text || ''' is too large'"),
    ("quantity", "CASE WHEN quantity_text IS NULL OR (quantity_raw >= 1 AND strlen(quantity_text) = 1) THEN false"
                 " ELSE NOT coalesce(quantity_raw >= 1 AND regexp_full_match(quantity_text, '^[+]?0*[1-9][0-9]*$'),"
                 " false) END",
     "'''' || quantity_text || ''' is not a whole number ≥ 1'"),
    ("knowledge", f"knowledge_text IS NOT NULL AND lower(knowledge_text) NOT IN ({_BOOLS})",
     "'''' || knowledge_text || ''' is not a boolean (true/false, yes/no, 1/0)'"),
]
_CONTROL_CHECKS = [(col, _control(col), "'holds a control character (U+' || lpad(upper(to_hex(unicode("
                    f"regexp_extract({col}, '{_CONTROL_CLASS}')))), 4, '0') || ')'") for col in TEXT_COLUMNS]
CHECKS += _CONTROL_CHECKS
# Whether a row is bad (the fast path) and why (diagnostics) come from the same conditions; the fast
# path looks for a control character in every text column at once (one regular expression a row).
_ALL_TEXT = " || ' ' || ".join(f"coalesce({col}, '')" for col in TEXT_COLUMNS)
# Nearly every timestamp has one of three fixed shapes (…T09:30:00Z, …T09:30:00+02:00, …-04:00). Parsed and
# of such a shape, it cannot be a date alone or carry a zone name, so of its shape checks only the offset's
# range is left, read from fixed positions (digits there: the parse succeeded). Measured on 1 M rows, the
# zone-name test alone cost a quarter of the whole validation.
_TS_FIXED = ("ts IS NOT NULL AND (ts_text LIKE '____-__-__T__:__:__Z' OR ts_text LIKE '____-__-__T__:__:__+__:__'"
             " OR ts_text LIKE '____-__-__T__:__:__-__:__')")
_TS_FIXED_BAD = ("CASE WHEN substr(ts_text, 20, 1) = 'Z' THEN false"
                 " ELSE substr(ts_text, 21, 5) > '18:00' OR substr(ts_text, 24, 2) > '59' END")
BAD_SQL = "json_problem IS NOT NULL OR " + " OR ".join(
    f"({cond})" for col, cond, why in CHECKS if (col, cond, why) not in _CONTROL_CHECKS + _TS_SHAPE_CHECKS)
BAD_SQL += (f" OR CASE WHEN {_TS_FIXED} THEN {_TS_FIXED_BAD} ELSE "
            + " OR ".join(f"({cond})" for _, cond, _ in _TS_SHAPE_CHECKS) + " END")
# A CASE computes its THEN for the rows it selects only, where an AND computes both sides for every row:
# measured on 1 M rows, the AND cost 0.3 s of CPU for files that need no test at all.
BAD_SQL += f" OR CASE WHEN check_text THEN regexp_matches({_ALL_TEXT}, '{_CONTROL_CLASS}') ELSE false END"
PROBLEM_SQL = ("CASE WHEN json_problem IS NOT NULL THEN json_problem "
               + " ".join(f"WHEN {cond} THEN '{col}|' || {why}" for col, cond, why in CHECKS) + " END")


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
        {_optional(_clean("team"))} AS team,
        {_clean("feature")} AS feature,
        {_clean("operation")} AS operation,
        {_optional(_clean("model"))} AS model,
        {_clean("credits")} AS credits_text,
        TRY_CAST({_clean("credits")} AS DECIMAL(18, 6)) AS credits,
        {_clean("quantity")} AS quantity_text,
        TRY_CAST({_clean("quantity")} AS BIGINT) AS quantity_raw,
        coalesce(TRY_CAST({_clean("quantity")} AS BIGINT), 1) AS quantity,
        {_optional(_clean("session_id"))} AS session_id,
        {_clean("knowledge")} AS knowledge_text, json_problem, check_text,
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


def fast_read(con: duckdb.DuckDBPyConnection, exports: list[ExportFile], tz: str) -> str | None:
    """Aggregate the exports into `g` and return the source SQL read; None when DuckDB cannot read them
    (the careful path then explains)."""
    try:
        source = source_sql(con, exports)
        aggregate(con, source, tz)
        return source if json_lines_well_shaped(con, exports) else None
    except (duckdb.OutOfMemoryException, duckdb.InterruptException):
        raise  # not the data's fault: no careful re-read would help
    except duckdb.Error:
        return None
