"""Everything from site.toml is data: a tier name, a budget key or the title reach guide pages as text,
never as markup or a link, and `creditwise check` refuses a built page that would run a script."""

from __future__ import annotations

import pytest

from conftest import BASIC_TOML, csv_text, event, run_cli

HOSTILE_TIER = "<img src=x onerror=alert(1)>"
HOSTILE_TEAM = "[click](javascript:alert(2))"
HOSTILE_TITLE = "<script>alert(3)</script> | *bold*"


@pytest.fixture
def hostile(site):
    toml = BASIC_TOML.replace('title = "Test site"', f'title = "{HOSTILE_TITLE}"')
    toml = toml.replace('name = "M"', f'name = "{HOSTILE_TIER}"')
    toml += f'\n[budgets]\nteams = {{ "{HOSTILE_TEAM}" = 50, design = 80 }}\n'
    site.config.write_text(toml, encoding="utf-8")
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5),
                                         event("e2", "2026-01-06T10:00:00Z", 4, team=HOSTILE_TEAM)]))
    r = site.build()
    assert r.returncode == 0, r.stderr
    return site


def test_site_toml_values_reach_guides_as_text(hostile):
    pages = {p.relative_to(hostile.out).as_posix(): p.read_text(encoding="utf-8")
             for p in hostile.out.rglob("*.html")}
    for rel, html in pages.items():
        assert "<img src=x" not in html and "<script>" not in html, rel
        assert 'href="javascript:' not in html, rel
    tier_guide = pages["guides/tier-selection/index.html"]
    assert "| &lt;img src=x onerror=alert(1)&gt; |" not in tier_guide  # the table kept its shape
    assert "<td>&lt;img src=x onerror=alert(1)&gt;</td>" in tier_guide
    team_guide = pages["guides/team-coordination/index.html"]
    assert "<td>[click](javascript:alert(2))</td>" in team_guide  # the text, not a link


def test_check_passes_the_hostile_site_and_refuses_an_injected_script(hostile):
    ok = run_cli("check", str(hostile.out))
    assert ok.returncode == 0, ok.stderr
    page = hostile.out / "guides" / "tier-selection" / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace("</main>", '<img src=x onerror="alert(1)"></main>'),
                    encoding="utf-8")
    bad = run_cli("check", str(hostile.out))
    assert bad.returncode == 4
    assert "guides/tier-selection/index.html:" in bad.stderr
    assert "script: an event handler attribute onerror=: Creditwise pages have none" in bad.stderr


def test_a_chart_label_that_reads_like_svg_ids_or_colours_is_drawn_as_written():
    # The chart's ids get a prefix of their own (two charts inlined in one page never share one) and its colours
    # become theme variables; a series label with such text is character data, not markup: unchanged.
    from generator.charts.draw import stacked_cycle_bars
    from generator.charts.style import CATEGORIES

    label = f'see #patch_1) or url(#p1) and id="patch_2", fill="{CATEGORIES[0]}" {CATEGORIES[1]}'
    wide, narrow = stacked_cycle_bars(["2026-01", "2026-02"], [{"label": label, "values": [3, 4], "bottoms": [0, 0]}],
                                      None, None, "credits")
    for svg in (wide, narrow):
        assert f">{label}</text>" in svg, svg[:2000]
        markup = svg.replace(f">{label}<", "")
        assert 'id="patch_' not in markup and 'fill="#' not in markup  # every real id prefixed, colour a style
        assert "var(--cw-" in markup
