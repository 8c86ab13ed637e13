"""Shared helpers: write a small site (site.toml + CSV exports) and run the real CLI on it."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEADER = ["event_id", "timestamp", "member", "team", "feature", "operation", "model",
          "credits", "quantity", "session_id", "knowledge"]

# One tier (S: 100 credits for 10) and a subscription to it from January 2026.
ONE_TIER_TOML = """\
[[tiers]]
name = "S"
monthly_credits = 100
monthly_price = 10

[[subscription]]
from = 2026-01-01
tier = "S"
"""

# Two tiers (S: 100 credits for 10; M: 200 for 18) and a subscription to S from January 2026.
TIERS_TOML = ONE_TIER_TOML.replace("[[subscription]]", """[[tiers]]
name = "M"
monthly_credits = 200
monthly_price = 18

[[subscription]]""")

BASIC_TOML = """\
[site]
title = "Test site"
base_url = "/r/"
timezone = "UTC"

[data]
exports = ["exports/*.csv"]

""" + TIERS_TOML


def csv_text(rows: list[dict | list], header: list[str] = HEADER) -> str:
    """Rows as dicts (missing columns empty) or as lists in header order."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header] if isinstance(r, dict) else r)
    return buf.getvalue()


def event(eid: str, ts: str, credits: str | float, feature: str = "image", operation: str = "generate",
          member: str = "ana@example.com", team: str = "design", **extra) -> dict:
    return {"event_id": eid, "timestamp": ts, "member": member, "team": team, "feature": feature,
            "operation": operation, "credits": str(credits), **extra}


@dataclass
class Site:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "site.toml"

    @property
    def out(self) -> Path:
        return self.root / "public"

    def write_export(self, name: str, text: str | bytes) -> Path:
        path = self.root / "exports" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def build(self, *extra: str) -> subprocess.CompletedProcess:
        return run_cli("build", "--config", str(self.config), "--output", str(self.out), *extra)

    def json(self, rel: str):
        import json

        return json.loads((self.out / rel).read_text(encoding="utf-8"))


def write_parquet(path: Path, rows: list[dict]) -> None:
    """Rows as a Parquet export (every column text, as a spreadsheet tool would write it)."""
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("CREATE TABLE t (" + ", ".join(f'"{c}" VARCHAR' for c in HEADER) + ")")
    if rows:
        con.executemany("INSERT INTO t VALUES (" + ", ".join("?" * len(HEADER)) + ")", [[r.get(c) for c in HEADER] for r in rows])
    con.execute(f"COPY t TO '{path}' (FORMAT parquet)")


def run_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def site(tmp_path: Path) -> Site:
    s = Site(tmp_path)
    s.config.write_text(BASIC_TOML, encoding="utf-8")
    return s


class ApiDocs(dict):
    """The JSON documents of a built site, read on first use: `docs["api/alerts.json"]`."""

    def __init__(self, out: Path):
        super().__init__()
        self.out = out

    def __missing__(self, rel: str):
        import json

        self[rel] = json.loads((self.out / rel).read_text(encoding="utf-8"))
        return self[rel]

    def months(self) -> list[dict]:
        return [self[f"api/months/{c}.json"] for c in self["api/site.json"]["cycles"]]


def api_of(root: Path, rows: list[dict], toml: str = BASIC_TOML) -> ApiDocs:
    """Write site.toml and one export, build through the CLI, and give the JSON documents users read."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.toml").write_text(toml, encoding="utf-8")
    (root / "exports").mkdir(exist_ok=True)
    (root / "exports" / "usage.csv").write_text(csv_text(rows), encoding="utf-8")
    r = run_cli("build", "-q", "-c", str(root / "site.toml"), "-o", str(root / "public"))
    assert r.returncode == 0, r.stderr
    return ApiDocs(root / "public")


def api_in_process(root: Path, rows: list[dict], toml: str = BASIC_TOML) -> dict:
    """The same JSON documents built in this process, without writing the site: for hypothesis tests, whose
    many examples a build per example would make too slow."""
    from generator.config import load_config
    from generator.ingest.load import ingest
    from generator.report.model import build_report
    from generator.site.api.documents import api_documents
    from generator.site.guides import guide_sources

    root.mkdir(parents=True, exist_ok=True)
    (root / "site.toml").write_text(toml, encoding="utf-8")
    (root / "exports").mkdir(exist_ok=True)
    (root / "exports" / "usage.csv").write_text(csv_text(rows), encoding="utf-8")
    config = load_config(root / "site.toml")
    return api_documents(build_report(config, ingest(config), set(guide_sources(config))), [])
