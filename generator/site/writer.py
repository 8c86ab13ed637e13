"""Write the finished site in one step.

Everything is rendered into memory first, written into a fresh directory beside the output,
then swapped in with renames: a failed build never touches the previous site, and no stale
file from an earlier build survives.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


class SiteFiles:
    """Path → content for the whole site; writing one path twice is a bug, not an overwrite."""

    def __init__(self) -> None:
        self._files: dict[str, bytes] = {}

    def add(self, path: str, content: str | bytes) -> None:
        if path in self._files:
            raise RuntimeError(f"two outputs want the same path: {path}")
        if path.startswith("/") or ".." in Path(path).parts:
            raise RuntimeError(f"output path escapes the site: {path}")
        self._files[path] = content.encode("utf-8") if isinstance(content, str) else content

    def __len__(self) -> int:
        return len(self._files)

    def paths(self) -> list[str]:
        return sorted(self._files)

    def items(self) -> list[tuple[str, bytes]]:
        return sorted(self._files.items())


def unchanged(files: SiteFiles, out_dir: Path) -> bool:
    """Whether `out_dir` already holds exactly these files (then there is nothing to write)."""
    if not out_dir.is_dir():
        return False
    present = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file() or p.is_symlink())
    if present != files.paths():
        return False
    return all((out_dir / path).read_bytes() == content for path, content in files.items())


def write_site(files: SiteFiles, out_dir: Path) -> bool:
    """Swap the site in; False when the output already held exactly these files."""
    out_dir = out_dir.resolve()
    if unchanged(files, out_dir):
        return False
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f".{out_dir.name}.building-{os.getpid()}")
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    for leftover in (staging, old):
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        staging.mkdir()
        for path, content in files.items():
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        if out_dir.exists():
            out_dir.rename(old)
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if old.exists() and not out_dir.exists():
            old.rename(out_dir)  # put the previous site back
        raise
    shutil.rmtree(old, ignore_errors=True)
    return True
