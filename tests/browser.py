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
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# An A4 page's box at the stylesheet's 12 mm margins: 210 − 24 mm = 186 mm at 96 CSS px per inch.
PRINT = {"width": 703, "height": 1035}

# Layout problems of the page shown, as sentences (empty: none). Run with page.evaluate(LAYOUT_PROBLEMS).
# - the page scrolls sideways (scrollWidth > innerWidth);
# - a table wider than its box whose scroll container shows no cue, or whose first column is not held;
# - chart text rendered smaller than 11 px (font size × the SVG's scale on screen);
# - two texts of a chart overlapping (legend entries, axis labels, notes), or a legend's line or mark
#   running into a legend label.
LAYOUT_PROBLEMS = """async () => {
  // scroll-state container queries (the cue) settle after a frame or two
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  const out = [];
  const de = document.documentElement;
  if (de.scrollWidth > innerWidth) out.push(`the page scrolls sideways: ${de.scrollWidth} px > ${innerWidth} px`);
  const shown = el => el.checkVisibility({visibilityProperty: true, contentVisibilityAuto: true});
  for (const t of document.querySelectorAll('main table')) {
    if (!shown(t)) continue;
    const wrap = t.closest('.table-wrap');
    const name = (t.closest('.table-block') || {}).id || (t.caption ? t.caption.textContent : 'a table');
    if (!wrap) {
      if (t.scrollWidth > t.clientWidth + 1 || t.getBoundingClientRect().right > innerWidth + 0.5)
        out.push(`${name}: wider than its box, with no scroll container`);
      continue;
    }
    if (wrap.scrollWidth <= wrap.clientWidth + 1) continue;
    const cue = wrap.querySelector('.scroll-cue');
    if (!cue || !shown(cue) || cue.getBoundingClientRect().width < 10) out.push(`${name}: scrolls sideways with no cue`);
    const first = t.querySelector('tbody tr > :first-child');
    if (first && getComputedStyle(first).position !== 'sticky') out.push(`${name}: scrolls, its first column not held`);
  }
  const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5 &&
                            Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;
  document.querySelectorAll('figure.chart svg').forEach((svg, i) => {
    if (!shown(svg)) return;
    const chart = `chart ${i + 1} (${svg.closest('.chart-narrow') ? 'narrow' : 'wide'})`;
    const texts = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim());
    for (const t of texts) {
      const m = t.getScreenCTM();
      const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
      if (px < 11 - 0.01) out.push(`${chart}: "${t.textContent}" at ${px.toFixed(1)} px`);
    }
    const boxes = texts.map(t => [t.textContent, t.getBoundingClientRect()]);
    for (let a = 0; a < boxes.length; a++)
      for (let b = a + 1; b < boxes.length; b++)
        if (overlap(boxes[a][1], boxes[b][1])) out.push(`${chart}: "${boxes[a][0]}" overlaps "${boxes[b][0]}"`);
    for (const legend of svg.querySelectorAll('g[id$="legend_1"]')) {
      const labels = [...legend.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()]);
      for (const mark of legend.querySelectorAll('path, use')) {
        const r = mark.getBoundingClientRect();
        for (const [text, box] of labels) if (overlap(r, box)) out.push(`${chart}: a legend mark runs into "${text}"`);
      }
    }
  });
  return out;
}"""

# Every fold opened, as a reader who wants all of it would.
OPEN_ALL = "() => document.querySelectorAll('details').forEach(d => { d.open = true; })"

# Tables and charts reaching past the page box in print emulation (viewport = PRINT).
PRINT_PROBLEMS = """() => {
  const out = [];
  const de = document.documentElement;
  if (de.scrollWidth > innerWidth) out.push(`the page is wider than the paper: ${de.scrollWidth} px > ${innerWidth} px`);
  for (const el of document.querySelectorAll('main table, figure.chart svg, figure.chart img')) {
    if (!el.getClientRects().length) continue;
    const r = el.getBoundingClientRect();
    const name = (el.closest('.table-block, figure') || el).id || el.tagName.toLowerCase();
    if (r.right > innerWidth + 0.5 || r.left < -0.5) out.push(`${name}: ${Math.round(r.width)} px, past the page box`);
    const wrap = el.closest('.table-wrap');
    if (wrap && wrap.scrollWidth > wrap.clientWidth + 1)
      out.push(`${name}: columns cut off (${wrap.scrollWidth} > ${wrap.clientWidth} px)`);
  }
  return out;
}"""


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
