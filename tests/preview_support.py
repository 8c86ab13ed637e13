"""A tiny site with its own theme and guide, and the real `creditwise serve` running on it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import BASIC_TOML, REPO, csv_text, event

GUIDE = """---
title: House rules
summary: How this studio spends credits.
order: 1
---
## Images

Edit before you regenerate: {{ thresholds.upgrade_utilization | pct }} is our upgrade line.
"""


def make_site(root: Path) -> Path:
    """site.toml (tiers S/M, January–February 2026), one export, a site guide and a copy of the theme."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.toml").write_text(BASIC_TOML, encoding="utf-8")
    (root / "exports").mkdir()
    rows = [event("e1", "2026-01-05T10:00:00Z", 30), event("e2", "2026-01-20T10:00:00Z", 50),
            event("e3", "2026-02-03T09:00:00Z", 20, feature="chat", operation="response")]
    (root / "exports" / "2026.csv").write_text(csv_text(rows), encoding="utf-8")
    write_guide(root, GUIDE)
    shutil.copytree(REPO / "themes" / "default", root / "themes" / "default")
    return root


def guide_path(root: Path) -> Path:
    return root / "content" / "guides" / "house-rules.md"


def write_guide(root: Path, text: str) -> None:
    path = guide_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def save_like_an_editor(path: Path, text: str) -> None:
    """Write a temp file beside the original and rename it over it (vim's and most IDEs' safe save)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class Server:
    """`python -m generator serve --port 0` in a subprocess; its output is collected line by line."""

    def __init__(self, root: Path, port: int = 0, timeout: float = 60):
        self.root = root
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "generator", "serve", "-c", "site.toml", "--port", str(port)],
                                     cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: list[str] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        match = self.wait_for(r"Serving .* at (http://127\.0\.0\.1:\d+/)", timeout)
        self.url = match.group(1)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def mark(self) -> int:
        """The number of lines so far: `wait_for(..., after=mark)` looks only at what comes next."""
        with self._cond:
            return len(self.lines)

    def wait_for(self, pattern: str, timeout: float = 30, after: int = 0) -> re.Match:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines[after:]:
                    if m := regex.search(line):
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"no line matching {pattern!r} within {timeout}s; output:\n" + "\n".join(self.lines))
                self._cond.wait(min(left, 0.5))

    def stop(self, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode
