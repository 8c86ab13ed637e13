"""Ingest and build benchmarks, measured beside DuckDB's own minimal pipeline in the same run.

    .venv/bin/python bench/ingest_bench.py [--events N] [--repeat K]     (make bench; BENCH_EVENTS=N)

Generates N events with ../shared/bench/gen_events.py (monthly CSV files plus an overlapping
quarterly export; kept under build/bench/ and reused), then times, each in a fresh process:
the bare DuckDB scan and the minimal DuckDB pipeline (../shared/bench/peers.py), Creditwise's
cold ingest + model, a cold whole-site build, a rebuild with nothing changed, and a rebuild
after adding one day's export. Wall time includes interpreter start-up for every method alike;
peak RSS comes from wait4(). These machines are noisy: read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_data import REPO, generated_events, site_toml

SHARED = REPO.parent / "shared" / "bench"
PY = sys.executable


# Cold ingest + model with no cache to read or write: what the minimal pipeline does, plus validation
# and the whole report model. (Writing the cache is part of the whole-site build below.)
CHILD = """
import sys, time
from generator.config import load_config
from generator.ingest.load import ingest
from generator.report.model import build_report
from generator.site.guides import guide_sources
config = load_config(sys.argv[1])
start = time.perf_counter()
ingested = ingest(config, use_cache=False)
report = build_report(config, ingested, set(guide_sources(config)))
print(f"{time.perf_counter() - start:.3f} {report.events_counted}")
ingested.close()
"""


def run(cmd: list[str], cwd: Path = REPO) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB and output (stdout, then stderr) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err[-2000:]}")
    return wall, usage.ru_maxrss / 1024, out + "\n" + err


def prepare(events: int) -> Path:
    root = generated_events(events).parent
    (root / "site.toml").write_text(site_toml("Benchmark", "csv/*.csv", events))
    return root


def one_day_export(root: Path) -> Path:
    """A new export holding one more day's events (copies of the last day's rows, new ids)."""
    source = sorted((root / "csv").glob("usage-2026-12*.csv"))[-1]
    with source.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    last_day = max(r["timestamp"][:10] for r in rows)
    day = [r for r in rows if r["timestamp"].startswith(last_day)]
    path = root / "csv" / "usage-2026-12-31-extra.csv"
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for r in day:
            w.writerow({**r, "event_id": r["event_id"] + "-x", "timestamp": r["timestamp"].replace(last_day, "2026-12-31")})
    return path


def median_run(cmd: list[str], repeat: int, before=None) -> tuple[float, float, str]:
    results = []
    for _ in range(repeat):
        if before:
            before()
        results.append(run(cmd))
    walls = [r[0] for r in results]
    return statistics.median(walls), max(r[1] for r in results), results[-1][2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=int(os.environ.get("BENCH_EVENTS", "1000000")))
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is shown")
    a = ap.parse_args()
    root = prepare(a.events)
    extra = root / "csv" / "usage-2026-12-31-extra.csv"
    extra.unlink(missing_ok=True)
    glob = str(root / "csv" / "*.csv")
    cache, out = root / ".creditwise", root / "public"

    def cold() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    peer_count = median_run([PY, str(SHARED / "peers.py"), "duckdb-count", glob, "--tz", "Europe/Berlin"], a.repeat)
    peer = median_run([PY, str(SHARED / "peers.py"), "duckdb", glob, "--tz", "Europe/Berlin"], a.repeat)
    ours = median_run([PY, "-c", CHILD, str(root / "site.toml")], a.repeat, before=cold)
    build = [PY, "-m", "generator", "build", "-q", "-c", str(root / "site.toml"), "-o", str(out)]
    site_cold = median_run(build, a.repeat, before=cold)
    site_same = median_run(build, a.repeat)

    def add_day() -> None:
        extra.unlink(missing_ok=True)
        run(build)  # the cache as it was before the new export
        one_day_export(root)

    site_day = median_run(build, a.repeat, before=add_day)
    extra.unlink(missing_ok=True)

    rows = [
        ("DuckDB bare scan (peers.py duckdb-count)", peer_count, None),
        ("DuckDB minimal pipeline (peers.py duckdb)", peer, None),
        ("Creditwise cold ingest + model", ours, peer),
        ("Creditwise cold build, whole site", site_cold, peer),
        ("Creditwise rebuild, nothing changed", site_same, site_cold),
        ("Creditwise rebuild, one day's export added", site_day, site_cold),
    ]
    print(f"\n{a.events:,} events ({sum(f.stat().st_size for f in (root / 'csv').glob('*.csv')) / 1e6:.0f} MB of CSV), "
          f"median of {a.repeat} runs, each in a fresh process")
    print(f"{'':44s} {'seconds':>8s} {'peak RSS':>9s}  ratio")
    for name, (wall, rss, _), ref in rows:
        ratio = ""
        if ref is peer:
            ratio = f"{wall / peer[0]:.2f}× minimal pipeline, {wall / peer_count[0]:.2f}× bare scan"
        elif ref is site_cold:
            ratio = f"{wall / site_cold[0]:.1%} of the cold build"
        print(f"{name:44s} {wall:8.2f} {rss:7.0f} MiB  {ratio}")
    inner, counted = ours[2].split()[:2]
    peer_inner = float(peer[2].split("[")[-1].split("s]")[0])  # peers.py: seconds since its start, at "done"
    print(f"\nInside the process (no interpreter start-up): Creditwise ingest + model {inner} s for {int(counted):,} events, "
          f"minimal pipeline {peer_inner:.2f} s: {float(inner) / peer_inner:.2f}×")
    print("Targets: ≤ 1.25× minimal pipeline; rebuild after one day ≤ 10 %; nothing changed ≤ 5 %; RSS < 2 GiB at 10 M.")


if __name__ == "__main__":
    main()
