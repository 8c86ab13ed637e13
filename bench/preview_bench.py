"""Live-reload benchmark: guide edit → reloaded page in a real browser, on the demo site and a big one.

    .venv/bin/python bench/preview_bench.py [--events N] [--edits K]      (part of make bench)

For each site (the demo: a copy of site.toml + content/; and N generated events, 1,000,000 by
default, under /tmp/creditwise-preview-bench/), it starts the real `creditwise serve` with empty
caches, opens a guide in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) and
saves K edits to the guide's Markdown the way an editor does (temp file renamed over it). For each
edit it takes the time from just before the save to the end of the reloaded page's load event
(both wall clocks of this machine), and reads the server's own rebuild time from its output.
It prints the medians, and the guide rebuild as a fraction of the server's first build (a cold
build of the same site, caches empty, same process), targets ≤ 250 ms and ≤ 5 %.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench_data import REPO, generated_events, site_toml  # the script's own folder is on sys.path

WORK = Path("/tmp/creditwise-preview-bench")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
GUIDE = "tier-selection"


def demo_site() -> Path:
    root = WORK / "demo"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    shutil.copy2(REPO / "site.toml", root / "site.toml")
    shutil.copytree(REPO / "content", root / "content")
    return root


def big_site(events: int) -> Path:
    root = WORK / f"events-{events}"
    shutil.rmtree(root, ignore_errors=True)  # a cold first build
    (root / "content").mkdir(parents=True)
    shutil.copytree(REPO / "content" / "guides", root / "content" / "guides")
    exports = generated_events(events) / "*.csv"  # shared with the ingest benchmark
    (root / "site.toml").write_text(site_toml(f"Preview benchmark, {events:,} events", str(exports), events), encoding="utf-8")
    return root


class Server:
    """The real `creditwise serve --port 0`; its output lines are collected as they come."""

    def __init__(self, root: Path):
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO)}
        # -X faulthandler: if the server does not stop, SIGABRT makes it print every thread's stack (see stop)
        self.proc = subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "generator", "serve", "-c", "site.toml",
                                      "--port", "0"],
                                     cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self.wait_for(r"Serving .* at (http://\S+/)", 900).group(1)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait_for(self, pattern: str, timeout: float, after: int = 0) -> re.Match:
        regex, deadline = re.compile(pattern), time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines[after:]:
                    if m := regex.search(line):
                        return m
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    sys.exit("creditwise serve did not say " + pattern + ":\n" + "\n".join(self.lines[-30:]))
                self.cond.wait(0.5)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:  # say where it is stuck, then fail
            self.proc.send_signal(signal.SIGABRT)
            self.proc.wait(30)
            time.sleep(0.5)  # the reader thread takes the last lines
            sys.exit("creditwise serve did not stop within 30 s of Ctrl-C; its threads were at:\n"
                     + "\n".join(self.lines[-80:]))


def measure(name: str, root: Path, edits: int, browser) -> dict[str, float]:
    server = Server(root)
    try:
        cold_ms = float(server.wait_for(r"built \d+ files .* in (\d+) ms", 5).group(1))
        guide = root / "content" / "guides" / f"{GUIDE}.md"
        original = guide.read_text(encoding="utf-8")
        page = browser.new_page()
        page.goto(server.url + f"guides/{GUIDE}/")
        reload_ms, rebuild_ms = [], []
        for n in range(edits):
            token = f"Benchmark edit {n} {time.time_ns()}"
            mark = len(server.lines)
            tmp = guide.with_name(f".{guide.name}.bench")
            tmp.write_text(original + f"\n{token}\n", encoding="utf-8")
            saved = time.time() * 1000
            os.replace(tmp, guide)
            page.wait_for_function(f"document.body && document.body.innerText.includes({token!r})", timeout=30_000,
                                   polling="raf")
            page.wait_for_load_state("load")
            loaded = page.evaluate("performance.timeOrigin + performance.getEntriesByType('navigation')[0].loadEventEnd")
            reload_ms.append(loaded - saved)
            rebuild_ms.append(float(server.wait_for(r"re-rendered \d+ guide pages in (\d+) ms", 30, mark).group(1)))
            time.sleep(0.3)  # let the next save be a burst of its own
        page.close()
        guide.write_text(original, encoding="utf-8")
    finally:
        server.stop()
    result = {"reload": statistics.median(reload_ms), "rebuild": statistics.median(rebuild_ms), "cold": cold_ms}
    print(f"preview {name}: guide edit → reloaded page, median of {edits}: {result['reload']:.0f} ms "
          f"(min {min(reload_ms):.0f}, max {max(reload_ms):.0f}; target ≤ 250 ms); guide rebuild median "
          f"{result['rebuild']:.0f} ms = {result['rebuild'] / cold_ms:.1%} of the cold build's {cold_ms / 1000:.2f} s "
          f"(target ≤ 5 %)", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events of the big site (default 1,000,000)")
    parser.add_argument("--edits", type=int, default=10, help="guide edits per site (default 10)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    sites = [("demo site", demo_site()), (f"{args.events:,}-event site", big_site(args.events))]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            results = [measure(name, root, args.edits, browser) for name, root in sites]
        finally:
            browser.close()
    ok = all(r["reload"] <= 250 and r["rebuild"] <= 0.05 * r["cold"] for r in results)
    print(f"preview: {'both targets met' if ok else 'a target was missed'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
