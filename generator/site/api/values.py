"""How values are written in the JSON API: credits as numbers, dates ISO 8601, notify levels as decimals."""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from typing import Any

API_VERSION = 1


def number(value: Decimal | float | int | None) -> float | int | None:
    """Credits as JSON numbers: integral values as integers, the rest as floats."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def level_key(level: float) -> str:
    """Notify levels as decimals: 0.5 → "0.5", 1 → "1.0"."""
    return repr(float(level))


def build_time(as_of: dt.datetime) -> dt.datetime:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else the data's as_of: never the wall clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return as_of


def dumps(doc: Any) -> str:
    # Compact: with `indent` Python's encoder runs in pure Python, 5× slower on a large site's team
    # documents. Pipe through `jq .` (or open in a browser) to read one.
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
