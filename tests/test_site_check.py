"""`creditwise check`: a built site passes; each kind of breakage is one located line and exit 4."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest

from conftest import BASIC_TOML, csv_text, event, run_cli
from generator.check import check_site

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Extra</title>
<link rel="stylesheet" href="{root}assets/style.css"></head>
<body>
<main id="top">
{body}
</main>
</body>
</html>
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("checked")
    (root / "site.toml").write_text(BASIC_TOML, encoding="utf-8")
    (root / "exports").mkdir()
    (root / "exports" / "a.csv").write_text(csv_text([
        event("e1", "2026-01-05T10:00:00Z", 30), event("e2", "2026-02-03T09:00:00Z", 12, feature="chat",
                                                       operation="response", team="support"),
    ]), encoding="utf-8")
    r = run_cli("build", "--config", str(root / "site.toml"), "--output", str(root / "public"), "-q")
    assert r.returncode == 0, r.stderr
    return root / "public"


@pytest.fixture
def site(built, tmp_path) -> Path:
    copy = tmp_path / "public"
    shutil.copytree(built, copy)
    return copy


def lines(site: Path) -> list[str]:
    return [str(p) for p in check_site(site).problems]


def add_page(site: Path, rel: str, body: str) -> None:
    (site / rel).parent.mkdir(parents=True, exist_ok=True)
    root = "/r/" if rel == "404.html" else "../" * rel.count("/")
    (site / rel).write_text(PAGE.format(body=body, root=root), encoding="utf-8")


def test_a_built_site_passes_and_the_cli_says_what_it_checked(built):
    r = run_cli("check", str(built))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"Checked {built}: no problems in ")
    result = check_site(built)
    pages = sorted(p.relative_to(built).as_posix() for p in built.rglob("*.html"))
    assert result.pages == len(pages) and "months/2026-02/index.html" in pages
    assert result.links > 0


def test_broken_links_assets_and_fragments_are_located(site):
    add_page(site, "extra/index.html", "\n".join([
        '<a href="../months/2026-01/">ok: directory URL</a>',         # line 7
        '<a href="../months/2026-01">ok: directory without slash</a>',
        '<a href="../plan/index.html#nowhere">bad fragment</a>',
        '<a href="#top">ok: on this page</a> <a href="#gone">bad</a>',  # line 10
        '<img src="../charts/missing.svg" alt="">',
        '<a href="../../outside.html">escapes</a>',
        '<a href="https://aethera.example/docs">another site: not checked</a>',
        '<a href="mailto:finance@example.com">mail</a>',
    ]))
    assert lines(site) == [
        "extra/index.html:9: href=\"../plan/index.html#nowhere\": no element with id 'nowhere' in plan/index.html",
        "extra/index.html:10: href=\"#gone\": no element with id 'gone' on this page",
        'extra/index.html:11: src="../charts/missing.svg": no such file in the site: charts/missing.svg',
        'extra/index.html:12: href="../../outside.html": points outside the site',
    ]


def test_a_missing_stylesheet_is_reported_on_every_page_that_uses_it(site):
    (site / "assets" / "style.css").unlink()
    problems = lines(site)
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert len(problems) == len(pages)
    assert all("no such file in the site: assets/style.css" in p for p in problems)
    assert any(p.startswith('months/2026-01/index.html:') and 'href="../../assets/style.css"' in p for p in problems)


def test_css_urls_are_checked(site):
    with (site / "assets" / "style.css").open("a", encoding="utf-8") as f:
        f.write('\n.logo { background: url("../img/logo.png") }\n.ok { background: url(data:image/png;base64,AAAA) }\n')
    n = (site / "assets" / "style.css").read_text(encoding="utf-8").count("\n") - 1  # the logo line
    assert lines(site) == [f'assets/style.css:{n}: url()="../img/logo.png": no such file in the site: img/logo.png']


def test_absolute_links_only_in_sitemap_feed_and_404(site):
    add_page(site, "extra/index.html", '<a href="/r/plan/">base_url</a>\n<a href="/elsewhere/">root-relative</a>')
    add_page(site, "404.html", '<a href="/r/">home</a> <a href="/r/months/2026-02/">Feb</a> <a href="/r/gone/">x</a>'
                              '\n<a href="#top">ok</a> <a href="plan/">relative</a>')
    (site / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        "<url><loc>/r/</loc></url><url><loc>/r/plan/</loc></url><url><loc>/r/months/2099-01/</loc></url>\n"
        "<url><loc>https://other.example/x/</loc></url>\n</urlset>\n", encoding="utf-8")
    (site / "feed.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>\n'
        '<link href="/r/feed.xml" rel="self"/><entry><link href="/r/months/2026-01/"/></entry></feed>\n',
        encoding="utf-8")
    assert lines(site) == [
        "404.html:7: href=\"/r/gone/\": no such file in the site: gone/",
        "404.html:8: href=\"plan/\": relative link in 404.html, which is served for missing paths at any depth; "
        "use base_url",
        "extra/index.html:7: href=\"/r/plan/\": absolute link into the site; make it relative "
        "(only 404.html, feed.xml, sitemap.xml may use base_url)",
        "extra/index.html:8: href=\"/elsewhere/\": root-relative link; links must be relative so the site works "
        "under any path prefix (base_url is '/r/')",
        "sitemap.xml: <loc>=\"/r/months/2099-01/\": no such file in the site: months/2099-01/",
        "sitemap.xml: <loc>=\"https://other.example/x/\": not under base_url '/r/'",
    ]


def test_html_parse_errors_and_bad_xml(site):
    add_page(site, "extra/index.html", "<p>unclosed <div>\n</span>")
    (site / "charts" / "broken.svg").write_text("<svg><g></svg>", encoding="utf-8")
    problems = lines(site)
    assert problems[0].startswith("charts/broken.svg:1: not well-formed XML: mismatched tag")
    assert problems[1:] == ["extra/index.html:8: col 7: HTML parse error: Unexpected end tag (span). Ignored.",
                            "extra/index.html:9: col 7: HTML parse error: End tag (main) seen too early. "
                            "Expected other end tag."]


def test_json_api_shape(site):
    def edit(rel: str, change) -> None:
        doc = json.loads((site / rel).read_text(encoding="utf-8"))
        change(doc)
        (site / rel).write_text(json.dumps(doc), encoding="utf-8")

    def month(doc: dict) -> None:
        doc.update(used="12", burn_rate=None)  # February is the current cycle: burn_rate must be a number
        del doc["daily"][0]["credits"]

    edit("api/plan.json", lambda d: d.pop("signal"))
    edit("api/months/2026-02.json", month)
    edit("api/site.json", lambda d: d.update(cycles=[*d["cycles"], "2026-03"], pages=[*d["pages"], "teams/x/"]))
    (site / "api" / "alerts.json").write_text(json.dumps([
        {"id": "a1", "kind": "threshold", "level": "warning", "cycle": "2026-02", "date": "2026-02-03",
         "scope": "subscription", "title": "50 % used", "detail": None},
        {"id": "a2", "kind": "meteor", "level": "fatal", "title": "?"},
    ]), encoding="utf-8")
    (site / "api" / "recommendations.json").write_text('{"items": []}', encoding="utf-8")
    (site / "api" / "broken.json").write_text('{"a": NaN}', encoding="utf-8")
    assert lines(site) == [
        "api/alerts.json: [1].cycle: missing (SPEC §4 names this field)",
        "api/alerts.json: [1].date: missing (SPEC §4 names this field)",
        "api/alerts.json: [1].scope: missing (SPEC §4 names this field)",
        "api/alerts.json: [1].detail: missing (SPEC §4 names this field)",
        "api/alerts.json: [1].kind: 'meteor' is not one of budget-overrun, consumption-warning, exhausted, "
        "expiring-credits, spike, threshold, tier-switch-due",
        "api/alerts.json: [1].level: 'fatal' is not one of critical, info, warning",
        "api/broken.json: not valid JSON: NaN is not JSON",
        "api/months/2026-02.json: burn_rate: is null, expected number",
        "api/months/2026-02.json: daily[0].credits: missing (SPEC §4 names this field)",
        "api/months/2026-02.json: used: is string, expected number",
        "api/plan.json: signal: missing (SPEC §4 names this field)",
        "api/recommendations.json: is object, expected array",
        "api/site.json: cycles: no api/months/2026-03.json for cycle '2026-03'",
        "api/site.json: pages: 'teams/x/': no such page in the site",
    ]


def test_cli_exit_4_one_line_per_problem_and_a_count(site):
    (site / "plan" / "index.html").unlink()
    r = run_cli("check", str(site))
    assert r.returncode == 4
    err = r.stderr.splitlines()
    assert err[-1].startswith(f"creditwise check: {len(err) - 1} problems in {site} (")
    assert "api/site.json: pages: 'plan/': no such page in the site" in err
    assert all(": " in line for line in err[:-1])
    assert run_cli("check", str(site / "nope")).returncode == 4


def test_a_validator_runs_when_installed(site, monkeypatch, tmp_path):
    # A stand-in for the Nu checker that reports one error in its GNU output format.
    fake = tmp_path / "vnu"
    fake.write_text('#!/bin/sh\necho "\\"file:$PWD/index.html\\":3.1-3.5: error: Stray tag."; exit 1\n', encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("CREDITWISE_VNU", str(fake))
    result = check_site(site)
    assert [str(p) for p in result.problems] == ["index.html:3: vnu: Stray tag."]
    assert result.validator == "vnu"
    monkeypatch.setenv("CREDITWISE_VNU", "none")
    assert check_site(site).problems == [] and "no vnu validator" in check_site(site).summary()
