"""Draw each chart only when its input changed: SVGs cached under `.creditwise/cache/charts/<sha256>.svg`.

The key hashes everything the SVG depends on: the drawing function's name and arguments, the style
(chart_style.py), the source of charts.py, the Matplotlib version and the Creditwise version. A hit is
a file read; Matplotlib is imported only when something is missing, so a fully cached build never
loads it. Missing charts are drawn in this process, or, on a machine with cores to spare and enough
missing charts to repay the workers' start-up, by a pool of worker processes (each imports Matplotlib
afresh; threads do not help because drawing holds the GIL). After a build the cache keeps only the charts that build used.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import json
import multiprocessing
import os
from dataclasses import dataclass
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from generator import __version__
from generator.charts.style import CATEGORIES, COLORS, SIZE, STYLE
from generator.fileio import write_atomic


class Chart(Protocol):
    """What drawing needs of a chart (site.views.charts.Chart has it): where it goes and what to draw."""

    path: str
    function: str  # a drawing function of draw.py
    args: dict[str, Any]

CACHE_DIR = ".creditwise/cache/charts"
CHARTS_SOURCE = Path(__file__).with_name("draw.py")
# Measured (bench/charts_bench.py, 2 cores shared with other work): a chart takes 50–100 ms, a worker ~1 s
# to start (interpreter + Matplotlib), and 2 workers were slower than 1 process even for 96 missing charts
# (10.3 s against 6.6 s): with only 2 cores there is no idle one to win. So the pool is used only where
# cores are to spare, and only for a batch large enough to repay the workers' start-up.
MIN_CPUS_FOR_POOL = 4
MIN_CHARTS_PER_WORKER = 24
WORKERS_ENV = "CREDITWISE_CHART_WORKERS"  # force the number of worker processes (1: draw in this process)


@dataclass
class ChartStats:
    total: int = 0
    cached: int = 0
    drawn: int = 0
    workers: int = 1

    def __str__(self) -> str:
        how = f" by {self.workers} processes" if self.workers > 1 else ""
        return f"{self.total} charts: {self.cached} from the cache, {self.drawn} drawn{how}"


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot hash {type(value).__name__} in chart arguments")


_FIXED: str | None = None


def _fixed_part() -> str:
    """What every key shares: style, code and versions (computed once per process)."""
    global _FIXED
    if _FIXED is None:
        _FIXED = json.dumps({
            "style": STYLE, "colors": COLORS, "categories": CATEGORIES, "size": SIZE,
            "charts_py": hashlib.sha256(CHARTS_SOURCE.read_bytes()).hexdigest(),
            "matplotlib": metadata.version("matplotlib"), "creditwise": __version__,
        }, sort_keys=True)
    return _FIXED


def chart_key(chart: Chart) -> str:
    payload = json.dumps({"fixed": _fixed_part(), "function": chart.function, "args": chart.args},
                         sort_keys=True, default=_plain, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


SEPARATOR = "\n<!--creditwise:narrow-->\n"  # between the two drawings of a chart in its cache file


def narrow_path(path: str) -> str:
    """Where a chart's narrow drawing goes: "months/2026-05/daily.svg" → "months/2026-05/daily-narrow.svg"."""
    return path.removesuffix(".svg") + "-narrow.svg"


def _draw(job: tuple[str, dict[str, Any]]) -> str:
    from generator.charts import draw  # imports Matplotlib: only when a chart must really be drawn

    return SEPARATOR.join(draw.draw(*job))


def _workers(missing: int) -> int:
    forced = os.environ.get(WORKERS_ENV, "").strip()
    if forced.isdigit() and int(forced) > 0:
        return min(int(forced), max(missing, 1))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if cpus < MIN_CPUS_FOR_POOL:
        return 1
    return max(1, min(cpus - 1, missing // MIN_CHARTS_PER_WORKER))


def _draw_all(jobs: list[tuple[str, dict[str, Any]]], workers: int) -> list[str]:
    if workers <= 1:
        return [_draw(job) for job in jobs]
    # spawn: the parent may be running the ingest cache writer thread, which fork would copy mid-write.
    context = multiprocessing.get_context("spawn")
    try:
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            return list(pool.map(_draw, jobs, chunksize=max(1, len(jobs) // (workers * 2))))
    except (concurrent.futures.process.BrokenProcessPool, OSError):
        # A worker could not start (e.g. the caller's __main__ cannot be re-imported): draw here instead.
        return [_draw(job) for job in jobs]


def render_charts(charts: list[Chart], cache_root: Path | None) -> tuple[dict[str, str], ChartStats]:
    """Path → SVG for every chart (each path once, and its narrow drawing at narrow_path), from the cache
    where possible."""
    unique: dict[str, Chart] = {}
    for chart in charts:
        unique.setdefault(chart.path, chart)
    keys = {path: chart_key(chart) for path, chart in unique.items()}
    folder = cache_root / CACHE_DIR if cache_root is not None else None
    out: dict[str, str] = {}
    missing: list[str] = []
    both: dict[str, str] = {}
    for path in sorted(unique):
        cached = _read(folder / f"{keys[path]}.svg") if folder else None
        if cached is None or cached.count(SEPARATOR) != 1:
            missing.append(path)
        else:
            both[path] = cached
    stats = ChartStats(len(unique), len(both), len(missing), _workers(len(missing)) if missing else 1)
    drawn = _draw_all([(unique[p].function, unique[p].args) for p in missing], stats.workers)
    for path, svg in zip(missing, drawn, strict=True):
        both[path] = svg
        if folder is not None:
            _write(folder, keys[path], svg)
    for path in sorted(both):
        out[path], out[narrow_path(path)] = both[path].split(SEPARATOR)
    if folder is not None:
        _prune(folder, set(keys.values()))
    return out, stats


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _write(folder: Path, key: str, svg: str) -> None:
    """Atomically (a reader never sees half a chart); a cache that cannot be written is only slower."""
    with contextlib.suppress(OSError):
        write_atomic(folder / f"{key}.svg", svg)


def _prune(folder: Path, used: set[str]) -> None:
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.suffix == ".svg" and entry.stem not in used:
            entry.unlink(missing_ok=True)
