"""Whether a build may replace its output folder: only ever a folder that is Creditwise's own.

A build replaces the whole output folder, so before anything is read or written it refuses
(exit 2, nothing deleted) a folder that is site.toml's own folder or one above it; one that
holds, or lies inside, a folder of the exports, the content folder, the theme or the cache; one
that the export globs would read from; and a non-empty folder that no Creditwise build wrote.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
from fnmatch import fnmatchcase
from pathlib import Path

from generator.config import SiteConfig
from generator.errors import Problem, UsageError
from generator.pipeline import stamp as build_stamp
from generator.site.render import theme_dir
from generator.site.writer import MARKER


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def _glob_base(root: Path, pattern: str) -> Path:
    """The folder a glob starts from: its components before the first wildcard."""
    base = root
    for part in Path(pattern).parts:
        if glob.has_magic(part):
            break
        base = base / part
    return base.resolve() if glob.has_magic(pattern) else base.resolve().parent


def glob_reaches(pattern: Path, folder: Path) -> bool:
    """Whether some file inside `folder` could match `pattern` (both absolute)."""
    pat, path = pattern.parts, folder.parts

    def match(i: int, j: int) -> bool:
        if j == len(path):
            return i < len(pat)
        if i == len(pat):
            return False
        if pat[i] == "**":
            return match(i + 1, j) or match(i, j + 1)
        return fnmatchcase(path[j], pat[i]) and match(i + 1, j + 1)

    return match(0, 0)


def _built_by_creditwise(config: SiteConfig, out: Path) -> bool:
    if (out / MARKER).is_file():
        return True
    if build_stamp.stamp_path(config, out).is_file():
        return True  # an earlier build of this site wrote it (before folders were marked)
    try:  # a site written by a Creditwise release that did not mark its folders yet
        doc = json.loads((out / "api" / "site.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and "generated_at" in doc and (out / "index.html").is_file()


def refuse_unsafe_output(config: SiteConfig, out_dir: Path) -> None:
    """Raise UsageError (exit 2) when a build must not replace `out_dir`."""
    out = out_dir.resolve()
    root = config.root.resolve()
    shown = config.path.name

    def refuse(reason: str) -> UsageError:
        return UsageError([Problem(shown, None, "output folder",
                                   f"{out}: {reason}; a build replaces everything in its output folder, so "
                                   "nothing was deleted (pick another folder, e.g. the default 'public')")])

    if out == root or out in root.parents:
        raise refuse("is the folder of site.toml" if out == root else "holds the folder of site.toml")
    guarded: list[tuple[str, Path]] = []
    for pattern in config.data.exports:
        base = _glob_base(root, pattern)
        folders = [base]
        for match in glob.glob(str(root / pattern), recursive=True):
            folders.append(Path(os.path.abspath(match)).parent)
            with contextlib.suppress(OSError, RuntimeError):  # a broken link is the ingest's to report
                folders.append(Path(match).resolve(strict=True).parent)
        guarded += [("a folder of the exports", f) for f in folders if f != root]
    guarded += [("the content folder", (root / config.site.content_dir).resolve()),
                ("the cache", (root / ".creditwise").resolve())]
    with contextlib.suppress(UsageError):  # an unknown theme is reported by the build itself
        guarded.append(("the theme", theme_dir(config).resolve()))
    for what, folder in guarded:
        if _overlaps(out, folder):
            if out == folder:
                raise refuse(f"is {what}")
            raise refuse(f"{'holds' if out in folder.parents else 'lies inside'} {what} ({folder})")
    for pattern in config.data.exports:
        if glob_reaches(Path(os.path.normpath(root / pattern)), out):
            raise refuse(f"the export glob {pattern!r} would read the files written there")
    if out.exists() and not out.is_dir():
        raise refuse("is a file, not a folder")
    blocking = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise refuse(f"cannot be made: {blocking} is a file")
    if out.is_dir() and any(out.iterdir()) and not _built_by_creditwise(config, out):
        raise refuse("is not empty and no Creditwise build wrote it")
