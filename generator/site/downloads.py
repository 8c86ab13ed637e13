"""CSV downloads: every table of the site, written from the same `Table` the page renders.

Decisions (README "CSV downloads"):
- UTF-8 with a byte-order mark, CRLF line ends (RFC 4180), a header row of the column keys. The BOM
  is what makes Excel read UTF-8 rather than the machine's legacy code page; Python (`utf-8-sig`),
  LibreOffice, pandas and R all skip it.
- Values are raw: credits as plain numbers without thousands separators, ratios as fractions
  (0.8, not "80 %"), dates and instants ISO 8601, empty for "none".
- Formula neutralisation: a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
  return gets a leading `'`, so a spreadsheet shows it as text instead of evaluating it (a team
  named `=HYPERLINK(...)` stays a name). Numbers are never touched: a refund's -5 stays the number
  -5, which no spreadsheet evaluates as a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from generator.site.tables import Cell, Link, Table

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_value(value: Any) -> str:
    if isinstance(value, Cell):
        value = value.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Link):
        return neutralise(value.raw if value.raw is not None else value.text)
    return neutralise(str(value))


def table_csv(table: Table) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise(c.key) for c in table.columns])
    for row in table.rows:
        writer.writerow([csv_value(v) for v in row])
    return (BOM + buf.getvalue()).encode("utf-8")
