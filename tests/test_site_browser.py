"""The demo site in a real browser: axe-core finds no serious or critical accessibility violation on the main
page kinds (light at desktop width, dark at phone width), pages work with JavaScript off, and the Nu HTML
checker validates every page (`creditwise check` with vnu).

Needs Debian's chromium, the playwright package and `make node-deps` (axe-core and vnu-jar from npm, Java for
vnu); `.ci/run` installs them and sets CREDITWISE_REQUIRE_BROWSER=1, so there a missing piece fails instead
of skipping.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from browser import AXE, DESKTOP, PHONE, browser, missing, vnu_command

from conftest import run_cli
from generator.check import check_site

REQUIRED = os.environ.get("CREDITWISE_REQUIRE_BROWSER") == "1"


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


def main_pages(site: Path) -> list[str]:
    info = json.loads((site / "api/site.json").read_text(encoding="utf-8"))
    slugs = info["slugs"]
    return ["index.html", f"months/{info['current_cycle']}/index.html", f"months/{info['cycles'][0]}/index.html",
            "features/index.html", f"features/{next(iter(slugs['features'].values()))}/index.html",
            "teams/index.html", f"teams/{next(iter(slugs['teams'].values()))}/index.html", "plan/index.html",
            "recommendations/index.html", "data-quality/index.html", "guides/index.html", "guides/glossary/index.html"]


def test_axe_finds_no_serious_or_critical_violations(demo):
    need(missing())
    found = []
    with browser() as b:
        for scheme, viewport in (("light", DESKTOP), ("dark", PHONE)):
            context = b.new_context(viewport=viewport, color_scheme=scheme, java_script_enabled=True)
            page = context.new_page()
            for rel in main_pages(demo):
                page.goto((demo / rel).as_uri())
                page.add_script_tag(path=str(AXE))
                result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
                for v in result["violations"]:
                    if v["impact"] in ("serious", "critical"):
                        targets = [n["target"] for n in v["nodes"][:3]]
                        found.append(f"{scheme} {rel}: {v['id']} ({v['impact']}): {v['help']} at {targets}")
            context.close()
    assert found == []


def test_pages_read_the_same_with_javascript_off(demo):
    need(missing())
    with browser() as b:
        context = b.new_context(viewport=DESKTOP, java_script_enabled=False)
        page = context.new_page()
        for rel in main_pages(demo)[:3]:
            page.goto((demo / rel).as_uri())
            assert page.locator("main h1").count() == 1
            assert page.locator("figure.chart img").count() == page.locator("figure.chart img[alt]").count()
            # every chart image loaded (an SVG that failed to parse would have no natural width)
            widths = page.eval_on_selector_all("figure.chart img", "imgs => imgs.map(i => i.naturalWidth)")
            assert all(w > 0 for w in widths), rel
        context.close()


def test_every_page_validates_with_the_nu_checker(demo, monkeypatch):
    command = vnu_command()
    need(None if command else "the Nu HTML checker needs java and `make node-deps` (vnu-jar)")
    monkeypatch.setenv("CREDITWISE_VNU", command)
    result = check_site(demo)
    assert result.validator == "vnu"
    assert [str(p) for p in result.problems] == []
