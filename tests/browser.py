"""Headless Chromium for the tests and the screenshot script: Debian's /usr/bin/chromium driven by Playwright.

Never `playwright install`: the browser is the system one (.ci/run installs Debian's `chromium`).
axe-core and the Nu HTML checker come from npm into tests/node/ (`make node-deps`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

NODE = Path(__file__).resolve().parent / "node" / "node_modules"
AXE = NODE / "axe-core" / "axe.min.js"
VNU = NODE / "vnu-jar" / "build" / "dist" / "vnu.jar"
CHROMIUM = os.environ.get("CREDITWISE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def missing() -> str | None:
    """Why the browser checks cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    if not AXE.exists():
        return f"axe-core is not installed at {AXE} (make node-deps)"
    return None


@contextlib.contextmanager
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def vnu_command() -> str | None:
    """The Nu HTML checker as a command for `creditwise check` (CREDITWISE_VNU), when Java and the jar are here."""
    java = shutil.which("java")
    return f"{java} -jar {VNU}" if java and VNU.exists() else None
