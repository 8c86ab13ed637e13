"""What `creditwise serve` watches, what each change means, and one rebuild per burst of changes.

A `WatchPlan` names the inputs of a site: site.toml, the guide folders, the theme in use and the
export globs. `classify` maps a changed path to a `ChangeKind` (or None: not an input, or an editor's
temp, swap or backup file). The `Watcher` runs a watchdog observer over those folders and feeds a
`Debouncer`, which waits until the changes have settled (100 ms without a new one) and then hands the
whole burst to the rebuild callback at once.

Only events that change a file count. watchdog ≥ 2.3 also reports `opened` and `closed_no_write`,
and the build opens every input it reads: reacting to those would rebuild forever. Editors save by
writing a temp file and renaming it over the original, so a move counts by its destination too.
"""

from __future__ import annotations

import enum
import fnmatch
import os
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from generator.config import SiteConfig
from generator.resources import GUIDES
from generator.site.render import theme_dir

SETTLE_SECONDS = 0.1  # quiet time that ends a burst (MkDocs' build_delay is the same)
LONGEST_WAIT = 1.0  # a burst that never settles (a long copy) still rebuilds this often
CHANGES = (FileCreatedEvent, FileModifiedEvent, FileDeletedEvent, FileMovedEvent, FileClosedEvent,
           DirCreatedEvent, DirDeletedEvent, DirMovedEvent)  # `closed` is close-after-write; no opened/closed_no_write
TEMP_SUFFIXES = (".swp", ".swx", ".swo", ".tmp", ".temp", ".bak", ".orig", ".kate-swp", ".part", ".crdownload")


class ChangeKind(enum.Enum):
    GUIDE = "guides"
    THEME = "theme"
    CONFIG = "site.toml"
    EXPORT = "exports"


def is_temp_file(name: str) -> bool:
    """Editor and tool droppings: vim swap/backup/`4913` probe, emacs `#x#`/`.#x`, JetBrains safe-write, dotfiles."""
    return (name.startswith(".") or name.endswith("~") or name.endswith(TEMP_SUFFIXES) or name == "4913"
            or (name.startswith("#") and name.endswith("#")) or "___jb_" in name)


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _glob_match(pattern: list[str], parts: list[str]) -> bool:
    """`glob.glob(recursive=True)` semantics for one path: `**` spans any number of folders."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_glob_match(pattern[1:], parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _glob_match(pattern[1:], parts[1:])


@dataclass(frozen=True)
class WatchPlan:
    config_file: str
    guide_dirs: tuple[str, ...] = ()
    theme_dirs: tuple[str, ...] = ()
    export_globs: tuple[str, ...] = ()  # absolute patterns

    @classmethod
    def for_site(cls, config_path: Path, config: SiteConfig | None) -> WatchPlan:
        """Everything a build of the site reads; only site.toml while there is no valid config yet."""
        config_file = str(config_path.resolve())
        if config is None:
            return cls(config_file)
        root = config.root.resolve()
        guide_dirs = (str(GUIDES.resolve()), str(root / config.site.content_dir / "guides"))
        try:
            themes: tuple[str, ...] = (str(theme_dir(config).resolve()),)
        except Exception:  # no such theme: the build says so; watch the folder it would appear in
            themes = (str(root / "themes"),)
        globs = tuple(os.path.normpath(os.path.join(root, p)) for p in config.data.exports)
        return cls(config_file, guide_dirs, themes, globs)

    def classify(self, path: str, is_directory: bool = False) -> ChangeKind | None:
        path = os.path.normpath(path)
        if is_temp_file(os.path.basename(path)):
            return None
        if path == self.config_file:
            return ChangeKind.CONFIG
        for folder in self.guide_dirs:
            if is_directory and _under(folder, path):  # the guides folder itself appeared, left or was renamed
                return ChangeKind.GUIDE
            if _under(path, folder) and not _hidden_below(path, folder) and (is_directory or path.endswith(".md")):
                return ChangeKind.GUIDE
        for folder in self.theme_dirs:
            if _under(path, folder) and not _hidden_below(path, folder):
                return ChangeKind.THEME
        for pattern in self.export_globs:
            if is_directory and _under(pattern, path):  # a folder of exports appeared, left or was renamed
                return ChangeKind.EXPORT
            if _glob_match(pattern.split(os.sep), path.split(os.sep)):
                return ChangeKind.EXPORT
        return None

    def folders(self) -> list[tuple[str, bool]]:
        """(folder, recursive) to watch: each folder once, none inside another recursive one.

        A folder of the site that does not exist yet is watched through its nearest existing parent
        (not recursively), so its creation is seen; the server replans after every rebuild."""
        site = os.path.dirname(self.config_file)
        wanted: dict[str, bool] = {site: False}
        for folder in (*self.guide_dirs, *self.theme_dirs):
            wanted[folder] = True
        for pattern in self.export_globs:
            parts = pattern.split(os.sep)
            fixed = next((i for i, p in enumerate(parts) if glob_magic(p)), len(parts) - 1)
            folder = os.sep.join(parts[:fixed]) or os.sep
            recursive = len(parts) - fixed > 1  # wildcards in folder names too
            wanted[folder] = wanted.get(folder, False) or recursive
        existing: dict[str, bool] = {}
        for folder, recursive in wanted.items():
            while not os.path.isdir(folder) and _under(folder, site) and folder != site:
                folder, recursive = os.path.dirname(folder), False
            if os.path.isdir(folder):
                existing[folder] = existing.get(folder, False) or recursive
        return sorted((f, r) for f, r in existing.items()
                      if not any(other != f and rec and _under(f, other) for other, rec in existing.items()))


def glob_magic(part: str) -> bool:
    return any(c in part for c in "*?[")


def _hidden_below(path: str, folder: str) -> bool:
    """A dotted folder (or file) inside the watched one: .git, editor state, a cache."""
    return any(p.startswith(".") for p in os.path.relpath(path, folder).split(os.sep) if p not in (".", ".."))


class Debouncer:
    """Collects changes; once none has come for SETTLE_SECONDS, calls `apply(kinds, paths)` for the burst.

    One thread does every rebuild, so rebuilds never overlap; changes that arrive during one are
    collected for the next."""

    def __init__(self, apply: Callable[[set[ChangeKind], list[str]], None], settle: float = SETTLE_SECONDS):
        self._apply, self._settle = apply, settle
        self._cond = threading.Condition()
        self._kinds: set[ChangeKind] = set()
        self._paths: list[str] = []
        self._first = self._due = 0.0
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="creditwise-rebuild", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def push(self, kind: ChangeKind, path: str, now: bool = False) -> None:
        with self._cond:
            t = time.monotonic()
            if not self._kinds:
                self._first = t
            self._kinds.add(kind)
            if path not in self._paths:
                self._paths.append(path)
            self._due = t if now else min(t + self._settle, self._first + LONGEST_WAIT)
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._kinds or time.monotonic() < self._due):
                    self._cond.wait(None if not self._kinds else max(0.0, self._due - time.monotonic()))
                if self._stopped:
                    return
                kinds, paths = self._kinds, self._paths
                self._kinds, self._paths = set(), []
            try:
                self._apply(kinds, paths)
            except Exception:  # a bug in one rebuild must not stop every later one
                traceback.print_exc()


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher):
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in ("created", "modified", "deleted", "moved", "closed"):
            return
        if event.is_directory and event.event_type == "modified":  # a child changed; its own event says which
            return
        paths = [event.src_path] + ([event.dest_path] if event.event_type == "moved" else [])
        plan = self.watcher.plan
        for raw in paths:
            path = os.fsdecode(raw)
            kind = plan.classify(path, event.is_directory)
            if kind is not None:
                self.watcher.debouncer.push(kind, path)


class Watcher:
    """A watchdog observer over a WatchPlan's folders; `replan` follows a site.toml that moved them."""

    def __init__(self, plan: WatchPlan, debouncer: Debouncer):
        self.plan, self.debouncer = plan, debouncer
        self._observer = Observer()
        self._handler = _Handler(self)
        self._lock = threading.Lock()
        self.watching: list[tuple[str, bool]] = []

    def start(self) -> None:
        self._schedule()
        self._observer.start()
        self.debouncer.start()

    def replan(self, plan: WatchPlan) -> None:
        with self._lock:
            self.plan = plan
            if plan.folders() != self.watching:
                self._observer.unschedule_all()
                self._schedule()

    def _schedule(self) -> None:
        self.watching = []
        for folder, recursive in self.plan.folders():
            try:
                self._observer.schedule(self._handler, folder, recursive=recursive, event_filter=list(CHANGES))
            except OSError:  # gone since folders() looked: left out, so the next replan tries again
                continue
            self.watching.append((folder, recursive))

    def stop(self) -> None:
        self.debouncer.stop()
        self._observer.stop()
        self._observer.join(timeout=2)
