"""Chart rendering and the chart cache on the demo site, measured in one run (make bench).

    .venv/bin/python bench/charts_bench.py [--repeat K]

Copies the demo site (site.toml + content/) to build/bench/charts/, warms the ingest and model caches
once, then times whole builds into an empty output folder, each in a fresh process (`creditwise build`, interpreter start-up
included), K times each, in an interleaved order so machine noise hits every variant alike:
- cold charts, drawn in this process (CREDITWISE_CHART_WORKERS=1);
- cold charts, drawn by 2 worker processes (CREDITWISE_CHART_WORKERS=2);
- warm charts: every SVG from the cache (Matplotlib never imported).
Prints the medians and the ratios. These machines are noisy: read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "build" / "bench" / "charts"
CHART_CACHE = ".creditwise/cache/charts"


def prepare() -> Path:
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    shutil.copy(REPO / "site.toml", WORK / "site.toml")
    shutil.copytree(REPO / "content", WORK / "content")
    return WORK / "site.toml"


def build(config: Path, workers: str | None) -> tuple[float, float, str]:
    """(wall seconds, charts stage seconds, summary line) of one build in a fresh process."""
    env = {k: v for k, v in os.environ.items() if k != "CREDITWISE_CHART_WORKERS"}
    if workers:
        env["CREDITWISE_CHART_WORKERS"] = workers
    shutil.rmtree(WORK / "public", ignore_errors=True)  # a full build each time, never "up to date"
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "generator", "build", "-c", str(config), "-o", str(WORK / "public")],
                         cwd=REPO, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    line = run.stdout.splitlines()[0]
    charts = float(m.group(1)) if (m := re.search(r"charts ([\d.]+)s", line)) else float("nan")
    return wall, charts, line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "3")))
    args = parser.parse_args()
    config = prepare()
    build(config, None)  # warm the ingest and model caches (and the chart cache)
    variants = {"cold charts, 1 process": "1", "cold charts, 2 worker processes": "2", "warm chart cache": None}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    line = ""
    for _ in range(args.repeat):
        for name, workers in variants.items():
            if workers is not None:
                shutil.rmtree(WORK / CHART_CACHE, ignore_errors=True)
            wall, charts, summary = build(config, workers)
            times[name].append((wall, charts))
            line = line or summary
    print(f"Demo site: {line.split(' into ')[0]}")
    print(f"{'variant':34} {'build (wall)':>13} {'charts stage':>13}   (median of {args.repeat}, fresh process each)")
    med = {n: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t)) for n, t in times.items()}
    for name, (wall, charts) in med.items():
        print(f"{name:34} {wall:12.2f}s {charts:12.2f}s")
    cold, warm = med["cold charts, 1 process"], med["warm chart cache"]
    pool = med["cold charts, 2 worker processes"]
    print(f"chart cache: whole build {cold[0] / warm[0]:.1f}× faster ({cold[0]:.2f}s → {warm[0]:.2f}s), "
          f"charts stage {cold[1] / max(warm[1], 1e-9):.0f}× ({cold[1]:.2f}s → {warm[1]:.2f}s)")
    print(f"2 workers on cold charts: charts stage {cold[1] / pool[1]:.2f}× ({cold[1]:.2f}s → {pool[1]:.2f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
