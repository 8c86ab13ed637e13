"""How much memory DuckDB may use, and what to say when that is not enough.

The limit is, in order: the environment variable CREDITWISE_MEMORY_LIMIT (for a shared host or a
CI runner), `[data].memory_limit` in site.toml, else sized to the machine: 80 % of the memory
available when the build starts (the smaller of the kernel's MemAvailable and what the process's
cgroup still allows). Past the limit DuckDB spills its sorts, joins and aggregates to
`temp_directory` (`.creditwise/tmp/`); when even that cannot make room, the build stops with one
line saying which setting to raise, never a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from generator.config import MEMORY_SIZE, SiteConfig
from generator.errors import Problem, UsageError
from generator.ingest.sql import quote_sql

ENV = "CREDITWISE_MEMORY_LIMIT"
SHARE_OF_AVAILABLE = 0.8
FLOOR = 256 * 2**20  # below this DuckDB cannot run its own pipelines; a smaller machine spills everything


@dataclass(frozen=True)
class MemoryLimit:
    value: str  # as DuckDB reads it, e.g. '8GB' or '12884901888B'
    source: str  # where it came from, named in the out-of-memory message


def valid_size(text: str) -> bool:
    """A size DuckDB's memory_limit accepts: a number and a unit (B, KB, MB, GB, TB, KiB … TiB)."""
    return MEMORY_SIZE.match(text) is not None


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_headroom() -> int | None:
    """What a cgroup v2 memory limit still leaves this process (None: no limit)."""
    base = Path("/sys/fs/cgroup")
    try:
        limit = (base / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((base / "memory.current").read_text().strip()))
    except (OSError, ValueError):
        return None


def available_memory() -> int | None:
    sizes = [s for s in (_meminfo_available(), _cgroup_headroom()) if s is not None]
    return min(sizes) if sizes else None


def memory_limit(config: SiteConfig) -> MemoryLimit:
    env = os.environ.get(ENV, "").strip()
    if env:
        if not valid_size(env):
            raise UsageError([Problem(ENV, None, "", f"{env!r} is not a memory size (e.g. '8GB' or '512MiB')")])
        return MemoryLimit(env, f"the environment variable {ENV}")
    if config.data.memory_limit:
        return MemoryLimit(config.data.memory_limit, f"[data].memory_limit in {config.path.name}")
    available = available_memory()
    if available is None:
        return MemoryLimit("80%", "DuckDB's default (80 % of this machine's memory)")
    size = max(FLOOR, int(available * SHARE_OF_AVAILABLE))
    return MemoryLimit(f"{size}B", f"80 % of the memory available when the build started ({_gib(size / 0.8)})")


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def configure(con: duckdb.DuckDBPyConnection, config: SiteConfig, spill: Path) -> MemoryLimit:
    """Set the connection's memory limit and where it spills; returns the limit (for the error message)."""
    limit = memory_limit(config)
    spill.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET memory_limit = '{limit.value}'")
    con.execute(f"SET temp_directory = {quote_sql(str(spill))}")
    return limit


def out_of_memory(config: SiteConfig, limit: MemoryLimit | None, exc: BaseException) -> UsageError:
    """The one-line error for DuckDB running out of memory even with spilling (exit 2: a setting fixes it)."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    where = limit.source if limit else "the memory limit"
    value = f" ({limit.value})" if limit else ""
    reason = (f"the exports need more memory than {where}{value} allows, even spilling to disk "
              f"(DuckDB: {detail}); set [data].memory_limit in {config.path.name} or the environment "
              f"variable {ENV} higher (e.g. '16GB'), or free memory or disk space for .creditwise/tmp/")
    return UsageError([Problem(config.path.name, None, "data.memory_limit", reason)])
