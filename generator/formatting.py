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


def pct(value: float | None) -> str:
    """In sentences: 0.8 → "80%"; 0.125 → "12.5%"."""
    if value is None:
        return NONE
    text = f"{value * 100:.1f}".removesuffix(".0")
    return f"{text}%"


def pct_fixed(value: float | None) -> str:
    """In tables and figures, one decimal always so columns line up: 0.8 → "80.0%"."""
    return NONE if value is None else f"{value:.1%}"


def day(value: dt.date | None) -> str:
    return NONE if value is None else f"{value:%a %-d %b %Y}"


def instant(value: dt.datetime) -> str:
    return f"{value:%-d %b %Y, %H:%M} ({value:%Z})"


# Symbols that read the same in every locale; any other ISO 4217 code is written after the amount.
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
MINUS = "−"  # a real minus sign, not a hyphen


def money(value: Decimal | float | int | None, currency: str | None = None) -> str:
    """An amount in `[site].currency`: 1788 → "€1,788", 21.914 → "€21.91", 17 CHF → "17 CHF"; unset: "21.91".

    Whole amounts and amounts of 1,000 or more show no cents (no false precision in annual costs).
    """
    if value is None:
        return NONE
    v = float(value)
    whole = abs(v) >= 1000 or round(v, 2) == round(v)
    digits = f"{abs(v):,.0f}" if whole else f"{abs(v):,.2f}"
    sign = MINUS if round(v, 0 if whole else 2) < 0 else ""
    if currency is None:
        return sign + digits
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{digits} {currency}"


def approx(value: float | None, figures: int = 3) -> str:
    """A forecast to 3 significant figures: 8612.5 → "8,610", 195.26 → "195", 0.4567 → "0.457"."""
    if value is None:
        return NONE
    if value == 0:
        return "0"
    from math import floor, log10

    digits = figures - 1 - floor(log10(abs(value)))
    rounded = round(value, digits)
    text = f"{abs(rounded):,.{max(digits, 0)}f}"
    if "." in text:
        text = text.rstrip("0").removesuffix(".")
    return (MINUS if rounded < 0 else "") + text


def signed_credits(value: float | Decimal) -> str:
    """A difference with its sign: +196, −196, 0."""
    text = credits(abs(value))
    return ("+" if value > 0 else MINUS if value < 0 else "") + text


def signed_pct(value: float) -> str:
    """A relative change in prose: −0.15 → "−15%", 0.125 → "+12.5%"."""
    text = pct(abs(value))
    return ("+" if value > 0 and text != "0%" else MINUS if value < 0 and text != "0%" else "") + text


def times(value: float) -> str:
    return f"{value:.1f}×"
