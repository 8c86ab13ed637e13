"""DuckDB's memory: sized to the machine, set by [data].memory_limit or CREDITWISE_MEMORY_LIMIT, and
running out of it is one clear line (exit 2), never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from conftest import BASIC_TOML, REPO, csv_text, event
from generator.config import load_config
from generator.ingest.memory import ENV, available_memory, memory_limit


def _many_events(site, n: int = 30000) -> None:
    rows = [event(f"e{i}", f"2026-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z", i % 7 + 1, session_id=f"s{i // 3}",
                  member=f"m{i % 97}@example.com", team=f"t{i % 5}") for i in range(n)]
    site.write_export("big.csv", csv_text(rows))


def _build(site, env: dict[str, str]) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k != ENV} | env
    return subprocess.run([sys.executable, "-m", "generator", "build", "-c", str(site.config), "-o", str(site.out)],
                          cwd=REPO, env=full, capture_output=True, text=True, timeout=300)


def test_running_out_of_memory_is_one_line_naming_what_to_set(site):
    _many_events(site)
    run = _build(site, {ENV: "2MB"})
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    first = run.stderr.splitlines()[0]
    assert first.startswith("site.toml: data.memory_limit: ")
    assert f"the environment variable {ENV} (2MB)" in first
    assert "[data].memory_limit" in first and "higher" in first
    assert not site.out.exists()  # nothing written


def test_memory_limit_in_site_toml_is_used_and_named(site):
    site.config.write_text(BASIC_TOML.replace('exports = ["exports/*.csv"]',
                                              'exports = ["exports/*.csv"]\nmemory_limit = "2MB"'))
    _many_events(site)
    run = _build(site, {})
    assert run.returncode == 2, run.stderr
    assert "[data].memory_limit in site.toml (2MB)" in run.stderr
    # The environment wins over site.toml (a shared host sets it for every site it builds).
    ok = _build(site, {ENV: "512MB"})
    assert ok.returncode == 0, ok.stderr
    assert site.json("api/site.json")["as_of"].startswith("2026-01-28")


def test_a_limit_that_is_not_a_size_is_a_config_error(site):
    site.config.write_text(BASIC_TOML.replace('exports = ["exports/*.csv"]',
                                              'exports = ["exports/*.csv"]\nmemory_limit = "lots"'))
    site.write_export("a.csv", csv_text([event("a", "2026-01-02T10:00:00Z", 5)]))
    run = _build(site, {})
    assert run.returncode == 2
    assert "site.toml:8: data.memory_limit: " in run.stderr and "'8GB'" in run.stderr
    site.config.write_text(BASIC_TOML)
    bad_env = _build(site, {ENV: "-3"})
    assert bad_env.returncode == 2 and f"{ENV}: '-3' is not a memory size" in bad_env.stderr


def test_spilling_keeps_every_figure(site):
    """A limit small enough that the aggregates spill to .creditwise/tmp/ gives the same site as a roomy one."""
    _many_events(site)
    assert _build(site, {ENV: "4GB"}).returncode == 0
    roomy = {p.relative_to(site.out): p.read_bytes() for p in sorted(site.out.rglob("*.json"))}
    shutil.rmtree(site.root / ".creditwise")
    shutil.rmtree(site.out)
    tight = _build(site, {ENV: "40MB"})
    assert tight.returncode == 0, tight.stderr
    assert {p.relative_to(site.out): p.read_bytes() for p in sorted(site.out.rglob("*.json"))} == roomy


def test_the_default_follows_the_machine(site):
    config = load_config(site.config)
    saved = os.environ.pop(ENV, None)
    try:
        limit = memory_limit(config)
    finally:
        if saved is not None:
            os.environ[ENV] = saved
    available = available_memory()
    assert available is not None  # Linux: /proc/meminfo
    assert limit.value.endswith("B") and limit.value[:-1].isdigit()
    # 80 % of what is available now (give or take what other processes did in between), never a fixed 1.5 GB.
    assert abs(int(limit.value[:-1]) - 0.8 * available) < 0.1 * available
    assert "available" in limit.source


def test_running_out_of_memory_in_the_model_is_the_same_clear_error(site):
    """The events come from the cache (the ingest needs almost nothing), the model runs out."""
    _many_events(site)
    assert _build(site, {}).returncode == 0
    for name in ("report.pickle", "model-state.duckdb"):
        (site.root / ".creditwise" / "cache" / name).unlink()
    shutil.rmtree(site.out)
    run = _build(site, {ENV: "8MB"})
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stderr.startswith(f"site.toml: data.memory_limit: the exports need more memory than the environment "
                                 f"variable {ENV} (8MB) allows")
    assert not site.out.exists()
