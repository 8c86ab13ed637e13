"""What the digest compares with: a published release (the live one by default) or a date.

The live release is the one `current` points at on `[publish].target`; its manifest.json records its
id, build time and as_of, and its `api/` folder holds the documents it showed. `--since` names another
kept release (its full id, its sequence number or its build time, as in `0006`, `6` or
`20261031T225959Z`) or a date (`YYYY-MM-DD`: what happened on or after that day).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.config import SiteConfig
from generator.errors import CheckError, Problem, UsageError
from generator.publish.releases import ReleaseId, ours, target_of
from generator.publish.targets import LocalTarget, SshTarget

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Baseline:
    kind: str  # "release", "date" or "none" (nothing published and no --since: the current state)
    release: str | None = None
    date: dt.date | None = None
    docs: dict[str, Any] = field(default_factory=dict)  # "api/..." → parsed document of that release


def resolve(config: SiteConfig, since: str | None) -> Baseline:
    if since and DATE.match(since):
        try:
            day = dt.date.fromisoformat(since)
        except ValueError:
            raise UsageError(f"--since {since!r}: not a date (YYYY-MM-DD) or a release") from None
        return Baseline("date", date=day)
    if not config.publish.target:
        if since:
            raise UsageError(f"--since {since!r}: no [publish].target in {config.path.name} to find releases in; "
                             "give a date (YYYY-MM-DD) instead")
        return Baseline("none")
    target = target_of(config)
    state = target.state()
    releases = ours(state)
    if since is None:
        if state.current is None:
            return Baseline("none")
        name = state.current
    else:
        name = _find(since, releases, target.label)
    return Baseline("release", release=name, docs=_api_docs(target, name))


def _find(since: str, releases: list[ReleaseId], label: str) -> str:
    wanted = since.strip()
    for r in releases:
        if wanted in (str(r), r.stamp) or (wanted.isdigit() and int(wanted) == r.seq):
            return str(r)
    kept = ", ".join(str(r) for r in releases) or "none"
    raise UsageError(f"--since {since!r}: no such release on {label} (kept: {kept}); or give a date (YYYY-MM-DD)")


def _api_docs(target: LocalTarget | SshTarget, release: str) -> dict[str, Any]:
    if isinstance(target, LocalTarget):
        return read_api(target.root / "releases" / release)
    with tempfile.TemporaryDirectory(prefix="creditwise-digest-") as tmp:
        remote = f"{target.dest}:{target.path}/releases/{release}/"
        cmd = ["rsync", "-r", "-e", shlex.join(target.ssh), "--include=manifest.json", "--include=api/***",
               "--exclude=*", remote, f"{tmp}/"]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CheckError([Problem(target.label, None, "", f"cannot run rsync: {exc}")]) from None
        if run.returncode:
            detail = (run.stderr.strip().splitlines() or [f"exit {run.returncode}"])[-1]
            raise CheckError([Problem(target.label, None, "", f"cannot read release {release}: {detail}")])
        return read_api(Path(tmp))


def read_api(site: Path) -> dict[str, Any]:
    """The documents the digest reads from a site folder (a release or the build output), plus its manifest."""
    out: dict[str, Any] = {}
    for rel in ("manifest.json", "api/site.json", "api/plan.json", "api/alerts.json", "api/recommendations.json"):
        path = site / rel
        if path.is_file():
            out[rel] = json.loads(path.read_text(encoding="utf-8"))
    months = site / "api" / "months"
    if months.is_dir():
        for path in sorted(months.glob("*.json")):
            out[f"api/months/{path.name}"] = json.loads(path.read_text(encoding="utf-8"))
    return out
