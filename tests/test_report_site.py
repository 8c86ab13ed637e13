"""The report site (SPEC §4) built from a small hostile site: every page kind, numbers equal to the JSON API,
a CSV beside every table, sitemap and feed under base_url, hostile names harmless in HTML, SVG, XML and CSV,
distinct slugs, and the chart cache."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_site import BASE_URL, FORMULA_MEMBER, FORMULA_TEAM, MARKUP_MODEL, SCRIPT_TEAM, write_site

from conftest import REPO, run_cli, tree_bytes
from generator import formatting as fmt
from generator.check import check_site
from generator.config import DEFAULT_FEATURE_LABELS
from generator.site.downloads import csv_value, neutralise, table_csv
from generator.site.render import fmt_cell
from generator.site.tables import table

ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report")
    config = write_site(root)
    r = run_cli("build", "-c", str(config), "-o", str(root / "public"))
    assert r.returncode == 0, r.stderr
    return root / "public"


def api(site: Path, rel: str):
    return json.loads((site / rel).read_text(encoding="utf-8"))


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name}: no UTF-8 byte-order mark"
    assert b"\r\n" in raw, f"{path.name}: not CRLF"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


class Tables(HTMLParser):
    """Each <table>: its rows of cell texts and the CSV link of the table block around it (outside guide articles)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self.depth_guide = 0
        self.stack: list[str] = []
        self.cell: list[str] | None = None
        self.block: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.stack.append(tag)
        if tag == "article" and "guide" in (a.get("class") or ""):
            self.depth_guide += 1
        if tag == "div" and a.get("class") == "table-block":
            self.block = {"id": a.get("id"), "rows": [], "csv": None, "in_guide": bool(self.depth_guide)}
        elif tag == "table" and self.block is None:
            self.tables.append({"id": None, "rows": [], "csv": None, "in_guide": bool(self.depth_guide)})
        elif tag == "tr" and self.block is not None:
            self.block["rows"].append([])
        elif tag in ("td", "th") and self.block is not None:
            self.cell = []
            self.cell_class = a.get("class")
        elif tag == "a" and self.block is not None and "download" in a:
            self.block["csv"] = a.get("href")

    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()
        if tag == "article" and self.depth_guide:
            self.depth_guide -= 1
        if tag in ("td", "th") and self.cell is not None and self.block is not None:
            self.block["rows"][-1].append(" ".join("".join(self.cell).split()))
            self.block.setdefault("classes", []).append(self.cell_class)
            self.cell = None
        if tag == "p" and self.block is not None and self.block["csv"]:
            self.tables.append(self.block)
            self.block = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def page_tables(path: Path) -> list[dict]:
    p = Tables()
    p.feed(path.read_text(encoding="utf-8"))
    return p.tables


# --- pages --------------------------------------------------------------------------------------


def test_every_page_kind_exists(built):
    site = api(built, "api/site.json")
    slugs = site["slugs"]
    expected = ["index.html", "plan/index.html", "recommendations/index.html", "data-quality/index.html",
                "features/index.html", "teams/index.html", "guides/index.html", "404.html", "sitemap.xml", "feed.xml",
                "api/alerts.json", "api/recommendations.json", "api/plan.json", "api/data-quality.json"]
    expected += [f"months/{c}/index.html" for c in site["cycles"]] + [f"api/months/{c}.json" for c in site["cycles"]]
    expected += [f"features/{s}/index.html" for s in slugs["features"].values()]
    expected += [f"api/features/{s}.json" for s in slugs["features"].values()]
    expected += [f"teams/{s}/index.html" for s in slugs["teams"].values()]
    expected += [f"api/teams/{s}.json" for s in slugs["teams"].values()]
    missing = [p for p in expected if not (built / p).is_file()]
    assert not missing
    # api/site.json lists every page (SPEC §4) except 404.html, and only pages that exist
    assert "404.html" not in site["pages"]
    assert all((built / (u + "index.html" if u.endswith("/") or not u else u)).is_file() for u in site["pages"])


def test_teams_that_slugify_alike_get_distinct_pages_and_documents(built):
    slugs = api(built, "api/site.json")["slugs"]["teams"]
    assert slugs["design"] == "design"  # spelled like its slug: keeps it
    assert slugs["Design"].startswith("design-") and slugs["Design"] != "design"
    assert len(set(slugs.values())) == len(slugs)
    for name, slug in slugs.items():
        doc = api(built, f"api/teams/{slug}.json")
        assert doc["team"] == name and doc["url"] == f"teams/{slug}/"
        html = (built / f"teams/{slug}/index.html").read_text(encoding="utf-8")
        assert f'href="../../api/teams/{slug}.json"' in html
    # January: design 30 + 10 − 2 (refund) = 38, Design 20 (hand-computed, see report_site.py)
    jan = api(built, "api/months/2026-01.json")["by_team"]
    assert jan["design"] == 38 and jan["Design"] == 20
    assert api(built, f"api/teams/{slugs['Design']}.json")["cycles"][0]["credits"] == 20


def test_every_page_links_home_states_as_of_and_its_data(built):
    for page in sorted(built.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        rel = page.relative_to(built).as_posix()
        assert 'aria-label="Main"' in html, rel
        assert "Data as of <time datetime=\"2026-03-10T12:00:00+00:00\">" in html, rel
        assert "built from 12 events in 1 export file" in html, rel
        # the current balance in the header: 100 − 28 = 72 of 100 in March
        assert "<strong>72</strong> of 100 credits left" in html, rel
        if rel not in ("index.html", "404.html"):
            assert 'aria-label="Breadcrumb"' in html, rel


def test_404_links_start_from_base_url(built):
    html = (built / "404.html").read_text(encoding="utf-8")
    assert f'href="{BASE_URL}assets/style.css"' in html
    assert f'href="{BASE_URL}index.html"' in html
    assert 'href="../' not in html


def test_the_built_site_passes_creditwise_check(built):
    result = check_site(built)
    assert [str(p) for p in result.problems] == []
    assert result.links > 500


# --- numbers: pages, CSV and JSON agree ------------------------------------------------------------


def test_month_tables_equal_the_month_json(built):
    for cycle in api(built, "api/site.json")["cycles"]:
        doc = api(built, f"api/months/{cycle}.json")
        daily = read_csv(built / f"months/{cycle}/daily.csv")
        assert daily[0] == ["date", "credits", "daily_target", "spike"]
        assert [(r[0], float(r[1])) for r in daily[1:]] == [(d["date"], d["credits"]) for d in doc["daily"]]
        features = read_csv(built / f"months/{cycle}/features.csv")
        assert {r[0]: float(r[1]) for r in features[1:]} == doc["by_feature"]
        thresholds = read_csv(built / f"months/{cycle}/thresholds.csv")
        assert {float(r[0]): r[2] or None for r in thresholds[1:]} == {float(k): v for k, v in doc["thresholds"].items()}
        html = (built / f"months/{cycle}/index.html").read_text(encoding="utf-8")
        assert f"<dt>Used</dt><dd>{fmt_cell(doc['used'], 'credits')}" in html
        assert f"<dt>Remaining</dt><dd>{fmt_cell(doc['remaining'], 'credits')}" in html
    # February ran out on the 20th (60 + 45 = 105 ≥ 100), hand-computed
    feb = api(built, "api/months/2026-02.json")
    assert feb["exhausted_on"] == "2026-02-20"
    assert "<dt>Ran out</dt><dd>Fri 20 Feb 2026" in (built / "months/2026-02/index.html").read_text(encoding="utf-8")


def test_cycles_plan_and_recommendation_tables_equal_the_json(built):
    cycles = read_csv(built / "cycles.csv")
    for row in cycles[1:]:
        doc = api(built, f"api/months/{row[0]}.json")
        assert (float(row[3]), float(row[4]), float(row[5])) == (doc["allocation"], doc["used"], doc["utilization"])
    plan = api(built, "api/plan.json")
    tiers = read_csv(built / "plan/tiers.csv") if (built / "plan/tiers.csv").exists() else [[]]
    assert [(r[0], float(r[5])) for r in tiers[1:]] == [(t["name"], t["annual_cost"]) for t in plan["tiers"]]
    recs = api(built, "api/recommendations.json")
    ranked = read_csv(built / "recommendations/recommendations.csv")
    assert ranked[0][:3] == ["rank", "title", "category"]
    assert [(r[1], r[2], float(r[4]) if r[4] else None) for r in ranked[1:]] == [
        (neutralise(x["title"]), x["category"], x["estimated_monthly_savings"]) for x in recs]


def test_team_and_feature_pages_equal_their_json(built):
    site = api(built, "api/site.json")
    for kind in ("teams", "features"):
        for slug in site["slugs"][kind].values():
            doc = api(built, f"api/{kind}/{slug}.json")
            trend = read_csv(built / f"{kind}/{slug}/trend.csv")
            assert [(r[0], float(r[1])) for r in trend[1:]] == [(c["cycle"], c["credits"]) for c in doc["cycles"]]
            html = (built / f"{kind}/{slug}/index.html").read_text(encoding="utf-8")
            assert f"<dd>{fmt_cell(doc['cycles'][-1]['credits'], 'credits')}" in html, (kind, slug)


def test_every_table_has_its_csv_with_the_same_rows_columns_and_values(built):
    checked = values = 0
    for page in sorted(built.rglob("*.html")):
        for t in page_tables(page):
            if t["in_guide"]:
                continue  # a guide's own Markdown tables are prose, not data
            where = f"{page.relative_to(built)} {t['id']}"
            assert t["csv"], f"{where}: no CSV link"
            target = (page.parent / t["csv"]) if not t["csv"].startswith("http") else None
            assert target is not None and target.is_file(), f"{where}: {t['csv']} missing"
            rows = read_csv(target)
            html_rows = t["rows"]
            assert len(rows) == len(html_rows), f"{where}: {len(html_rows)} HTML rows, {len(rows)} CSV rows"
            assert all(len(a) == len(b) for a, b in zip(rows, html_rows, strict=True)), where
            classes = iter(t["classes"][len(html_rows[0]):])  # the header row's cells come first
            for n, (raw_row, shown_row) in enumerate(zip(rows[1:], html_rows[1:], strict=True), start=2):
                for key, raw, shown in zip(rows[0], raw_row, shown_row, strict=True):
                    cls = next(classes)
                    # a feature's CSV cell keeps its name, the page its display name (the JSON API's keys stay raw)
                    label = DEFAULT_FEATURE_LABELS.get(raw)
                    assert shown_as(raw, shown, cls) or shown == label, f"{where} row {n} {key}: CSV {raw!r}, page {shown!r}"
                    values += 1
            checked += 1
    assert checked > 50 and values > 1000


NUMBER = re.compile(r"([+−-]?)([\d,]*\.?\d+)(%| pts|×)?")


def shown_as(raw: str, shown: str, cls: str | None) -> bool:
    """Whether a page cell shows the CSV's raw value: the same text (a formula-like one with its leading `'`
    in the CSV only), a number rounded the way the page shows it (ratios as percentages), a date spelled out."""
    if raw == "":
        return shown == fmt.NONE
    if cls == "date":
        value = dt.datetime.fromisoformat(raw) if "T" in raw else dt.date.fromisoformat(raw)
        return shown == fmt.day(value)
    if cls == "num" and (m := NUMBER.fullmatch(shown)):
        sign, digits, unit = m.groups()
        number = float(digits.replace(",", "")) * (-1 if sign in ("−", "-") and sign else 1)
        expected = float(raw) * (100 if unit in ("%", " pts") else 1)
        decimals = len(digits.partition(".")[2])
        return abs(expected - number) <= 0.5 * 10 ** -decimals + 1e-9
    if raw in ("true", "false"):
        return shown == ("yes" if raw == "true" else "no")
    text = " ".join(raw.split())
    return shown in (text, text.removeprefix("'")) and (shown == text or neutralise(shown) == text)


# --- sitemap and feed ------------------------------------------------------------------------------


def test_sitemap_lists_every_page_under_base_url(built):
    root = ET.fromstring((built / "sitemap.xml").read_bytes())
    locs = [e.text for e in root.iter(f"{SM}loc")]
    pages = api(built, "api/site.json")["pages"]
    assert locs == sorted(BASE_URL + p for p in pages)
    assert all(u.startswith(BASE_URL) for u in locs)


def test_feed_has_one_entry_per_cycle_and_alert_with_stable_ids(built, tmp_path):
    feed = ET.fromstring((built / "feed.xml").read_bytes())
    entries = feed.findall(f"{ATOM}entry")
    cycles = api(built, "api/site.json")["cycles"]
    alerts = api(built, "api/alerts.json")
    assert len(entries) == len(cycles) + len(alerts)
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == len(ids)
    assert "urn:creditwise:intranet-example-reports:cycle:2026-02" in ids
    assert {f"urn:creditwise:intranet-example-reports:alert:{a['id']}" for a in alerts} <= set(ids)
    assert feed.findtext(f"{ATOM}updated") == "2026-03-10T12:00:00Z"  # build time: no epoch, so the data's as_of
    for e in entries:
        link = e.find(f"{ATOM}link").get("href")
        assert link.startswith(BASE_URL)
        target = link[len(BASE_URL):].split("#")[0]
        assert (built / target / "index.html").is_file()
        assert e.findtext(f"{ATOM}updated")
    # the same data built elsewhere: the same ids (feed readers see nothing new)
    again = tmp_path / "again"
    r = run_cli("build", "-c", str(built.parent / "site.toml"), "-o", str(again))
    assert r.returncode == 0
    assert [e.findtext(f"{ATOM}id") for e in ET.fromstring((again / "feed.xml").read_bytes()).findall(f"{ATOM}entry")] == ids


def test_feed_with_a_path_base_url_uses_it_as_is(tmp_path):
    root = tmp_path / "s"
    config = write_site(root)
    config.write_text(config.read_text(encoding="utf-8").replace(BASE_URL, "/reports/"), encoding="utf-8")
    r = run_cli("build", "-c", str(config), "-o", str(root / "out"))
    assert r.returncode == 0, r.stderr
    feed = ET.fromstring((root / "out/feed.xml").read_bytes())
    assert all(link.get("href").startswith("/reports/") for link in feed.iter(f"{ATOM}link"))
    assert feed.findtext(f"{ATOM}id") == "urn:creditwise:reports:feed"


# --- hostile names --------------------------------------------------------------------------------


def test_hostile_names_are_harmless_in_html(built):
    for page in sorted(built.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        assert "<script" not in html, page
        assert "<img src=x" not in html and "<b>site</b>" not in html, page
    team = api(built, "api/site.json")["slugs"]["teams"][SCRIPT_TEAM]
    html = (built / f"teams/{team}/index.html").read_text(encoding="utf-8")
    assert "Team &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Report &lt;b&gt;site&lt;/b&gt; &amp; co" in html


def test_hostile_names_are_text_in_svg_and_feed(built):
    for svg in sorted(built.rglob("*.svg")):
        root = ET.fromstring(svg.read_bytes())  # well-formed: names were escaped
        tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
        assert not tags & {"script", "foreignObject", "img", "iframe"}, svg
        text = svg.read_text(encoding="utf-8")
        assert "<script" not in text and "<img" not in text, svg
        assert "<dc:date>" not in text  # deterministic: no date in the file
    team_slug = api(built, "api/site.json")["slugs"]["teams"][SCRIPT_TEAM]
    # the chart is inlined in its page as the file was written (checked above); the name is in its caption, escaped
    team_page = (built / f"teams/{team_slug}/index.html").read_text(encoding="utf-8")
    assert (built / f"teams/{team_slug}/trend.svg").read_text(encoding="utf-8") in team_page
    caption = team_page.split('<figure class="chart">', 1)[1].split("</figcaption>", 1)[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in caption and SCRIPT_TEAM not in caption
    feed = ET.fromstring((built / "feed.xml").read_bytes())
    assert "Report <b>site</b> & co" in feed.findtext(f"{ATOM}title")  # escaped on the wire, intact when parsed


def test_hostile_names_are_neutralised_in_csv_and_numbers_stay_numbers(built):
    teams = read_csv(built / "months/2026-01/teams.csv")
    names = [r[0] for r in teams[1:]]
    assert "'" + FORMULA_TEAM in names and SCRIPT_TEAM in names
    slug = api(built, "api/site.json")["slugs"]["teams"][FORMULA_TEAM]
    members = read_csv(built / f"teams/{slug}/members.csv")
    assert members == [["member", "credits", "events", "share"], ["'" + FORMULA_MEMBER, "3", "1", "1"]]
    models = read_csv(built / "features/image/models.csv")
    assert all(not r[0].startswith(("=", "+", "-", "@")) for r in models[1:])
    # the refund (−2 credits) is a number, never prefixed
    ops = read_csv(built / "features/image/operations.csv")
    assert ops[0][0] == "operation"
    cost = read_csv(built / "features/image/cost-per-operation.csv")
    assert cost[0][:2] == ["operation", "model"]
    jan_cost = [r for r in read_csv(built / "cycles-by-feature.csv")[1:] if r[0] == "2026-01"]
    assert jan_cost == [["2026-01", "150", "78", "10", "68"]]  # 30 + 20 + 12 + 8 − 2 = 68 image, 10 chat


def test_csv_neutralisation_rules():
    assert [neutralise(s) for s in ("=1+1", "+1", "-1", "@x", "\tx", "\rx", "plain", "a=b")] == \
        ["'=1+1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "plain", "a=b"]
    from decimal import Decimal

    assert [csv_value(v) for v in (Decimal("-2"), -2.5, Decimal("1.50"), None, True, "-2")] == \
        ["-2", "-2.5", "1.5", "", "true", "'-2"]
    t = table("x.csv", "X", [("=name", "Name"), ("credits", "Credits", "credits")], [[FORMULA_MEMBER, Decimal("-3")]])
    assert table_csv(t) == ("\ufeff'=name,credits\r\n'" + FORMULA_MEMBER + ",-3\r\n").encode("utf-8")


def test_the_markup_model_and_formula_member_reach_the_json_intact(built):
    image = api(built, "api/features/image.json")
    assert MARKUP_MODEL in image["cycles"][0]["by_model"]
    slug = api(built, "api/site.json")["slugs"]["teams"][FORMULA_TEAM]
    assert [m["member"] for m in api(built, f"api/teams/{slug}.json")["cycles"][0]["members"]] == [FORMULA_MEMBER]
    assert '"' + MARKUP_MODEL.replace('"', '\\"') + '"' in (built / "api/features/image.json").read_text(encoding="utf-8")


# --- data quality ------------------------------------------------------------------------------------


def test_data_quality_page_lists_the_quarantined_row(built):
    rows = read_csv(built / "data-quality/quarantined.csv")
    assert rows[0] == ["file", "line", "column", "reason", "event_id"]
    assert len(rows) == 2 and rows[1][0].endswith("usage.csv") and rows[1][1] == "14" and rows[1][2] == "credits"
    assert rows[1][4] == "bad1"
    files = read_csv(built / "data-quality/files.csv")
    assert files[1][1:] == ["13", "12", "0", "1"]  # 13 rows read = 12 counted + 0 duplicates + 1 left out
    index = (built / "index.html").read_text(encoding="utf-8")
    assert "<strong>1 row left out</strong>" in index


# --- charts ----------------------------------------------------------------------------------------


def test_every_chart_has_title_summary_and_table(built):
    for page in ("index.html", "months/2026-02/index.html", "teams/design/index.html", "plan/index.html"):
        html = (built / page).read_text(encoding="utf-8")
        assert html.count('<figure class="chart">') == html.count("<figcaption><strong>") > 0
        assert html.count('<figure class="chart">') == html.count('<details class="chart-data">')


def test_chart_cache_reuses_svgs_and_a_cached_build_never_imports_matplotlib(tmp_path):
    root = tmp_path / "s"
    config = write_site(root)

    def run(out: str) -> list:
        script = ("import sys, json; from generator.pipeline.build import build; from generator.config import load_config; "
                  f"r = build(load_config({str(config)!r}), {str(root / out)!r}); "
                  "print(json.dumps([r.chart_stats.cached, r.chart_stats.drawn, 'matplotlib' in sys.modules]))")
        done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "CREDITWISE_CHART_WORKERS": "1"})
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    cached, drawn, imported = run("one")
    assert (cached, imported) == (0, True) and drawn > 10
    assert run("two") == [drawn, 0, False]  # another output folder: a full build, every chart from the cache
    assert tree_bytes(root / "two") == tree_bytes(root / "one")  # a cached chart is the same bytes as a drawn one
    # one more event in March changes March's charts and the cross-cycle ones, nothing else
    export = root / "exports/usage.csv"
    export.write_text(export.read_text(encoding="utf-8") +
                      "m3,2026-03-09T09:00:00Z,ana@example.com,design,image,edit,,1,,,\n", encoding="utf-8")
    cached, redrawn, _ = run("three")
    assert 0 < redrawn < drawn and cached + redrawn == drawn
    assert len(list((root / ".creditwise/cache/charts").glob("*.svg"))) == drawn  # the stale ones were pruned
