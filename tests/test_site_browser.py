"""The demo site in a real browser, as a reader sees it on a phone (390 × 844) and a laptop (1280 × 800),
light and dark, and on paper:

- every page kind: no sideways scrolling of the page; every table fits or scrolls in a container that
  shows the cue with its first column held; no chart text under 11 px; no chart text overlapping
  another (legend, axis labels, notes) and no legend mark running into its label; axe-core finds no
  serious or critical violation;
- print emulation on an A4 page box: no table or chart wider than the page, every column shown;
- the overview's first screen holds the state sentence and the tier verdict;
- pages work with JavaScript off; the Nu HTML checker validates every page (`creditwise check` with vnu).

Needs Debian's chromium, the playwright package and `make node-deps` (axe-core and vnu-jar from npm, Java for
vnu); `.ci/run` installs them and sets CREDITWISE_REQUIRE_BROWSER=1, so there a missing piece fails instead
of skipping.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from browser import AXE, DESKTOP, LAYOUT_PROBLEMS, OPEN_ALL, PHONE, PRINT, PRINT_PROBLEMS, browser, missing, vnu_command

from conftest import run_cli
from generator.check import check_site

REQUIRED = os.environ.get("CREDITWISE_REQUIRE_BROWSER") == "1"
VIEWS = [("phone", PHONE, "light"), ("phone", PHONE, "dark"), ("laptop", DESKTOP, "light"), ("laptop", DESKTOP, "dark")]


def need(reason: str | None) -> None:
    if reason:
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "public"
    r = run_cli("build", "--output", str(out))
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def chromium():
    need(missing())
    with browser() as b:
        yield b


def main_pages(site: Path) -> list[str]:
    """One page of every kind: the overview, a current and a complete month, the feature and team lists and
    pages, plan, recommendations, data quality, the guides and a guide."""
    info = json.loads((site / "api/site.json").read_text(encoding="utf-8"))
    slugs = info["slugs"]
    return ["index.html", f"months/{info['current_cycle']}/index.html", f"months/{info['cycles'][0]}/index.html",
            "features/index.html", f"features/{next(iter(slugs['features'].values()))}/index.html",
            "teams/index.html", f"teams/{next(iter(slugs['teams'].values()))}/index.html", "plan/index.html",
            "recommendations/index.html", "data-quality/index.html", "guides/index.html", "guides/glossary/index.html"]


@pytest.mark.parametrize(("width", "viewport", "scheme"), VIEWS, ids=[f"{w}-{s}" for w, _, s in VIEWS])
def test_every_page_kind_fits_and_reads(demo, chromium, width, viewport, scheme):
    context = chromium.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    found, charts = [], 0
    for rel in main_pages(demo):
        page.goto((demo / rel).as_uri())
        found += [f"{rel}: {p}" for p in page.evaluate(LAYOUT_PROBLEMS)]
        page.evaluate(OPEN_ALL)  # and the tables folded away, once unfolded
        found += [f"{rel} (unfolded): {p}" for p in page.evaluate(LAYOUT_PROBLEMS) if "chart" not in p]
        charts += page.locator("figure.chart svg:visible").count()
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        for v in result["violations"]:
            if v["impact"] in ("serious", "critical"):
                targets = [n["target"] for n in v["nodes"][:3]]
                found.append(f"{rel}: {v['id']} ({v['impact']}): {v['help']} at {targets}")
    context.close()
    assert found == []
    assert charts >= 8  # the checks saw the charts: overview 2, months 2 each, a feature, a team, plan


def test_the_layout_checks_catch_what_they_look_for(chromium, tmp_path):
    """The checks above can fail: a page built to break each rule gets each problem named."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!doctype html><html lang="en"><body><main>'
        '<div style="width:2000px">wide</div>'
        '<div class="table-block" id="t-cut"><div class="table-wrap" style="overflow-x:auto">'
        '<p class="scroll-cue" style="display:none">cue</p><table><tbody><tr><td>a</td>'
        '<td style="min-width:3000px">b</td></tr></tbody></table></div></div>'
        '<figure class="chart"><svg viewBox="0 0 100 50" style="width:100px">'
        '<text x="0" y="20" style="font: 9px sans-serif">small</text>'
        '<text x="2" y="22" style="font: 9px sans-serif">onto it</text></svg></figure>'
        '</main></body></html>', encoding="utf-8")
    page = chromium.new_page(viewport=PHONE)
    page.goto(bad.as_uri())
    problems = "\n".join(page.evaluate(LAYOUT_PROBLEMS))
    page.close()
    assert "the page scrolls sideways" in problems
    assert "t-cut: scrolls sideways with no cue" in problems and "t-cut: scrolls, its first column not held" in problems
    assert '"small" at 9.0 px' in problems and '"small" overlaps "onto it"' in problems


def test_print_keeps_every_table_and_chart_inside_the_page_box(demo, chromium):
    context = chromium.new_context(viewport=PRINT)
    page = context.new_page()
    page.emulate_media(media="print")
    found = []
    for rel in main_pages(demo):
        page.goto((demo / rel).as_uri())
        found += [f"{rel}: {p}" for p in page.evaluate(PRINT_PROBLEMS)]
        # folded sections print unfolded, and the header says when the figures are from
        assert page.locator(".print-as-of").is_visible(), rel
        assert not page.locator(".site-header .balance").is_visible(), rel
    context.close()
    assert found == []


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "laptop"])
def test_the_overview_first_screen_holds_the_state_and_the_verdict(demo, chromium, viewport):
    page = chromium.new_page(viewport=viewport)
    page.goto((demo / "index.html").as_uri())
    for selector in ("#lead .state", "#lead .verdict"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["height"] > 0, selector
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], (selector, box)
    # the lead block is the first thing of the main content after the page's heading
    first = page.evaluate("() => document.querySelector('main h1').nextElementSibling.id")
    page.close()
    assert first == "lead"


def test_pages_read_the_same_with_javascript_off(demo, chromium):
    context = chromium.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    for rel in main_pages(demo)[:3]:
        page.goto((demo / rel).as_uri())
        assert page.locator("main h1").count() == 1
        # every chart is inline, labelled, and drawn (an SVG that failed to parse would have no size)
        images = page.locator("figure.chart .chart-image")
        assert images.count() == page.locator("figure.chart .chart-image[role=img][aria-label]").count() > 0
        widths = page.eval_on_selector_all("figure.chart svg", "s => s.map(e => e.getBoundingClientRect().width)")
        assert any(w > 0 for w in widths), rel
    context.close()


def test_every_page_validates_with_the_nu_checker(demo, monkeypatch):
    command = vnu_command()
    need(None if command else "the Nu HTML checker needs java and `make node-deps` (vnu-jar)")
    monkeypatch.setenv("CREDITWISE_VNU", command)
    result = check_site(demo)
    assert result.validator == "vnu"
    assert [str(p) for p in result.problems] == []
