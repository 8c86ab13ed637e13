"""Whole builds: the demo site, determinism, relative links, escaping, the atomic swap."""

from __future__ import annotations

import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import REPO, csv_text, event, run_cli, tree_bytes


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "public"
    r = run_cli("build", "--output", str(out))
    assert r.returncode == 0, r.stderr
    assert f"into {out}" in r.stdout and "Open " in r.stdout
    return out


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.refs.append(value)


def test_demo_site_has_every_foundation_page(demo):
    site = json.loads((demo / "api/site.json").read_text())
    # 14 cycles, 13 of them complete: enough for the seasonal index
    assert site["cycles"] == [f"2025-{m}" for m in ("10", "11", "12")] + [f"2026-{m:02d}" for m in range(1, 12)]
    assert site["current_cycle"] == "2026-11"
    for cycle in site["cycles"]:
        assert (demo / f"months/{cycle}/index.html").is_file()
        assert (demo / f"api/months/{cycle}.json").is_file()
    for path in ("index.html", "plan/index.html", "api/plan.json", "assets/style.css"):
        assert (demo / path).is_file()
    assert site["pages"][:2] == ["", "months/2025-10/"]


def test_every_internal_link_resolves_and_is_relative(demo):
    for page in demo.rglob("*.html"):
        if page.name == "404.html":  # served at any depth: its links start from base_url (SPEC §4)
            continue
        parser = Links()
        parser.feed(page.read_text())
        for ref in parser.refs:
            assert not re.match(r"^(/|[a-z]+:)", ref), f"{page}: absolute link {ref}"
            target = (page.parent / ref.split("#")[0]).resolve()
            assert target.exists(), f"{page.relative_to(demo)}: broken link {ref}"
            assert demo.resolve() in target.parents or target == demo.resolve()


def test_pages_show_the_api_figures(demo):
    # The header balance and the month summary come from the same model as the JSON.
    month = json.loads((demo / "api/months/2026-08.json").read_text())
    html = (demo / "months/2026-08/index.html").read_text()
    assert month["exhausted_on"] == "2026-08-27"
    assert "Thu 27 Aug 2026" in html
    assert f"{month['used']:,}" in html
    current = json.loads((demo / "api/months/2026-11.json").read_text())
    index = (demo / "index.html").read_text()
    assert f"<strong>{current['remaining']:,}</strong> of {current['allocation']:,} credits left" in index
    plan = json.loads((demo / "api/plan.json").read_text())
    assert plan["signal"] == "upgrade" and plan["recommended_tier"] == "Enterprise"
    assert "<strong>upgrade</strong> from Business to\n  <strong>Enterprise</strong>" in index  # the sizing rule, beside
    assert plan["decision"]["action"] == "switch-by" and plan["decision"]["tier"] == "Enterprise"
    assert plan["seasonal_index"] is not None and set(plan["seasonal_index"]) == {f"{m:02d}" for m in range(1, 13)}


def test_two_builds_are_byte_identical(demo, tmp_path):
    out = tmp_path / "again"
    r = run_cli("build", "--output", str(out))
    assert r.returncode == 0
    assert tree_bytes(out) == tree_bytes(demo)


def test_source_date_epoch_is_honoured(site):
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5)]))
    assert site.build().returncode == 0
    assert site.json("api/site.json")["generated_at"] == "2026-01-05T10:00:00+00:00"  # no epoch: the data's as_of
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "generator", "build", "-q", "-c", str(site.config), "-o", str(site.out)],
                   cwd=REPO, env=env, check=True)
    assert site.json("api/site.json")["generated_at"] == "2026-01-01T00:00:00+00:00"


def test_hostile_names_are_escaped(site):
    rows = [event("e1", "2026-01-05T10:00:00Z", 5, team="<script>alert(1)</script>", feature="=HYPERLINK(\"x\")")]
    site.write_export("a.csv", csv_text(rows))
    assert site.build().returncode == 0
    html = (site.out / "months/2026-01/index.html").read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert site.json("api/months/2026-01.json")["by_team"] == {"<script>alert(1)</script>": 5}


def test_stale_files_do_not_survive_a_rebuild(site):
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5)]))
    assert site.build().returncode == 0
    (site.out / "stale.html").write_text("old")
    assert site.build().returncode == 0
    assert not (site.out / "stale.html").exists()
    assert not [p for p in site.root.iterdir() if p.name.startswith(".public.")]


def test_site_without_theme_or_content_uses_the_bundled_ones(site):
    # The fixture site lives in a temp dir with no themes/: the shipped default theme applies.
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5)]))
    assert site.build().returncode == 0
    assert (site.out / "assets/style.css").read_bytes() == (REPO / "themes/default/static/style.css").read_bytes()


def test_demo_data_command_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli("demo-data", "--out", str(a)).returncode == 0
    assert run_cli("demo-data", "--out", str(b)).returncode == 0
    assert tree_bytes(a) == tree_bytes(b) == tree_bytes(REPO / "content/exports")
    shutil.rmtree(a)


def test_help_lists_commands_and_exit_codes():
    r = run_cli("--help")
    assert r.returncode == 0
    for word in ("build", "serve", "check", "publish", "demo-data", "exit codes"):
        assert word in r.stdout


def test_a_broken_template_names_its_file_and_line(site):
    # The site's own copy of the theme, with a mistake on the first line of the overview template.
    shutil.copytree(REPO / "themes", site.root / "themes")
    index = site.root / "themes/default/templates/index.html"
    index.write_text("{{ no_such_thing.attr }}\n" + index.read_text())
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5)]))
    r = site.build()
    assert r.returncode == 2
    assert r.stderr.startswith("themes/default/templates/index.html:1: template: 'no_such_thing' is undefined")
    assert "Traceback" not in r.stderr
    assert not site.out.exists()
