"""How numbers, dates and money read on pages, in charts, alerts, feeds and guides: one spelling each."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

NONE = "—"  # a figure that does not exist (no cycle ran out, no previous cycle)


def credits(value: Decimal | float | int | None) -> str:
    """1234 → "1,234"; 1234.56 → "1,234.6"."""
    if value is None:
        return NONE
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{float(value):,.1f}".removesuffix(".0")


def pct(value: float) -> str:
    """In sentences: 0.8 → "80%"; 0.125 → "12.5%"."""
    text = f"{value * 100:.1f}".removesuffix(".0")
    return f"{text}%"


def pct_fixed(value: float | None) -> str:
    """In tables and figures, one decimal always so columns line up: 0.8 → "80.0%"."""
    return NONE if value is None else f"{value:.1%}"


def day(value: dt.date | None) -> str:
    return NONE if value is None else f"{value:%a %-d %b %Y}"


def instant(value: dt.datetime) -> str:
    return f"{value:%-d %b %Y, %H:%M} ({value:%Z})"


def money(value: float) -> str:
    return f"{value:,.2f}"


def times(value: float) -> str:
    return f"{value:.1f}×"
