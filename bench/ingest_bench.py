"""Build benchmarks, measured beside DuckDB's own minimal pipeline in the same run (the table of issue 14).

    .venv/bin/python bench/ingest_bench.py [--events N] [--repeat K]     (make bench; BENCH_EVENTS=N, BENCH_REPEAT=K)

Generates N events with ../shared/bench/gen_events.py (monthly CSV files plus an overlapping
quarterly export; kept under build/bench/ and reused), then times, each in a fresh process and
interleaved so that the machine's noise hits every variant alike:
- the bare DuckDB scan and the minimal DuckDB pipeline (../shared/bench/peers.py duckdb-count / duckdb);
- Creditwise's cold ingest + model alone (no cache read or written);
- a cold whole-site build (empty cache, empty output), with its stage times and peak RSS;
- a rebuild with nothing changed;
- a rebuild of the cached site after one new day's export is added (the daily refresh);
- a rebuild of the cached site after one late export that touches an old cycle is added.
Before each refresh the cache and the output are put back as the cold build left them (a copy),
so every refresh starts from the same cached site. Wall time includes interpreter start-up for every
method alike; peak RSS comes from wait4() (the process and any worker it waited for).
These machines are noisy and shared: read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_data import REPO, generated_events, site_toml

SHARED = REPO.parent / "shared" / "bench"
PY = sys.executable
EXTRA = ("usage-2026-12-31-extra.csv", "usage-2026-03-late.csv")


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
mid = time.perf_counter()
report = build_report(config, ingested, set(guide_sources(config)))
print(f"{time.perf_counter() - start:.3f} {mid - start:.3f} {report.events_counted}")
ingested.close()
"""


def run(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB and output (stdout, then stderr) of one process."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read() + "\n" + err.read()
    if proc.returncode:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{text[-2000:]}")
    return wall, usage.ru_maxrss / 1024, text


def prepare(events: int) -> Path:
    root = generated_events(events).parent
    (root / "site.toml").write_text(site_toml("Benchmark", "csv/*.csv", events))
    return root


def _copy_day(source: Path, target: Path, pick: str, to_day: str, suffix: str) -> None:
    """Rows of day `pick` in `source`, written to `target` with new ids on day `to_day`."""
    with source.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["timestamp"].startswith(pick)]
    with target.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({**r, "event_id": r["event_id"] + suffix, "timestamp": r["timestamp"].replace(pick, to_day)})


def one_day_export(root: Path) -> Path:
    """A new export holding one more day's events (copies of the last day's rows, new ids, on 31 December)."""
    source = sorted((root / "csv").glob("usage-2026-12*.csv"))[0]
    with source.open(newline="") as fh:
        last_day = max(r["timestamp"][:10] for r in csv.DictReader(fh))
    path = root / "csv" / EXTRA[0]
    _copy_day(source, path, last_day, "2026-12-31", "-x")
    return path


def late_export(root: Path) -> Path:
    """A late export into an old cycle: a second copy of 10 March's rows (new ids), on 11 March."""
    path = root / "csv" / EXTRA[1]
    _copy_day(root / "csv" / "usage-2026-03.csv", path, "2026-03-10", "2026-03-11", "-late")
    return path


def stages(output: str) -> dict[str, float]:
    """The stage times of a build's summary line: (inputs 0.00s · guides 0.10s · ingest 1.34s · …)."""
    m = re.search(r"\((inputs [^)]*)\)", output)
    return {k: float(v) for k, v in re.findall(r"(\w+) ([\d.]+)s", m.group(1))} if m else {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=int(os.environ.get("BENCH_EVENTS", "1000000")))
    ap.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "3")),
                    help="runs per measurement; the median is shown")
    a = ap.parse_args()
    root = prepare(a.events)
    for name in EXTRA:
        (root / "csv" / name).unlink(missing_ok=True)
    glob = str(root / "csv" / "*.csv")
    cache, out = root / ".creditwise", root / "public"
    saved = root / "saved"
    build = [PY, "-m", "generator", "build", "-c", str(root / "site.toml"), "-o", str(out)]

    def cold() -> None:
        for name in EXTRA:
            (root / "csv" / name).unlink(missing_ok=True)
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)

    def restore(add) -> None:
        """The cached site as the cold build left it, then one more export."""
        for name in EXTRA:
            (root / "csv" / name).unlink(missing_ok=True)
        for live, copy in ((cache, saved / "cache"), (out, saved / "out")):
            shutil.rmtree(live, ignore_errors=True)
            shutil.copytree(copy, live, symlinks=True)
        add(root)

    variants = {
        "peer_count": ([PY, str(SHARED / "peers.py"), "duckdb-count", glob, "--tz", "Europe/Berlin"], None),
        "peer": ([PY, str(SHARED / "peers.py"), "duckdb", glob, "--tz", "Europe/Berlin"], None),
        "model": ([PY, "-c", CHILD, str(root / "site.toml")], cold),
        "cold": (build, cold),
        "same": (build, None),
        "day": (build, lambda: restore(one_day_export)),
        "late": (build, lambda: restore(late_export)),
    }
    results: dict[str, list[tuple[float, float, str]]] = {k: [] for k in variants}
    for rep in range(a.repeat):
        for key, (cmd, before) in variants.items():
            if before:
                before()
            results[key].append(run(cmd))
            if key == "cold" and rep == 0:  # the cached site every refresh starts from
                shutil.rmtree(saved, ignore_errors=True)
                shutil.copytree(cache, saved / "cache", symlinks=True)
                shutil.copytree(out, saved / "out", symlinks=True)
    cold()
    shutil.rmtree(saved, ignore_errors=True)

    med = {k: (statistics.median(r[0] for r in rs), max(r[1] for r in rs), rs[-1][2]) for k, rs in results.items()}
    peer, site_cold = med["peer"][0], med["cold"][0]
    csv_mb = sum(f.stat().st_size for f in (root / "csv").glob("*.csv")) / 1e6
    st = {k: statistics.median(stages(r[2]).get(k, float("nan")) for r in results["cold"])
          for k in ("ingest", "model", "charts", "pages", "write")}
    charts_n = m.group(1) if (m := re.search(r"(\d+) charts", med["cold"][2])) else "?"
    inner = [r[2].split() for r in results["model"]]
    inner_all = statistics.median(float(x[0]) for x in inner)
    inner_ingest = statistics.median(float(x[1]) for x in inner)
    peer_inner = statistics.median(float(r[2].split("[")[-1].split("s]")[0]) for r in results["peer"])

    def line(label: str, key: str, ref: str) -> None:
        wall, rss = med[key][:2]
        ratio = {"peer": f"{wall / peer:.2f}× peer", "cold": f"{wall / site_cold:.1%} of cold"}[ref] if ref else ""
        print(f"| {label:44s} | {wall:7.2f} s | {rss:7.0f} MiB | {ratio}")

    print(f"\n{a.events:,} events ({csv_mb:.0f} MB of CSV), median of {a.repeat} interleaved runs, each a fresh process")
    print(f"| {'':44s} | {'wall':>9s} | {'peak RSS':>11s} | ratio (same run)")
    line("DuckDB bare scan (peers.py duckdb-count)", "peer_count", "")
    line("peer pipeline (peers.py duckdb)", "peer", "")
    line("Creditwise cold whole site", "cold", "peer")
    print(f"|   stages: ingest {st['ingest']:.2f} · model {st['model']:.2f} · charts {st['charts']:.2f} for {charts_n} "
          f"charts · pages {st['pages']:.2f} · write {st['write']:.2f}")
    line("Creditwise cold ingest + model alone", "model", "peer")
    line("one new day's export added to a cached site", "day", "cold")
    line("one late export into an old cycle added", "late", "cold")
    line("nothing changed", "same", "cold")
    for key in ("day", "late"):
        s = stages(med[key][2])
        print(f"|   {key}: " + " · ".join(f"{k} {v:.2f}" for k, v in s.items()))
    print(f"\nInside the process (no interpreter start-up): ingest + model {inner_all:.2f} s (ingest {inner_ingest:.2f}) "
          f"for {int(inner[-1][2]):,} events; peer {peer_inner:.2f} s: {inner_all / peer_inner:.2f}×")
    print("Targets (issue 14): cold ≤ 2.5× peer; ingest + model ≤ 1.5×; one day or one late export ≤ 10 % of cold; "
          "peak RSS at 10 M below the peer's.")


if __name__ == "__main__":
    main()
