"""hypothesis: formats and overlaps never change a figure; a corrupted row is named or left out, never counted."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BASIC_TOML, csv_text, write_parquet
from generator.config import load_config
from generator.errors import DataError
from generator.ingest.load import ingest

START = dt.datetime(2026, 1, 1, 6, tzinfo=dt.UTC)
FORMATS = ["csv", "csv.gz", "jsonl", "parquet"]
GLOBS = 'exports = ["exports/*.csv", "exports/*.csv.gz", "exports/*.jsonl", "exports/*.parquet"]'

rows_strategy = st.lists(
    st.tuples(st.integers(0, 40 * 86400), st.integers(1, 900), st.sampled_from(["image", "chat", "compose"])),
    min_size=1, max_size=25)


def make_rows(raw) -> list[dict]:
    return [{"event_id": f"ev-{i}", "timestamp": (START + dt.timedelta(seconds=s)).isoformat(), "member": "m@x",
             "team": "t", "feature": f, "operation": "op", "credits": str(Decimal(c) / 4)} for i, (s, c, f) in enumerate(raw)]


def write(root: Path, name: str, fmt: str, rows: list[dict]) -> None:
    path = root / "exports" / f"{name}.{fmt}"
    if fmt == "csv":
        path.write_text(csv_text(rows))
    elif fmt == "csv.gz":
        path.write_bytes(gzip.compress(csv_text(rows).encode(), mtime=0))
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        write_parquet(path, rows)


def totals(files: dict[str, tuple[str, list[dict]]], quarantine: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "exports").mkdir()
        extra = '\non_error = "quarantine"' if quarantine else ""
        (root / "site.toml").write_text(BASIC_TOML.replace('exports = ["exports/*.csv"]', GLOBS + extra))
        for name, (fmt, rows) in files.items():
            write(root, name, fmt, rows)
        result = ingest(load_config(root / "site.toml"), use_cache=False)
        try:
            by_day = dict(result.con.execute("SELECT day, sum(credits) FROM all_events GROUP BY day").fetchall())
            count = result.con.execute("SELECT count(*) FROM all_events").fetchone()[0]
            return {"by_day": by_day, "events": count, "problems": [str(p) for p in result.quarantined]}
        finally:
            result.close()


def expected(rows: list[dict]) -> dict:
    by_day: dict = {}
    for r in rows:
        day = dt.datetime.fromisoformat(r["timestamp"]).date()
        by_day[day] = by_day.get(day, Decimal(0)) + Decimal(r["credits"])
    return {"by_day": by_day, "events": len(rows), "problems": []}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=rows_strategy, data=st.data())
def test_any_mix_of_formats_and_overlaps_gives_the_clean_figures(raw, data):
    rows = make_rows(raw)
    n_files = data.draw(st.integers(1, 4))
    parts: list[list[dict]] = [[] for _ in range(n_files)]
    for r in rows:  # every row lands in at least one file, some in several
        for home in data.draw(st.sets(st.integers(0, n_files - 1), min_size=1)):
            parts[home].append(r)
    files = {f"part{i}": (data.draw(st.sampled_from(FORMATS)), data.draw(st.permutations(p)))
             for i, p in enumerate(parts) if p}
    assert totals(files) == expected(rows)


CORRUPTIONS = [("credits", "abc"), ("timestamp", "nope"), ("event_id", ""), ("quantity", "0"), ("knowledge", "maybe"),
               ("credits", "-1")]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=rows_strategy, data=st.data())
def test_a_corrupted_row_is_named_or_left_out_never_counted(raw, data):
    rows = make_rows(raw)
    victim = data.draw(st.integers(0, len(rows) - 1))
    column, bad = data.draw(st.sampled_from(CORRUPTIONS))
    corrupted = [dict(r) for r in rows]
    corrupted[victim][column] = bad
    fmt = data.draw(st.sampled_from(FORMATS))
    files = {"data": (fmt, corrupted)}
    unit = "row" if fmt == "parquet" else "line"
    where = victim + (1 if fmt in ("parquet", "jsonl") else 2)  # CSV line 1 is the header
    with pytest.raises(DataError) as exc:
        totals(files)
    place = f"exports/data.{fmt}:row {where}" if unit == "row" else f"exports/data.{fmt}:{where}"
    assert str(exc.value.problems[0]).startswith(f"{place}: {column}:")
    left = totals(files, quarantine=True)
    clean = expected([r for i, r in enumerate(rows) if i != victim])
    assert (left["by_day"], left["events"]) == (clean["by_day"], clean["events"])
    assert len(left["problems"]) == 1
