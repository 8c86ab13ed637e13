"""The benchmarks' shared data: N generated events (made once, kept under build/bench/) and a site for them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GEN_EVENTS = REPO.parent / "shared" / "bench" / "gen_events.py"

SITE_TOML = """\
[site]
title = "{title}"
base_url = "/bench/"
timezone = "Europe/Berlin"

[data]
exports = ["{exports}"]

[[tiers]]
name = "Scale"
monthly_credits = {credits}
monthly_price = 1000

[[subscription]]
from = 2025-01-01
tier = "Scale"
"""


def generated_events(events: int) -> Path:
    """The folder of CSV exports for `events` events (monthly files plus an overlapping quarter)."""
    folder = REPO / "build" / "bench" / f"events-{events}" / "csv"
    if not folder.is_dir():
        print(f"generating {events:,} events …", file=sys.stderr, flush=True)
        tmp = folder.with_name("csv.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run([sys.executable, str(GEN_EVENTS), "--events", str(events), "--out", str(tmp)], check=True,
                       stdout=subprocess.DEVNULL)
        tmp.rename(folder)
    return folder


def site_toml(title: str, exports: str, events: int) -> str:
    """A site.toml whose tier holds about 10 % of the events' credits a month (so it runs out, as real sites do)."""
    return SITE_TOML.format(title=title, exports=exports, credits=max(1000, events // 10))
