"""Exact places for what is wrong in the exports: `file:line: column: reason`.

The fast scan in `ingest` knows *that* rows are bad but not *where*. These functions re-read
only the files concerned, in file order, so every row has its line (a quoted field spanning
lines and rows DuckDB had to reject are accounted for), and explain each bad row, each
conflicting duplicate (naming both places) and each line that could not be parsed at all.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import duckdb

from generator.errors import DataError, Problem
from generator.ingest.exports import COLUMNS, ExportFile, lone_cr_line
from generator.ingest.sql import (
    CSV_OPTIONS,
    EVENT_COLUMNS,
    JSON_IS_OBJECT,
    JSON_LINES_OPTIONS,
    json_rows_sql,
    quote_sql,
    typed_sql,
)

STRUCTURAL = {
    "TOO MANY COLUMNS": "the row has more fields than the header",
    "MISSING COLUMNS": "the row has fewer fields than the header",
    "UNQUOTED VALUE": "a quoted field is not closed (or a quote sits inside an unquoted field)",
    "INVALID ENCODING": "not valid UTF-8; save the export as UTF-8",
    "LINE SIZE OVER MAXIMUM": "the line is longer than 8 MiB",
}


@dataclass
class Loaded:
    """One export read carefully into `table`, with the line (or Parquet row) of each row."""

    export: ExportFile
    table: str
    rejected_lines: list[int] = field(default_factory=list)  # lines DuckDB could not parse

    def true_line(self, counted: int) -> int:
        """Lines were counted over the rows DuckDB read; rejected lines before a row push it down."""
        line = counted
        for rejected in self.rejected_lines:
            if rejected <= line:
                line += 1
        return line


class Diagnostics:
    """Careful re-reads of the exports and the problems found in them."""

    def __init__(self, con: duckdb.DuckDBPyConnection, exports: list[ExportFile], tz: str):
        self.con, self.exports, self.tz = con, exports, tz
        self.ids = {str(e.path): i for i, e in enumerate(exports)}  # file_id, as in ingest.source_sql
        self.loaded: dict[str, Loaded] = {}
        self.problems: list[Problem] = []
        self.quarantined_rows: Counter[str] = Counter()
        self.unreadable_rows: Counter[str] = Counter()

    # -- careful reading ----------------------------------------------------------------------

    def load(self, exports: list[ExportFile]) -> None:
        self.con.execute("SET preserve_insertion_order = true")  # rowid must follow the file
        try:
            for e in exports:
                if str(e.path) not in self.loaded:
                    self.loaded[str(e.path)] = self._load(e, f"careful_{len(self.loaded)}")
        finally:
            self.con.execute("SET preserve_insertion_order = false")

    def _load(self, e: ExportFile, table: str) -> Loaded:
        path = quote_sql(str(e.path))
        loaded = Loaded(e, table)
        try:
            if e.format == "csv":
                self._load_csv(e, path, loaded)
            elif e.format == "jsonl":
                self._load_jsonl(path, loaded)
            else:
                names = self._parquet_names(path)
                cols = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' if c in names else f'NULL AS "{c}"' for c in COLUMNS)
                self.con.execute(f"""CREATE OR REPLACE TEMP TABLE {table} AS
                    SELECT {cols}, NULL AS json_problem, file_row_number + 1 AS line
                    FROM read_parquet({path}, file_row_number=true)""")
        except duckdb.Error as exc:
            if e.format == "csv" and (line := lone_cr_line(e)) is not None:
                raise DataError([Problem(e.shown, line, "", "a carriage return (CR) in the middle of a line, outside "
                                         "quotes: quote that value, or save the export with LF or CRLF line ends")]) from None
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError([Problem(e.shown, None, "", f"cannot read: {reason}")]) from None
        return loaded

    def _parquet_names(self, path: str) -> set[str]:
        return {r[0] for r in self.con.execute(f"DESCRIBE SELECT * FROM read_parquet({path})").fetchall()}

    def _load_csv(self, e: ExportFile, path: str, loaded: Loaded) -> None:

        spec = ", ".join(f"'{c}': 'VARCHAR'" for c in e.header)
        rej, scan = f"{loaded.table}_rejects", f"{loaded.table}_scans"
        self.con.execute(f"""CREATE OR REPLACE TEMP TABLE {loaded.table}_raw AS SELECT * FROM read_csv({path},
            columns={{{spec}}}, {CSV_OPTIONS}, store_rejects=true, rejects_table='{rej}', rejects_scan='{scan}')""")
        fields = " || ".join(f"coalesce(\"{c}\", '')" for c in e.header)
        newlines = f"length({fields}) - length(replace({fields}, chr(10), ''))"
        before = f"sum({newlines}) OVER (ORDER BY rowid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
        # A quoted field may span lines: earlier rows' embedded newlines move later rows down.
        self.con.execute(f"""CREATE OR REPLACE TEMP TABLE {loaded.table} AS
            SELECT {", ".join(f'"{c}"' if c in e.header else f'NULL AS "{c}"' for c in COLUMNS)}, NULL AS json_problem,
                   rowid + 2 + coalesce({before}, 0) AS line
            FROM {loaded.table}_raw ORDER BY rowid""")
        rejects = self.con.execute(f"""SELECT line, any_value(column_name), any_value(error_type) FROM {rej}
            GROUP BY line ORDER BY line""").fetchall()
        loaded.rejected_lines = [int(r[0]) for r in rejects]
        for line, column, kind in rejects:
            reason = STRUCTURAL.get(kind, kind.lower())
            self._add(Problem(e.shown, int(line), column or "row", reason), str(e.path), unreadable=True)
        self.con.execute(f"DROP TABLE {loaded.table}_raw; DROP TABLE {rej}; DROP TABLE {scan}")

    def _load_jsonl(self, path: str, loaded: Loaded) -> None:
        self.con.execute(f"""CREATE OR REPLACE TEMP TABLE {loaded.table}_lines AS
            SELECT j FROM read_csv({path}, {JSON_LINES_OPTIONS})""")
        self.con.execute(f"""CREATE OR REPLACE TEMP TABLE {loaded.table}_raw AS
            SELECT j, rowid + 1 AS line FROM {loaded.table}_lines; DROP TABLE {loaded.table}_lines""")
        e = loaded.export
        for (line,) in self.con.execute(f"""SELECT line FROM {loaded.table}_raw
                WHERE j IS NOT NULL AND NOT {JSON_IS_OBJECT} ORDER BY line""").fetchall():
            self._add(Problem(e.shown, int(line), "row", "not a JSON object on one line"), str(e.path), unreadable=True)
        # CASE, not AND: DuckDB may evaluate both sides, and json_type fails on text that is not JSON.
        objects = (f"SELECT CASE WHEN {JSON_IS_OBJECT} THEN j END AS j, line FROM {loaded.table}_raw "
                   f"WHERE j IS NOT NULL AND {JSON_IS_OBJECT}")
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {loaded.table} AS {json_rows_sql(objects, 'line')} ORDER BY line")
        self.con.execute(f"DROP TABLE {loaded.table}_raw")

    def source(self) -> str:
        """The carefully read rows, shaped like `ingest.source_sql`'s, for the same aggregate."""
        cols = ", ".join(f'"{c}"' for c in COLUMNS)
        return "\nUNION ALL ".join(f"SELECT {cols}, json_problem, true AS check_text, {self.ids[p]} AS file_id "
                                   f"FROM {ld.table}" for p, ld in self.loaded.items())

    # -- explaining -------------------------------------------------------------------------------

    def explain(self, source: str, bad_file_ids: set[int], conflicts: list[str]) -> None:
        """Name every bad row of those files and every place of each conflicting event_id."""

        conflict_ids: set[int] = set()
        if conflicts:
            conflict_ids = {r[0] for r in self.con.execute(
                f"SELECT DISTINCT file_id FROM ({source}) WHERE event_id IN (SELECT unnest(?))", [conflicts]).fetchall()}
        self.load([self.exports[i] for i in sorted(bad_file_ids | conflict_ids)])
        bad_files = {str(self.exports[i].path) for i in bad_file_ids}
        conflict_files = {str(self.exports[i].path) for i in conflict_ids}
        for path in sorted(bad_files, key=self.ids.get):
            ld = self.loaded[path]
            rows = self.con.execute(f"""SELECT line, problem, event_id FROM ({typed_sql(self._one(path), self.tz, ', line')})
                WHERE problem IS NOT NULL ORDER BY line""").fetchall()
            for line, problem, event_id in rows:
                column, reason = problem.split("|", 1)
                self._add(Problem(ld.export.shown, ld.true_line(int(line)), column, reason,
                                  "row" if ld.export.format == "parquet" else "line", event_id), path)
        if conflicts:
            self._explain_conflicts(sorted(conflict_files, key=self.ids.get), conflicts)

    def _one(self, path: str) -> str:
        cols = ", ".join(f'"{c}"' for c in COLUMNS)
        return (f"SELECT {cols}, json_problem, true AS check_text, {self.ids[path]} AS file_id, line "
                f"FROM {self.loaded[path].table}")

    def _explain_conflicts(self, files: list[str], conflicts: list[str]) -> None:

        union = "\nUNION ALL ".join(self._one(p) for p in files)
        rows = self.con.execute(f"""SELECT event_id, file_id, line, hash({EVENT_COLUMNS}) AS content
            FROM ({typed_sql(union, self.tz, ', line')})
            WHERE problem IS NULL AND event_id IN (SELECT unnest(?)) ORDER BY event_id, file_id, line""", [conflicts]).fetchall()
        first: dict[str, tuple[str, int, int]] = {}
        for event_id, fid, line, content in rows:
            path = str(self.exports[fid].path)
            ld = self.loaded[path]
            here = ld.true_line(int(line))
            unit = "row" if ld.export.format == "parquet" else "line"
            if event_id not in first:
                first[event_id] = (ld.export.shown, here, content)
                self.quarantined_rows[path] += 1
                continue
            shown, at, first_content = first[event_id]
            where = f"{shown}:{at}" if unit == "line" else f"{shown}:row {at}"
            reason = (f"{event_id!r} was already read with different content at {where}" if content != first_content
                      else f"{event_id!r} repeats a row whose event_id was read with different content elsewhere")
            self._add(Problem(ld.export.shown, here, "event_id", reason, unit, event_id), path)

    def _add(self, problem: Problem, path: str, unreadable: bool = False) -> None:
        self.problems.append(problem)
        self.quarantined_rows[path] += 1
        if unreadable:
            self.unreadable_rows[path] += 1

