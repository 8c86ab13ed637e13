"""Numbers and dates in the plain sentences of alerts and recommendations (one spelling everywhere)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


def credits(value: Decimal | float | int) -> str:
    """1234 → "1,234"; 1234.56 → "1,234.6"."""
    v = float(value)
    return f"{v:,.0f}" if abs(v - round(v)) < 0.05 else f"{v:,.1f}"


def pct(value: float) -> str:
    """0.8 → "80%"; 0.125 → "12.5%" (the tables' style, "80.0%", without a trailing .0 in prose)."""
    text = f"{value * 100:.1f}".removesuffix(".0")
    return f"{text}%"


def day(value: dt.date) -> str:
    return f"{value:%a %-d %b %Y}"


def money(value: float) -> str:
    return f"{value:,.2f}"


def times(value: float) -> str:
    return f"{value:.1f}×"
