"""`creditwise serve`: build, serve on 127.0.0.1, rebuild what a change needs, reload open pages.

The pieces: `watcher` (what changed, settled into bursts), `incremental_build` (how much to redo),
`preview_server` (the last complete build over HTTP, with the reload script and error overlay).
One thread rebuilds; the server keeps answering from the previous build meanwhile, and a build
error is shown (terminal and browser) without stopping anything.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading
import time
import tomllib
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from generator.config import SiteConfig, load_config
from generator.errors import CreditwiseError, UsageError
from generator.serve.rebuild import Level, Outcome, PreviewBuilder, level_for
from generator.serve.server import HOST, PreviewServer, PreviewState
from generator.serve.watcher import ChangeKind, Debouncer, Watcher, WatchPlan

WHAT = {Level.GUIDES: "guide pages", Level.PAGES: "pages", Level.MODEL: "the whole site"}


class Preview:
    """The builder, the state it publishes, and the watcher that drives it."""

    def __init__(self, config_path: Path, out: TextIO = sys.stdout, err: TextIO = sys.stderr):
        self.config_path, self.out, self.err = config_path, out, err
        self.builder = PreviewBuilder(config_path)
        self.state = PreviewState()
        self.debouncer = Debouncer(self.apply)
        self.watcher = Watcher(WatchPlan.for_site(config_path, _config_or_none(config_path)), self.debouncer)
        self.first_build = threading.Event()

    def start(self) -> None:
        """Start watching, and build (on the rebuild thread: changes made meanwhile are not lost)."""
        self.watcher.start()
        self.debouncer.push(ChangeKind.CONFIG, str(self.config_path), now=True)

    def apply(self, kinds: set[ChangeKind], paths: list[str]) -> None:
        level = level_for(kinds)
        first = not self.first_build.is_set()
        if not first:
            self._say(f"{', '.join(sorted(k.value for k in kinds))} changed ({self._names(paths)}): "
                      f"rebuilding {WHAT[level]}…")
        self.state.begin()
        try:
            outcome = self.builder.rebuild(level)
        except BaseException:  # rebuild() reports errors instead of raising; still, never leave requests waiting
            self.state.publish(None, [])
            raise
        self.state.publish(outcome.files, outcome.problems)
        try:
            self.report(outcome)
            self.watcher.replan(WatchPlan.for_site(self.config_path, self.builder.config))
        finally:
            self.first_build.set()  # the server starts answering even if the above failed

    def report(self, outcome: Outcome) -> None:
        for warning in outcome.warnings:
            self._say(f"warning: {warning}", self.err)
        if outcome.ok:
            self._say(f"{outcome.detail} in {outcome.seconds * 1000:.0f} ms")
            return
        if outcome.trace:
            self.err.write(outcome.trace)
        for problem in outcome.problems:
            self._say(str(problem), self.err)
        keep = "serving the last good build" if self.builder.files else "nothing to serve yet"
        self._say(f"build failed ({keep}; the browser shows the error); fix it and save to rebuild", self.err)

    def stop(self) -> None:
        self.state.close()
        self.watcher.stop()

    def _names(self, paths: list[str]) -> str:
        names = [self.shown(p) for p in paths[:3]]
        return ", ".join(names) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")

    def shown(self, path: str) -> str:
        root = str(self.config_path.resolve().parent)
        return os.path.relpath(path, root) if path == root or path.startswith(root + os.sep) else path

    def _say(self, line: str, stream: TextIO | None = None) -> None:
        stream = stream or self.out
        stream.write(f"[{time.strftime('%H:%M:%S')}] {line}\n")
        stream.flush()


def _config_or_none(config_path: Path) -> SiteConfig | None:
    """site.toml if it is valid now (to watch everything from the start); the first build reports why not."""
    try:
        return load_config(config_path)
    except CreditwiseError:
        return None


def base_path(config_path: Path) -> str:
    """The path of [site].base_url, read leniently (a broken site.toml must not stop the server)."""
    try:
        with config_path.open("rb") as fh:
            url = tomllib.load(fh).get("site", {}).get("base_url", "/")
        return urlsplit(url).path or "/"
    except (OSError, ValueError, AttributeError):
        return "/"


def serve(config_path: Path, port: int, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    if not config_path.is_file():
        raise UsageError(f"{config_path}: no such file (pass the site's configuration with -c/--config)")
    preview = Preview(config_path, out, err)
    try:  # bind first: a port in use is reported before a long build
        server = PreviewServer(port, preview.state, base_path(config_path))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {HOST} is already in use: stop the other server, "
                             f"or choose another port with --port (0 picks a free one)") from None
        raise UsageError(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}") from None
    # SIGTERM (a supervisor, `kill`) ends the server as cleanly as Ctrl-C.
    previous = signal.signal(signal.SIGTERM, _interrupt) if threading.current_thread() is threading.main_thread() else None
    try:
        preview._say(f"building {config_path}…")
        preview.start()
        preview.first_build.wait()
        print(f"Serving {config_path} at {server.url} (Ctrl-C to stop)", file=out, flush=True)
        folders = [preview.shown(f) + ("/ (and below)" if r else "/") for f, r in preview.watcher.watching]
        print("Watching " + ", ".join(folders), file=out, flush=True)
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        print("\nStopped.", file=out, flush=True)
    finally:
        preview.stop()
        server.server_close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
