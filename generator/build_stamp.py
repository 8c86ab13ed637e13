"""Whether the written site is already exactly what a build would write.

A build's output is a function of the report model (its cache key covers the exports, site.toml
and Creditwise's source), the guides, the theme and SOURCE_DATE_EPOCH. When none of those
changed and the output folder still holds the files this build wrote (same names, sizes and
modification times, as `make` and git would check), there is nothing to do: the build says
the site is up to date instead of rendering 50 pages again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from generator.config import SiteConfig
from generator.event_store import CACHE_DIR
from generator.guides import guide_sources
from generator.render import theme_dir


def site_key(config: SiteConfig, model_key: str, out_dir: Path) -> str:
    digest = hashlib.sha256()
    digest.update(f"{model_key}\0{out_dir.resolve()}\0{os.environ.get('SOURCE_DATE_EPOCH', '')}\0".encode())
    theme = theme_dir(config)
    sources = sorted(guide_sources(config).values()) + sorted(p for p in theme.rglob("*") if p.is_file())
    for path in sources:
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _stamp(config: SiteConfig, out_dir: Path) -> Path:
    name = hashlib.sha256(str(out_dir.resolve()).encode()).hexdigest()[:16]
    return config.root / CACHE_DIR / f"site-{name}.json"


def _listing(out_dir: Path) -> dict[str, list[int]]:
    out = {}
    for path in out_dir.rglob("*"):
        if path.is_file():
            st = path.stat()
            out[path.relative_to(out_dir).as_posix()] = [st.st_size, st.st_mtime_ns]
    return out


def is_current(config: SiteConfig, key: str, out_dir: Path) -> bool:
    try:
        stamp = json.loads(_stamp(config, out_dir).read_text())
    except (OSError, ValueError):
        return False
    return stamp.get("key") == key and out_dir.is_dir() and stamp.get("files") == _listing(out_dir)


def record(config: SiteConfig, key: str, out_dir: Path) -> None:
    path = _stamp(config, out_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"key": key, "files": _listing(out_dir)}, sort_keys=True))
        tmp.replace(path)
    except OSError:
        pass  # no stamp: the next build simply renders again
