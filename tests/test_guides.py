"""Guidance pages: shipped guides, site overrides, placeholders from site.toml, errors, the sandbox."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

import pytest

from conftest import BASIC_TOML, REPO, csv_text, event
from generator.config import load_config
from generator.errors import ConfigError
from generator.resources import GUIDES
from generator.site.guides import load_guides

SHIPPED = {"tier-selection", "reading-your-usage", "edit-vs-regenerate", "upscaling", "batch-generation",
           "choosing-models", "knowledge-base", "document-enhancements", "chat-context",
           "budgets-and-daily-targets", "weekly-review", "end-of-cycle-credits", "team-coordination", "roi",
           "glossary", "alerts", "recommendations"}


def write_guide(root: Path, slug: str, text: str) -> Path:
    path = root / "content" / "guides" / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(site) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_guides(load_config(site.config))
    return [str(p) for p in exc.value.problems]


def test_shipped_guides_are_exactly_the_known_ones():
    assert {p.stem for p in GUIDES.glob("*.md")} == SHIPPED


@pytest.mark.parametrize("toml", ["basic", "demo"])
def test_every_shipped_guide_renders_with_a_title_and_working_links(site, toml):
    # The basic site has no [roi] and no [budgets]: guides must not assume them.
    config = load_config(REPO / "site.toml" if toml == "demo" else site.config)
    guides = load_guides(config)
    assert {g.slug for g in guides} == SHIPPED
    known = {g.path for g in guides} | {"index.html", "plan/index.html"}
    for g in guides:
        assert g.title and g.summary and g.html.strip(), g.slug
        assert "{{" not in g.html and "{%" not in g.html, g.slug  # every placeholder was filled
        assert not re.search(r"\d{10}", g.html), g.slug  # `a * b | credits` repeats a string: parenthesise
        assert g.source_path.parent == GUIDES
        for href in re.findall(r'href="([^"#]*)', g.html):
            target = posixpath.normpath(posixpath.join(f"guides/{g.slug}", href))
            assert target in known, f"{g.slug}: link {href} goes nowhere"


def test_site_guide_overrides_a_shipped_one_and_adds_its_own(site):
    own = write_guide(site.root, "tier-selection",
                      "---\ntitle: Our tier policy\nsummary: Ask finance.\norder: 1\n---\nAsk **finance**.\n")
    write_guide(site.root, "house-rules", "---\ntitle: House rules\norder: 2\n---\n## Images\n\nEdit first.\n")
    guides = load_guides(load_config(site.config))
    by_slug = {g.slug: g for g in guides}
    assert set(by_slug) == SHIPPED | {"house-rules"}
    assert by_slug["tier-selection"].title == "Our tier policy"
    assert by_slug["tier-selection"].html == "<p>Ask <strong>finance</strong>.</p>"
    assert by_slug["tier-selection"].source_path == own
    assert by_slug["house-rules"].headings == (("images", "Images"),)
    assert by_slug["house-rules"].summary == ""
    assert [g.slug for g in guides[:2]] == ["tier-selection", "house-rules"]  # order 1, 2, then the shipped 10…


def test_placeholders_take_the_sites_thresholds(site):
    site.config.write_text(BASIC_TOML + "\n[thresholds]\nupgrade_utilization = 0.75\nbaseline_cycles = 4\n",
                           encoding="utf-8")
    write_guide(site.root, "ours", "---\ntitle: Ours\n---\nUpgrade at {{ thresholds.upgrade_utilization | pct }}, "
                                   "smallest tier {{ tiers[0].monthly_credits | credits }}.\n")
    by_slug = {g.slug: g for g in load_guides(load_config(site.config))}
    assert by_slug["ours"].html == "<p>Upgrade at 75.0%, smallest tier 100.</p>"
    assert "utilization of 75.0% or more" in by_slug["glossary"].html
    assert "The last 4 complete cycles" in by_slug["glossary"].html


@pytest.mark.parametrize(("text", "expected"), [
    ("title: No fence\n---\nBody\n", "content/guides/bad.md:1: front matter: missing: does the file start with a '---' line"),
    ("---\ntitle: Open\nBody\n", "content/guides/bad.md:3: front matter: expected 'key: value', got 'Body'"),
    ("---\ntitle: Open\n", "content/guides/bad.md:1: front matter: no closing '---' line"),
    ("---\nsummary: No title\n---\nBody\n", "content/guides/bad.md:1: front matter: 'title' is missing or empty"),
    ("---\ntitle: T\n\norder: first\n---\n", "content/guides/bad.md:4: front matter: order must be a whole number, got 'first'"),
    ("---\ntitle: T\ntitel: U\n---\n", "content/guides/bad.md:3: front matter: unknown key 'titel'; the keys are title, "),
    ("---\ntitle: T\ntitle: U\n---\n", "content/guides/bad.md:3: front matter: 'title' is given twice"),
])
def test_bad_front_matter_names_file_and_line(site, text, expected):
    write_guide(site.root, "bad", text)
    assert any(p.startswith(expected) for p in problems_of(site)), problems_of(site)


def test_bad_front_matter_stops_the_build_with_exit_2(site):
    site.write_export("jan.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5)]))
    write_guide(site.root, "bad", "# Bad\n\nNo front matter.\n")
    r = site.build()
    assert r.returncode == 2
    assert "content/guides/bad.md:1: front matter: missing: does the file start with a '---' line" in r.stderr
    assert "Traceback" not in r.stderr and not site.out.exists()


@pytest.mark.parametrize(("body", "line", "reason"), [
    ("Fine.\n\n{{ thresholds.upgrade_utilisation | pct }}\n", 6, "has no attribute 'upgrade_utilisation'"),
    ("{% if %}\n", 4, "template: "),
    ("Ratio {{ 1 / 0 }}\n", 4, "ZeroDivisionError"),
])
def test_template_errors_name_the_guide_and_line(site, body, line, reason):
    write_guide(site.root, "broken", "---\ntitle: Broken\n---\n" + body)
    (problem,) = problems_of(site)
    assert problem.startswith(f"content/guides/broken.md:{line}: template: "), problem
    assert reason in problem


@pytest.mark.parametrize("expr", ["thresholds.__class__.__mro__", "site.title.__class__.__base__.__subclasses__()",
                                  "tiers.__class__", "cycler.__init__.__globals__"])
def test_guides_cannot_reach_python_internals(site, expr):
    write_guide(site.root, "escape", "---\ntitle: Escape\n---\n{{ " + expr + " }}\n")
    (problem,) = problems_of(site)
    assert problem.startswith("content/guides/escape.md:4: template: ") and "unsafe" in problem, problem


def test_guide_file_names_must_be_slugs(site):
    write_guide(site.root, "Team_Rules", "---\ntitle: T\n---\n")
    (problem,) = problems_of(site)
    assert problem.startswith("content/guides/Team_Rules.md: guide name: 'Team_Rules' is not a valid slug")


def test_guide_pages_in_a_build(site):
    site.write_export("jan.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5)]))
    write_guide(site.root, "house-rules", "---\ntitle: House <rules>\nsummary: Ours & only ours.\norder: 1\n---\n"
                                          "| a | b |\n|---|---|\n| 1 | 2 |\n\n```toml\nx = 1\n```\n")
    r = site.build()
    assert r.returncode == 0, r.stderr
    index = (site.out / "guides/index.html").read_text()
    listed = re.findall(r'<a href="\.\./guides/([a-z0-9-]+)/index\.html">', index)
    assert listed[:3] == ["house-rules", "tier-selection", "reading-your-usage"] and listed[-1] == "glossary"
    assert len(listed) == len(SHIPPED) + 1
    assert "House &lt;rules&gt;" in index and "Ours &amp; only ours." in index  # front matter is text, escaped
    page = (site.out / "guides/house-rules/index.html").read_text()
    assert '<a href="../../index.html">Overview</a> › <a href="../../guides/index.html">Guides</a> › House &lt;rules&gt;' in page
    assert "<table>" in page and '<code class="language-toml">x = 1' in page
    assert '<a href="../../guides/index.html">Guides</a></li>' in page  # in the main nav
    assert "guides/house-rules/" in site.json("api/site.json")["pages"]


def test_a_cached_guide_is_rendered_again_when_its_file_or_a_setting_it_shows_changes(site, monkeypatch):
    """Rendered guides are reused between builds (.creditwise/cache/guides.pickle) only while their file,
    the settings their placeholders may use and the code are what they were."""
    path = write_guide(site.root, "house-rules", "---\ntitle: House rules\n---\nThe site is {{ site.title }}.\n")

    def html() -> str:
        return next(g.html for g in load_guides(load_config(site.config)) if g.slug == "house-rules")

    first = html()
    assert (site.root / ".creditwise" / "cache" / "guides.pickle").is_file()
    with monkeypatch.context() as m:  # unchanged: every guide comes from the cache, none is rendered
        m.setattr("generator.site.guides.render_guide", lambda *a: pytest.fail(f"rendered again: {a[0]}"))
        assert html() == first
    title = load_config(site.config).site.title
    site.config.write_text(site.config.read_text(encoding="utf-8").replace(f'title = "{title}"', 'title = "Renamed"', 1),
                           encoding="utf-8")
    assert "The site is Renamed." in html()
    path.write_text("---\ntitle: House rules\n---\nEdited.\n", encoding="utf-8")
    assert "Edited." in html()
