"""The report-model cache: when nothing the report depends on changed, reuse the last report.

Key: the content hash of every export, site.toml's bytes and location, which guides exist, and a
hash of Creditwise's own source — everything the model is a function of. (as_of comes from the data
or from site.toml, never from the clock, so no date enters.) A hit skips DuckDB altogether:
on 1 M events that is the difference between seconds and a few milliseconds. Any doubt —
a missing, unreadable or foreign entry — is a miss; the cache only ever saves time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import pickle
from pathlib import Path
from typing import TYPE_CHECKING

from generator.config import SiteConfig
from generator.fileio import write_atomic
from generator.ingest.exports import ContentHashes, find_exports
from generator.resources import GUIDES, code_hash

if TYPE_CHECKING:  # imported only to load one: the up-to-date check must not pay for DuckDB and friends
    from generator.report.model import Report



def guide_names(config: SiteConfig) -> list[str]:
    """Which guides exist: recommendations link a practice's guide only when the site has that page."""
    folders = (GUIDES, config.root / config.site.content_dir / "guides")
    return sorted({p.name for folder in folders if folder.is_dir() for p in folder.glob("*.md")})


def model_key(config: SiteConfig) -> str:
    exports, warnings = find_exports(config)
    hashes = ContentHashes(config.cache_dir)
    digests = hashes.of_all([e.path for e in exports])
    hashes.save()
    material = {"config": str(config.path), "toml": hashlib.sha256(config.path.read_bytes()).hexdigest(),
                "exports": digests, "warnings": warnings, "code": code_hash(), "guides": guide_names(config)}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def _path(config: SiteConfig) -> Path:
    return config.cache_dir / "report.pickle"


def load(config: SiteConfig, key: str) -> Report | None:
    from generator.report.model import Report

    try:
        with _path(config).open("rb") as fh:
            # The key is pickled first and alone: a refresh (new key) reads 70 bytes, not the whole model.
            if pickle.load(fh) != key:
                return None
            report = pickle.load(fh)
    except Exception:  # absent, truncated or from another version: rebuild
        return None
    return report if isinstance(report, Report) else None


def save(config: SiteConfig, key: str, report: Report) -> None:
    payload = pickle.dumps(key, protocol=pickle.HIGHEST_PROTOCOL) + pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL)
    with contextlib.suppress(OSError):  # a read-only site folder: no cache, same result
        write_atomic(_path(config), payload)
