"""Whether the written site is already exactly what a build would write.

A build's output is a function of the report model (its cache key covers the exports, site.toml
and Creditwise's source), the guides, the theme and SOURCE_DATE_EPOCH. When none of those
changed and the output folder still holds the files this build wrote (same names, sizes and
modification times, as `make` and git would check), there is nothing to do: the build says
the site is up to date instead of rendering 50 pages again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.config import SiteConfig
from generator.fileio import write_atomic
from generator.report import cache as model_cache
from generator.resources import GUIDES, THEMES

if TYPE_CHECKING:
    from generator.report.model import Report



def summary_line(out_dir: Path, summary: dict[str, Any], seconds: float) -> str:
    return (f"Site is up to date: {out_dir} already holds this build of {summary['events']:,} events in "
            f"{summary['cycles']} cycles (checked in {seconds:.2f}s)")


def site_key(config: SiteConfig, model_key: str, out_dir: Path) -> str:
    digest = hashlib.sha256()
    digest.update(f"{model_key}\0{out_dir.resolve()}\0{os.environ.get('SOURCE_DATE_EPOCH', '')}\0".encode())
    for path in _inputs(config):
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _inputs(config: SiteConfig) -> list[Path]:
    """Every file a theme or guide could come from (the site's own and the shipped ones: a superset is safe)."""
    theme = config.site.theme
    folders = [THEMES / theme, config.root / "themes" / theme, GUIDES, config.root / config.site.content_dir / "guides"]
    return sorted({p for folder in folders if folder.is_dir() for p in folder.rglob("*") if p.is_file()})


def stamp_path(config: SiteConfig, out_dir: Path) -> Path:
    name = hashlib.sha256(str(out_dir.resolve()).encode()).hexdigest()[:16]
    return config.cache_dir / f"site-{name}.json"


def _listing(out_dir: Path) -> dict[str, list[int]]:
    out = {}
    for path in out_dir.rglob("*"):
        if path.is_file():
            st = path.stat()
            out[path.relative_to(out_dir).as_posix()] = [st.st_size, st.st_mtime_ns]
    return out


def up_to_date(config: SiteConfig, out_dir: Path) -> dict[str, Any] | None:
    """What the last build of `out_dir` recorded (events, cycles, warnings) if it is still exactly current."""
    key = site_key(config, model_cache.model_key(config), out_dir)
    try:
        stamp = json.loads(stamp_path(config, out_dir).read_text())
    except (OSError, ValueError):
        return None
    current = stamp.get("key") == key and out_dir.is_dir() and stamp.get("files") == _listing(out_dir)
    return stamp.get("summary") if current else None


def record(config: SiteConfig, key: str, out_dir: Path, report: Report) -> None:
    path = stamp_path(config, out_dir)
    summary = {"events": report.events_counted, "cycles": len(report.cycles), "warnings": report.warnings}
    with contextlib.suppress(OSError):  # no stamp: the next build simply renders again
        write_atomic(path, json.dumps({"key": key, "files": _listing(out_dir), "summary": summary}, sort_keys=True))
