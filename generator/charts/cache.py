"""Draw each chart only when its input changed: SVGs cached under `.creditwise/cache/charts/<sha256>.svg`.

The key hashes everything the SVG depends on: the drawing function's name and arguments, the style
(style.py), the drawing code (draw.py, legend.py, ticks.py, text_metrics.py), the Matplotlib version and
the Creditwise version. A hit is a file read; Matplotlib is imported only when something is missing, so a fully cached
build never loads it. Missing charts are drawn by a pool of worker processes when the build started one (a build
whose data changed does, as it starts: `DrawingPool`), else in this process. Threads would not help:
drawing holds the GIL. After a build the cache keeps only the charts that build used.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import datetime as dt
import hashlib
import json
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import sys
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
CHARTS_SOURCES = tuple(Path(__file__).with_name(name) for name in ("draw.py", "legend.py", "ticks.py", "text_metrics.py"))
WORKERS_ENV = "CREDITWISE_CHART_WORKERS"  # the number of worker processes (1: draw in this process)
# A build that did not start workers (its model came from the cache) starts them for this many missing
# charts or more. Measured on the demo site (median of 5, the workers' server importing Matplotlib as this
# process would): 4 missing charts built in 1.18 s with workers against 1.21 s without, 8 in 1.21 against 1.33 s.
OWN_POOL_FROM = 6


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
            "drawing_code": hashlib.sha256(b"".join(p.read_bytes() for p in CHARTS_SOURCES)).hexdigest(),
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


def worker_count() -> int:
    forced = os.environ.get(WORKERS_ENV, "").strip()
    if forced.isdigit() and int(forced) > 0:
        return int(forced)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def die_with_parent() -> None:
    """In a worker or the forkserver: be killed when the process that started this one dies, even by
    `kill -9` (Linux PR_SET_PDEATHSIG), so that no drawing process outlives a killed build."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent died before the line above: nobody will collect this process
        os._exit(0)


class DrawingPool:
    """Worker processes that draw charts, started when a build begins so that they are ready by the charts stage.

    They are forked from a `forkserver` process that imported the drawing code (Matplotlib) once, while
    this process ingests: no worker pays the import, and none is forked from this process, whose DuckDB
    and cache-writer threads a fork would copy mid-work. Measured on 2 cores (make bench): 2 workers
    draw 40 charts in about half the time of one process."""

    def __init__(self, workers: int):
        context = multiprocessing.get_context("forkserver")
        # (A worker started from the `creditwise` script runs that script again, as `__mp_main__`: it
        # imports generator/__main__.py only, which defers the command line's imports.)
        context.set_forkserver_preload(["generator.charts.preload"])
        self.workers = workers
        self._pool = concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=die_with_parent)
        # The server is started now, from this thread (its death signal is tied to the thread that started it),
        # and imports the drawing code while this process ingests; without waiting for it (that took 0.35 s).
        # The workers are forked from it when the first charts are drawn, a few milliseconds each.
        multiprocessing.forkserver.ensure_running()

    @classmethod
    def start(cls) -> DrawingPool | None:
        """A pool, or None where one worker is all there is or the program's main module could not be
        run again safely (then charts draw in this process)."""
        workers = worker_count()
        if workers <= 1 or not _main_runs_again_safely():
            return None
        try:
            return cls(workers)
        except Exception:  # no worker could start here: draw in this process
            return None

    def draw(self, jobs: list[tuple[str, dict[str, Any]]]) -> list[str] | None:
        """Every job's drawing, or None if a worker failed (the caller draws them itself, and an error in the
        drawing code is then raised there, with its own traceback)."""
        try:
            return list(self._pool.map(_draw, jobs, chunksize=1))
        except Exception:
            return None

    def close(self) -> None:
        # Waiting for the workers to exit takes a few milliseconds once their last chart is drawn; a pool left
        # to wind down on its own is joined again at interpreter exit, where Python 3.11's executor can hang.
        self._pool.shutdown(wait=True, cancel_futures=True)


def _main_runs_again_safely() -> bool:
    """Whether a worker may start here. Each one runs the program's main module again (as `__mp_main__`),
    unless it is a package's `__main__` (`python -m generator`) or there is no file (`python -c`): a
    script of someone else's without an `if __name__ == "__main__"` guard would build again in every worker.
    Our `creditwise` script has the guard and imports generator/__main__.py alone."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None:
        return spec.name == "__main__" or spec.name.endswith(".__main__")
    path = getattr(main, "__file__", None)
    return path is None or Path(path).name == "creditwise"


def _draw_all(jobs: list[tuple[str, dict[str, Any]]], pool: DrawingPool | None) -> list[str]:
    drawn = pool.draw(jobs) if pool is not None and len(jobs) > 1 else None
    return drawn if drawn is not None else [_draw(job) for job in jobs]


def render_charts(charts: list[Chart], cache_root: Path | None,
                  pool: DrawingPool | None = None) -> tuple[dict[str, str], ChartStats]:
    """Path → SVG for every chart (each path once, and its narrow drawing at narrow_path), from the cache
    where possible; the missing ones drawn by `pool` if given."""
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
    own = DrawingPool.start() if pool is None and len(missing) >= OWN_POOL_FROM else None
    pool = pool or own
    try:
        workers = pool.workers if pool is not None and len(missing) > 1 else 1
        stats = ChartStats(len(unique), len(both), len(missing), workers)
        drawn = _draw_all([(unique[p].function, unique[p].args) for p in missing], pool)
    finally:
        if own is not None:
            own.close()
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
