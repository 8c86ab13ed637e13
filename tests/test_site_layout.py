"""The page structure the stylesheet lays out, checked in the built demo site without a browser: charts inlined
in two drawings with the page's colours, today / run-out / the likely range / "so far" marked from the JSON's
figures, ids unique on every page, "This month" marked only on the current cycle's page, the printed
header's "as of", and the overview's lead block first. (tests/test_site_browser.py looks at them rendered.)
"""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from conftest import REPO
from generator.charts.draw import legend_columns
from generator.config import load_config
from generator.pipeline.build import build
from generator.site.views.charts import cumulative_chart

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("layout") / "public"
    result = build(load_config(REPO / "site.toml"), out)
    return out, result.report


def page(out: Path, rel: str) -> str:
    return (out / rel).read_text(encoding="utf-8")


def svg_texts(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]


def inline_svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


def test_charts_are_inlined_twice_scaling_with_the_page_colours(demo):
    out, _ = demo
    html = page(out, "index.html")
    svgs = inline_svgs(html)
    assert len(svgs) == 2 * html.count('<figure class="chart">') == 4  # a wide and a narrow drawing of each
    assert html.count('<div class="chart-wide">') == html.count('<div class="chart-narrow">') == 2
    for svg in svgs:
        head = svg[: svg.index(">")]
        assert "viewBox=" in head and " width=" not in head and " height=" not in head  # scales to its box
        assert "var(--cw-used, #0072b2)" in svg  # colours follow the page (dark mode), light ones as fallback
        assert not re.search(r'(fill|stroke)="#', svg)
    # the files beside the page hold the same two drawings
    assert (out / "charts/credits-by-feature.svg").read_text(encoding="utf-8") in html
    assert (out / "charts/credits-by-feature-narrow.svg").read_text(encoding="utf-8") in html


def test_every_id_on_a_page_is_unique(demo):
    out, _ = demo
    info = json.loads(page(out, "api/site.json"))
    for rel in ("index.html", f"months/{info['current_cycle']}/index.html", "plan/index.html", "teams/design/index.html"):
        ids = Counter(re.findall(r'\bid="([^"]+)"', page(out, rel)))
        assert [i for i, n in ids.items() if n > 1] == [], rel


def test_the_current_cycle_chart_marks_today_run_out_and_the_likely_range_from_the_json(demo):
    out, report = demo
    info = json.loads(page(out, "api/site.json"))
    month = json.loads(page(out, f"api/months/{info['current_cycle']}.json"))
    as_of = dt.datetime.fromisoformat(info["as_of"]).date()
    run_out = dt.date.fromisoformat(month["projected_exhaustion"])
    for name in ("cumulative.svg", "cumulative-narrow.svg"):
        texts = svg_texts(page(out, f"months/{month['cycle']}/{name}"))
        assert f"today, {as_of:%-d %b}" in texts
        assert f"projected run-out, {run_out:%-d %b}" in texts
        assert "80% likely range" in texts
    # the band widens from today's used to the forecast's bounds at the reset, the JSON's figures
    args = cumulative_chart(report, report.current).args
    last = dt.datetime.fromisoformat(month["end"]).date() - dt.timedelta(days=1)
    assert args["band"] == [(as_of, month["used"], month["used"]),
                            (last, month["projected_used_low"], month["projected_used_high"])]
    assert args["projection"] == [(as_of, month["used"]), (last, month["projected_used"])]
    # a complete cycle has none of them
    first = info["cycles"][0]
    texts = svg_texts(page(out, f"months/{first}/cumulative.svg"))
    assert not [t for t in texts if t.startswith(("today", "projected", "80% likely"))]


def test_the_cycle_in_progress_is_striped_and_says_so_far(demo):
    out, _ = demo
    for rel in ("charts/credits-by-feature.svg", "charts/utilization-narrow.svg", "teams/design/trend.svg"):
        svg = page(out, rel)
        assert svg_texts(svg).count("so far") == 1, rel
        assert "in progress, so far" in svg_texts(svg) and "<pattern" in svg, rel


def test_chart_titles_are_shown_once(demo):
    out, _ = demo
    html = page(out, "index.html")
    title = "Credits per billing cycle, by feature"
    assert title not in "".join(svg_texts(page(out, "charts/credits-by-feature.svg")))
    visible = re.sub(r'<span class="visually-hidden">.*?</span>|<caption\b.*?</caption>', "", html, flags=re.S)
    assert visible.count(title) == 1


def test_this_month_is_marked_only_on_the_current_cycle_page(demo):
    out, _ = demo
    info = json.loads(page(out, "api/site.json"))
    this_month = re.compile(r'<li( class="in-section")?><a href="[./]*months/[^"]+"( aria-current="page")?>This month</a>')
    current = this_month.search(page(out, f"months/{info['current_cycle']}/index.html"))
    assert current and current.group(2)
    for rel in (f"months/{info['cycles'][0]}/index.html", "index.html", "plan/index.html"):
        other = this_month.search(page(out, rel))
        assert other and not other.group(1) and not other.group(2), rel


def test_the_printed_header_says_as_of(demo):
    out, _ = demo
    info = json.loads(page(out, "api/site.json"))
    for rel in (f"months/{info['cycles'][0]}/index.html", "index.html"):
        html = page(out, rel)
        assert f'<p class="print-as-of">Figures as of <time datetime="{info["as_of"]}">' in html, rel


def test_the_overview_leads_with_state_verdict_and_top_saving(demo):
    out, _ = demo
    html = page(out, "index.html")
    main = html[html.index('<main id="main">'):]
    lead = main[main.index("</h1>") + len("</h1>"):].lstrip()
    assert lead.startswith('<section class="lead" id="lead"')
    section = lead[: lead.index("</section>")]
    assert section.index('<p class="state">') < section.index('class="verdict') < section.index('<p class="top-saving">')
    plan = page(out, "plan/index.html")
    assert plan[plan.index("</h1>"):].split("<p", 1)[1].startswith(' class="verdict')


def test_month_sections_a_reader_rarely_needs_fold(demo):
    out, _ = demo
    info = json.loads(page(out, "api/site.json"))
    html = page(out, f"months/{info['cycles'][0]}/index.html")
    for section in ("thresholds", "expired", "recommendations"):
        assert re.search(rf'<details>\s*<summary><h2 id="{section}">', html), section
    assert '<h2 id="summary">' in html and not re.search(r'<summary><h2 id="summary">', html)


def test_legend_columns_fit_the_width():
    # Each label of 10 characters is estimated at 10 × 0.62 × 9 = 55.8 pt, plus the handle and its gap
    # (1.8 + 0.5) × 9 = 20.7 pt: 76.5 pt a column, and 1.4 × 9 = 12.6 pt between columns; 12 pt of margin.
    # 4 columns: 4 × 76.5 + 3 × 12.6 = 343.8 pt, so they fit from 355.8 pt; 3 columns (2 + 1 + 1 entries):
    # 3 × 76.5 + 2 × 12.6 = 254.7 pt.
    labels = ["x" * 10] * 4
    assert legend_columns(labels, 356) == 4
    assert legend_columns(labels, 355) == 3
    assert legend_columns(labels, 266.7) == 3
    assert legend_columns(labels, 266.6) == 2
    assert legend_columns(["x" * 200], 100) == 1
