"""Write the finished site in one step.

Everything is rendered into memory first (but for the FOCUS export, made of parts in the cache, which
may be copied in early), written into a fresh directory beside the output, then exchanged with it in one
step: a failed or killed build never touches the previous site, and no stale file from an earlier build
survives.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import re
import shutil
import threading
from pathlib import Path

from generator.fileio import exchange, pid_alive, send_file


class Chunks:
    """A file made of pieces, some of them files in the cache (a large export is never held in memory)."""

    def __init__(self, chunks: list[bytes | Path]):
        self.chunks = chunks

    def size(self) -> int:
        return sum(len(c) if isinstance(c, bytes) else c.stat().st_size for c in self.chunks)

    def read(self) -> bytes:
        return b"".join(c if isinstance(c, bytes) else c.read_bytes() for c in self.chunks)

    def write_to(self, target: Path) -> None:
        with target.open("wb") as out:
            for c in self.chunks:
                if isinstance(c, bytes):
                    out.write(c)
                else:
                    send_file(out, c)

    def same_as(self, path: Path) -> bool:
        try:
            if path.stat().st_size != self.size():
                return False
            with path.open("rb") as fh:
                for c in self.chunks:
                    want = c if isinstance(c, bytes) else c.read_bytes()
                    if fh.read(len(want)) != want:
                        return False
            return True
        except OSError:
            return False


class SiteFiles:
    """Path → content for the whole site; writing one path twice is a bug, not an overwrite."""

    def __init__(self) -> None:
        self._files: dict[str, bytes | Chunks] = {}

    def add(self, path: str, content: str | bytes | Chunks) -> None:
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
        """Every file's bytes (those made of cached pieces are read: the preview server serves from memory)."""
        return [(p, c.read() if isinstance(c, Chunks) else c) for p, c in sorted(self._files.items())]

    def entries(self) -> list[tuple[str, bytes | Chunks]]:
        return sorted(self._files.items())


MARKER = ".creditwise-site"  # in every folder a build writes: the next build may replace that folder
MARKER_TEXT = b"Written by Creditwise: every build replaces this whole folder.\n"
LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?:building|old)-(?P<pid>\d+)$")


def unchanged(files: SiteFiles, out_dir: Path) -> bool:
    """Whether `out_dir` already holds exactly these files (then there is nothing to write)."""
    if not out_dir.is_dir() or not (out_dir / MARKER).is_file():
        return False
    present = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file() or p.is_symlink())
    if present != sorted([*files.paths(), MARKER]):
        return False
    return all(content.same_as(out_dir / path) if isinstance(content, Chunks) else (out_dir / path).read_bytes() == content
               for path, content in files.entries())


def remove_leftovers(out_dir: Path) -> list[Path]:
    """Staging folders of earlier builds of `out_dir` that were killed (their process is gone)."""
    removed = []
    if not out_dir.parent.is_dir():
        return removed
    for entry in out_dir.parent.iterdir():
        m = LEFTOVER.match(entry.name)
        if m and m["name"] == out_dir.name and (int(m["pid"]) == os.getpid() or not pid_alive(int(m["pid"]))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


class Staging:
    """The folder beside the output that the next site is written into, then exchanged with it.

    A large file may be written early (`start`, from any thread: the FOCUS export, copied by the kernel
    while the charts draw and the pages render); `swap_in` writes everything else, waits for it, and
    swaps. A `start` that comes once `swap_in` has begun does nothing: `swap_in` writes that file itself."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir.resolve()
        self.path = self.out_dir.with_name(f".{self.out_dir.name}.building-{os.getpid()}")
        self._early: dict[str, tuple[Chunks, concurrent.futures.Future]] = {}
        self._threads: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._made = False
        self._removing: threading.Thread | None = None

    def _make(self) -> None:
        if not self._made:  # (a folder of this name left by an earlier build of this process goes first)
            self.out_dir.parent.mkdir(parents=True, exist_ok=True)
            remove_leftovers(self.out_dir)
            self.path.mkdir()
            self._made = True

    def start(self, path: str, content: Chunks) -> None:
        """Begin writing one file of the site now (`swap_in` checks that it is given the same content)."""
        with self._lock:
            if self._closed or path in self._early:
                return
            self._make()
            target = self.path / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if self._threads is None:
                self._threads = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="creditwise-staging")
            self._early[path] = (content, self._threads.submit(content.write_to, target))

    def _wait(self) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._threads = None

    def discard(self) -> None:
        """The end of this staging: what was written and not swapped in is removed (a failed build, an
        unchanged site), and so is the previous site once swapped out. Call it once the build is done."""
        with self._lock:
            self._closed = True
        self._wait()
        self._early.clear()
        if self._removing is not None:
            self._removing.join()
        shutil.rmtree(self.path, ignore_errors=True)

    def swap_in(self, files: SiteFiles) -> bool:
        """Swap the site in; False when the output already held exactly these files.

        At every instant the output path holds a complete site, the old one or the new one: the two
        folders are exchanged in one `renameat2(RENAME_EXCHANGE)` (a `kill -9` anywhere leaves one of
        them, plus a staging folder the next build removes)."""
        with self._lock:
            self._closed = True
        if unchanged(files, self.out_dir):
            self.discard()
            return False
        try:
            self._make()
            for path, content in [*files.entries(), (MARKER, MARKER_TEXT)]:
                early = self._early.pop(path, None)
                if early is not None and isinstance(content, Chunks) and early[0].chunks == content.chunks:
                    early[1].result()  # written already (or its error raised here)
                    continue
                target = self.path / path
                target.parent.mkdir(parents=True, exist_ok=True)
                if early is not None:  # started with other content: wait for it before writing over it
                    with contextlib.suppress(Exception):
                        early[1].result()
                if isinstance(content, Chunks):
                    content.write_to(target)
                else:
                    target.write_bytes(content)
            self._wait()
            if self._early:
                raise RuntimeError(f"written early but not part of the site: {', '.join(sorted(self._early))}")
            if not self.out_dir.exists():
                self.path.rename(self.out_dir)  # nothing there yet: one rename(2)
                return True
            if not exchange(self.path, self.out_dir):
                _swap_by_two_renames(self.path, self.out_dir)
        except BaseException:
            self.discard()
            raise
        # The staging folder now holds the previous site: removed while the build winds down (`discard` waits).
        self._removing = threading.Thread(target=shutil.rmtree, args=(self.path, True), name="creditwise-old-site")
        self._removing.start()
        return True


def _swap_by_two_renames(staging: Path, out_dir: Path) -> None:
    """Where the file system cannot exchange two names: a moment without an output folder, put right
    at once if the rename fails (and by the next build if the process dies in between)."""
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    out_dir.rename(old)
    try:
        staging.rename(out_dir)
    except BaseException:
        old.rename(out_dir)
        raise
    old.rename(staging)
