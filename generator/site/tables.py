"""Tables as data: one object feeds both the HTML table and its CSV download, so they cannot diverge.

A `Table` holds raw values (Decimal, float, int, date, str, None, `Link`) and, per column, a
kind that says how a page formats them (`render.fmt_cell`) and how the CSV writes them
(`downloads.csv_value`). Pages render every table with the `data_table` macro, which links the
CSV written at `Table.path`.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

# How a column's values are shown; the CSV always holds the raw value (ratios as fractions, dates ISO).
KINDS = ("text", "credits", "signed", "int", "pct", "signed_pct", "points", "date", "money", "rate", "signed_rate",
         "factor", "bool", "mixed")
NUMERIC = {"credits", "signed", "int", "pct", "signed_pct", "points", "money", "rate", "signed_rate", "factor", "mixed"}


@dataclass(frozen=True)
class Column:
    key: str  # the CSV header: stable, snake_case, the JSON API's name where it has one
    label: str  # the HTML header
    kind: str = "text"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC


@dataclass(frozen=True)
class Link:
    """A cell that links to a page: `href` is relative to the site root (pages prefix their `root`)."""

    text: str
    href: str
    raw: str | None = None  # what the CSV holds when it differs from the text (a raw name behind a display name)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Cell:
    """A value with its own kind, for columns whose rows differ (a metric table: shares, rates, counts)."""

    value: Any
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS or self.kind == "mixed":
            raise ValueError(f"unknown cell kind {self.kind!r}")


@dataclass(frozen=True)
class Table:
    path: str  # where the CSV goes, relative to the site root, e.g. "months/2026-05/daily.csv"
    caption: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    row_header: bool = True  # the first column names the row (<th scope="row">)
    note: str = ""  # shown under the table
    row_classes: tuple[str, ...] = field(default_factory=tuple)  # per row, "" for none (e.g. "chosen")

    def __post_init__(self) -> None:
        width = len(self.columns)
        for row in self.rows:
            if len(row) != width:
                raise ValueError(f"{self.path}: a row has {len(row)} cells for {width} columns")

    @property
    def id(self) -> str:
        """The table's anchor on its page: `t-` and the CSV's name ("t-daily")."""
        return "t-" + posixpath.splitext(posixpath.basename(self.path))[0]

    @property
    def filename(self) -> str:
        return posixpath.basename(self.path)

    def row_class(self, index: int) -> str:
        return self.row_classes[index] if index < len(self.row_classes) else ""


def table(path: str, caption: str, columns: list[tuple[str, str, str]] | list[tuple[str, str]],
          rows: list[list[Any]] | list[tuple[Any, ...]], **extra: Any) -> Table:
    """Shorthand: columns as (key, label[, kind]) tuples."""
    cols = tuple(Column(*c) for c in columns)
    return Table(path, caption, cols, tuple(tuple(r) for r in rows), **extra)


class Tables(dict):
    """A page's tables by name; a table the page does not have is None (templates test `{% if tables.x %}`)."""

    def __missing__(self, key: str) -> None:
        return None
