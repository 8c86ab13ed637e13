"""Every page of the site (SPEC §4) with its context, and the charts and tables those pages show.

The page list is the single source for the HTML, the CSV downloads (every `Table` in a page's context,
including each chart's table), the charts to draw, the sitemap and `api/site.json`'s list of pages.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from generator.report.model import Report
from generator.site.api.scopes import ScopeDocuments
from generator.site.guides import Guide
from generator.site.page import Page
from generator.site.tables import Table, Tables
from generator.site.views.charts import Chart
from generator.site.views.month import month_context
from generator.site.views.scope import feature_context, index_table, team_context
from generator.site.views.sections import data_quality_context, overview_context, plan_context, recommendations_context


def site_pages(report: Report, guides: Sequence[Guide] = (), scopes: ScopeDocuments | None = None) -> list[Page]:
    """`scopes`: the feature and team documents, shared with the JSON API so each is built once."""
    scopes = scopes or ScopeDocuments(report)
    titles = {g.slug: g.title for g in guides}
    guide_urls = {"guides/"} | {g.url for g in guides} if guides else set()
    out = [Page("index.html", "index.html", "Overview", overview_context(report))]
    for c in report.cycles:
        out.append(Page(f"months/{c.name}/index.html", "month.html", f"{c.cycle.start_date:%B %Y}", month_context(report, c)))
    a = report.analytics
    out.append(Page("features/index.html", "scopes.html", "Features",
                    {"kind": "feature", "tables": {"list": index_table(report, "feature")}}))
    for name, slug in a.feature_slugs.items():
        out.append(Page(f"features/{slug}/index.html", "feature.html", report.config.feature_label(name),
                        {"name": name, "label": report.config.feature_label(name),
                         **feature_context(report, scopes.feature(name), titles)}))
    out.append(Page("teams/index.html", "scopes.html", "Teams",
                    {"kind": "team", "tables": {"list": index_table(report, "team")}}))
    for name, slug in a.team_slugs.items():
        out.append(Page(f"teams/{slug}/index.html", "team.html", f"Team {report.config.team_label(name)}",
                        {"name": name, "label": report.config.team_label(name),
                         **team_context(report, scopes.team(name), titles)}))
    out.append(Page("plan/index.html", "plan.html", "Plan", plan_context(report)))
    out.append(Page("recommendations/index.html", "recommendations.html", "Recommendations",
                    recommendations_context(report, guide_urls)))
    out.append(Page("data-quality/index.html", "data_quality.html", "Data quality", data_quality_context(report)))
    out += guide_pages(guides)
    out.append(not_found_page(report))
    for page in out:
        page.context["tables"] = Tables(page.context.get("tables", {}))
    return out


def guide_pages(guides: Sequence[Guide]) -> list[Page]:
    """`guides/` and one page per guide; the preview server re-renders just these when a guide changes."""
    if not guides:
        return []
    out = [Page("guides/index.html", "guides.html", "Guides", {"guides": list(guides)})]
    return out + [Page(g.path, "guide.html", g.title, {"guide": g}) for g in guides]


def not_found_page(report: Report) -> Page:
    """Served for any missing path at any depth, so its links start from base_url (SPEC §4)."""
    return Page("404.html", "404.html", "Page not found", listed=False, base=report.config.site.base_url)


def page_charts(pages: Sequence[Page]) -> list[Chart]:
    """Every chart the pages show, once each (the overview shows the current month's cumulative chart too)."""
    seen: dict[str, Chart] = {}
    for page in pages:
        for chart in page.context.get("charts", {}).values():
            seen.setdefault(chart.path, chart)
    return [seen[p] for p in sorted(seen)]


def _tables(page: Page) -> Iterator[Table]:
    yield from page.context.get("tables", {}).values()
    yield from page.context.get("per_cycle", {}).values()
    for chart in page.context.get("charts", {}).values():
        yield chart.table


def page_tables(pages: Sequence[Page]) -> list[Table]:
    """Every table of the site, once each; two different tables wanting one CSV path is a bug."""
    seen: dict[str, Table] = {}
    for page in pages:
        ids = set()
        for t in _tables(page):
            if t.id in ids:
                raise RuntimeError(f"{page.path}: two tables with the anchor {t.id}")
            ids.add(t.id)
            if seen.setdefault(t.path, t) != t:
                raise RuntimeError(f"two different tables want {t.path}")
    return [seen[p] for p in sorted(seen)]
