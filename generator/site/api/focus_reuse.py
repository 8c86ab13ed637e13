"""Which lines of an earlier part of the FOCUS export a changed cycle's part can keep.

A cycle's usage lines are in day order, and a line's cost depends only on the credits of the lines before
it (the running total, see focus.py). So when a cycle's later days change (the daily refresh adds a day; a
late export changes one day of an old cycle), its part keeps the earlier part's lines up to the first day
that changed, and only the lines from that day on are written again, starting from the credits of the
lines kept. That holds only if everything else the lines show is the same: the earlier part must share the
cycle's `prefix` key (its labels, constants, prices, timezone and code).

An earlier part's meta (`<key>.json` beside it) records its cycle, its prefix key and its days: for each,
the number of lines, their credits and a digest of the lines. The kept bytes are found by counting line
ends, which is exact because no field of a line holds one (`one_line_each`: data values cannot hold
control characters and the cycle's labels were checked).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from generator.model.usage_lines import UsageDay

_BLOCK = 1 << 20  # bytes read at a time while line ends are counted


@dataclass(frozen=True)
class EarlierPart:
    path: Path
    days: list[list]  # [[day, lines, credits, digest], …] as its meta records them


@dataclass(frozen=True)
class KeptLines:
    """The start of an earlier part that a cycle's new part begins with."""

    source: Path
    size: int  # bytes kept
    micro: int  # their credits in millionths: the running total the next line starts from
    first_day: str | None  # the first day written again; None when every day of the cycle is kept


def day_record(days: tuple[UsageDay, ...]) -> list[list]:
    """A cycle's days as its part's meta records them (JSON: the digest and credits as text)."""
    return [[d.day, d.lines, str(d.credits), str(d.digest)] for d in days]


def earlier_parts(folder: Path) -> dict[tuple[str, str], EarlierPart]:
    """(cycle, prefix key) → the part written for it last, from the metas in the cache folder."""
    found: dict[tuple[str, str], EarlierPart] = {}
    for meta in folder.glob("*.json"):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            record = json.loads(meta.read_text(encoding="utf-8"))
            part = meta.with_suffix(".csv")
            if part.is_file():
                found[(record["cycle"], record["prefix"])] = EarlierPart(part, record["days"])
    return found


def kept_lines(earlier: EarlierPart, days: tuple[UsageDay, ...]) -> KeptLines | None:
    """What the new part keeps of `earlier` (None: nothing, it is written whole)."""
    new = day_record(days)
    same = 0
    while same < min(len(new), len(earlier.days)) and new[same] == earlier.days[same]:
        same += 1
    if same == 0:
        return None
    lines = sum(d.lines for d in days[:same])
    size = end_of_line(earlier.path, lines, sum(d[1] for d in earlier.days))
    if size is None:
        return None
    micro = sum((d.credits for d in days[:same]), Decimal(0)) * 1_000_000
    if micro != micro.to_integral_value():  # credits have six decimal places at most
        return None
    return KeptLines(earlier.path, size, int(micro), days[same].day if same < len(days) else None)


def end_of_line(path: Path, k: int, total: int, block: int = _BLOCK) -> int | None:
    """The byte offset just after the `k`-th of a file's `total` lines (counted from the nearer end);
    None when there are fewer line ends than that from the end counted from."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            if k == total:
                return size
            if k <= total - k:
                return _forward(fh, k, block)
            return _backward(fh, size, total - k, block)
    except OSError:
        return None


def _forward(fh, k: int, block_size: int) -> int | None:
    """After the k-th line end from the start."""
    if k == 0:
        return 0
    fh.seek(0)
    start = 0
    while block := fh.read(block_size):
        n = block.count(b"\n")
        if n >= k:
            pos = -1
            for _ in range(k):
                pos = block.index(b"\n", pos + 1)
            return start + pos + 1
        k -= n
        start += len(block)
    return None


def _backward(fh, size: int, after: int, block_size: int) -> int | None:
    """Just after the line end that has `after` more line ends behind it (the file ends with one); None when
    the file has no such line end."""
    end = size
    while end > 0:
        start = max(0, end - block_size)
        fh.seek(start)
        block = fh.read(end - start)
        n = block.count(b"\n")
        if n > after:
            pos = len(block)
            for _ in range(after + 1):
                pos = block.rindex(b"\n", 0, pos)
            return start + pos + 1
        after -= n
        end = start
    return None  # (k ≥ 1 here: a line end before the k-th line's must exist)
