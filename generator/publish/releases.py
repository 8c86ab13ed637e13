"""`creditwise publish`: build, check, then deploy a new release atomically; `--rollback` undoes one.

Release ids are `<sequence>-<build time>-<content hash>`, e.g. `0007-20261120T143000Z-3fa2c41b9e0d`:
the sequence orders releases (rollback goes to the one before the live one), the build time says which
data it shows (SOURCE_DATE_EPOCH, else the data's as_of, as in api/site.json), and the content hash
makes publishing the same site twice a no-op. Releases newer than the live one were rolled back from;
the next publish removes them, so "previous" always means "what was live before".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator import __version__
from generator.config import SiteConfig
from generator.errors import CheckError, ConfigError, Problem
from generator.fileio import sha256_file
from generator.publish.targets import LocalTarget, SshTarget, TargetState, parse_target

RELEASE_ID = re.compile(r"^(\d+)-(\d{8}T\d{6}Z)-([0-9a-f]{12})$")


@dataclass(frozen=True, order=True)
class ReleaseId:
    seq: int
    stamp: str
    digest: str

    @classmethod
    def parse(cls, name: str | None) -> ReleaseId | None:
        m = RELEASE_ID.match(name or "")
        return cls(int(m.group(1)), m.group(2), m.group(3)) if m else None

    def __str__(self) -> str:
        return f"{self.seq:04d}-{self.stamp}-{self.digest}"


def target_of(config: SiteConfig) -> LocalTarget | SshTarget:
    if not config.publish.target:
        raise ConfigError([Problem(config.path.name, None, "publish.target",
                                   "not set: name a directory, or ssh://[user@]host[:port]/path (see README, Publishing)")])
    target = parse_target(config.publish.target, config.root, config.path.name)
    if isinstance(target, LocalTarget):
        root, out = target.root.resolve(), config.output_path().resolve()
        if root == out or out in root.parents or root in out.parents:
            raise ConfigError([Problem(config.path.name, None, "publish.target", f"{target.root} overlaps the build "
                                       f"output {out} ([site].output_dir); publish somewhere else")])
    return target


def site_digest(site: Path) -> tuple[str, dict[str, str]]:
    """Hash of the whole site (paths and contents) and the hash of each file."""
    files = {p.relative_to(site).as_posix(): sha256_file(p) for p in sorted(site.rglob("*")) if p.is_file()}
    whole = hashlib.sha256("".join(f"{h}  {rel}\n" for rel, h in files.items()).encode()).hexdigest()
    return whole, files


def input_hashes(config: SiteConfig, export_files: list[str], theme: Path) -> dict[str, str]:
    """site.toml, the exports read, the content folder and the theme: what the release was built from."""
    paths = [config.path, *(config.root / f for f in export_files)]
    for folder in (config.root / config.site.content_dir, theme):
        if folder.is_dir():
            paths += sorted(p for p in folder.rglob("*") if p.is_file())
    out = {}
    for p in paths:
        p = p.resolve()
        try:
            key = p.relative_to(config.root.resolve()).as_posix()
        except ValueError:
            key = f"creditwise:{p.relative_to(theme.parents[1]).as_posix()}" if theme in p.parents else str(p)
        if p.is_file():
            out[key] = sha256_file(p)
    return dict(sorted(out.items()))


def release_stamp(build_time: dt.datetime) -> str:
    return build_time.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def ours(state: TargetState) -> list[ReleaseId]:
    return sorted(r for r in map(ReleaseId.parse, state.releases) if r)


def removals(releases: list[ReleaseId], live: ReleaseId | None, new: ReleaseId, keep: int) -> list[ReleaseId]:
    """Rolled-back releases (newer than the live one), then the oldest beyond `keep`, never the live or
    previous one: keep < 2 still keeps one release to roll back to."""
    rolled_back = [r for r in releases if live and r > live]
    kept = [r for r in releases if r not in rolled_back] + [new]
    return rolled_back + kept[:max(0, len(kept) - max(keep, 2))]


def publish(config: SiteConfig, dry_run: bool = False, say: Callable[[str], None] = print,
            progress: Callable[[str], None] = lambda _: None) -> int:
    # Deferred: the pipeline loads DuckDB and Jinja2, which `publish --rollback` never needs.
    from generator.check import check_site
    from generator.pipeline.build import build
    from generator.site.api.values import build_time
    from generator.site.render import theme_dir

    target = target_of(config)
    progress(f"reading {target.label}…")
    target.state()  # an unreachable or unusable target refuses now, before a build
    progress("building…")
    result = build(config, progress=progress)
    site = result.out_dir
    progress("checking…")
    checked = check_site(site)
    if checked.problems:
        raise CheckError(checked.problems)
    if (site / "manifest.json").exists():
        raise CheckError([Problem(str(site), None, "manifest.json", "the site may not have its own manifest.json "
                                                                     "(each release gets one from publish)")])
    digest, files = site_digest(site)
    state = target.state()  # again: what is live now, after the build
    live = ReleaseId.parse(state.current)
    releases = ours(state)
    if live and live.digest == digest[:12]:
        broken = target.verify(str(live))
        if not broken:
            say(f"Nothing to publish: release {live} on {target.label} already has this content "
                f"(sha256 {digest[:12]}).")
            return 0
        say(f"Release {live} on {target.label} has this content but is incomplete ({_first(broken)}): "
            "publishing it again.")
    when = build_time(result.report.as_of)
    new = ReleaseId((releases[-1].seq if releases else 0) + 1, release_stamp(when), digest[:12])
    link_from = state.current if state.current in state.releases else (str(releases[-1]) if releases else None)
    manifest = {
        "id": str(new), "sequence": new.seq, "build_time": when.isoformat(), "as_of": result.report.as_of.isoformat(),
        "published_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "content_sha256": digest, "creditwise_version": __version__, "base_url": config.site.base_url,
        "previous": state.current, "inputs": input_hashes(config, [f.shown for f in result.report.files],
                                                          theme_dir(config)),
        "files": files,
    }
    remove = removals(releases, live, new, config.publish.keep)
    live_files = (state.live_manifest or {}).get("files") or {}
    upload = [rel for rel, h in files.items() if live_files.get(rel) != h]
    dropped = sorted(set(live_files) - set(files))
    if dry_run:
        say(f"Dry run: would publish release {new} to {target.label} (nothing was changed)")
        for rel in [*upload, "manifest.json"]:
            say(f"  upload  {rel}")
        for rel in dropped:
            say(f"  drop    {rel}  (live now, not in the new release)")
        for r in remove:
            say(f"  remove  releases/{r}  ({'rolled back' if live and r > live else f'beyond keep = {config.publish.keep}'})")
        say(f"{len(upload) + 1} files to upload, {len(files) - len(upload)} unchanged, {len(remove)} releases to remove; "
            f"'current' would switch {'from ' + str(state.current) + ' ' if state.current else ''}to {new}")
        return 0
    progress(f"uploading release {new}…")
    target.upload(site, (json.dumps(manifest, indent=2) + "\n").encode(), str(new), link_from)
    target.activate(str(new), [str(r) for r in remove])
    say(f"Published release {new} to {target.label}: {len(upload)} of {len(files)} files new or changed"
        + (f", {len(dropped)} dropped" if dropped else "")
        + (f"; removed {', '.join(map(str, remove))}" if remove else "") + ".")
    if state.current:
        say(f"Live: {new} (was {state.current}). Undo with: creditwise publish --rollback")
    return 0


def _first(problems: list[str]) -> str:
    return problems[0] + (f" and {len(problems) - 1} more" if len(problems) > 1 else "")


def rollback(config: SiteConfig, dry_run: bool = False, say: Callable[[str], None] = print) -> int:
    target = target_of(config)
    state = target.state()
    live = ReleaseId.parse(state.current)
    if state.current is None:
        raise CheckError([Problem(target.label, None, "", "nothing is published there: no 'current' release")])
    if live is None:
        raise CheckError([Problem(target.label, None, "current", f"points at {state.current!r}, not a Creditwise "
                                                                 "release; switch it by hand")])
    earlier = [r for r in ours(state) if r < live]
    if not earlier:
        raise CheckError([Problem(target.label, None, "", f"no release before {live} to roll back to")])
    back = earlier[-1]
    broken = target.verify(str(back))
    if broken:
        raise CheckError([Problem(target.label, None, f"releases/{back}", f"incomplete, not rolled back to: {p}")
                          for p in broken[:10]], total=len(broken))
    if dry_run:
        say(f"Dry run: would switch 'current' on {target.label} from {live} to {back} (nothing was changed)")
        return 0
    target.activate(str(back), [])
    say(f"Rolled back on {target.label}: live is now {back} (was {live}). "
        f"{live} is kept until the next publish, which removes it.")
    return 0
