"""sitemap.xml and feed.xml: the two files read outside the site, so their URLs start from base_url (SPEC §4).

Decisions (README "Feed and sitemap"):
- URLs are base_url + the page's directory URL, as given: with `https://intranet.example/reports/`
  they are absolute; with a path such as `/reports/` they are root-relative, which feed readers and
  crawlers resolve against the address they fetched the file from.
- Atom ids must be absolute IRIs and never change, so they do not depend on where the site is
  served: `urn:creditwise:<site>:cycle:<YYYY-MM>` and `urn:creditwise:<site>:alert:<alert id>`,
  where <site> is base_url without its scheme, made into a slug (two sites published side by side keep apart).
- `updated`: the feed's is the build time (SOURCE_DATE_EPOCH, else the data's as_of: site.api.values.build_time);
  a complete cycle's entry is dated its end, the current cycle's the build time; an alert is dated the
  day it was raised (local midnight), a projected alert, whose figures move with each build, the build time.
- Every text is XML-escaped (names are data); the XML is built with ElementTree, never by string pasting.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from generator import formatting as fmt
from generator.analytics.slugs import slugify
from generator.model.cycles import local_midnight
from generator.report.model import Report
from generator.site.api.values import build_time
from generator.site.page import Page

ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"


def absolute(report: Report, url: str) -> str:
    """A site-relative URL (e.g. "months/2026-05/") under base_url."""
    base = report.config.site.base_url
    return (base if base.endswith("/") else base + "/") + quote(url, safe="/#:@-._~")


def _xml(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def sitemap(report: Report, pages: Sequence[Page]) -> bytes:
    ET.register_namespace("", SITEMAP)
    root = ET.Element(f"{{{SITEMAP}}}urlset")
    for page in sorted((p for p in pages if p.listed), key=lambda p: p.url):
        url = ET.SubElement(root, f"{{{SITEMAP}}}url")
        ET.SubElement(url, f"{{{SITEMAP}}}loc").text = absolute(report, page.url)
    return _xml(root)


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _entry(feed: ET.Element, ident: str, title: str, link: str, updated: dt.datetime, summary: str,
           category: str, published: dt.datetime | None = None) -> None:
    e = ET.SubElement(feed, f"{{{ATOM}}}entry")
    ET.SubElement(e, f"{{{ATOM}}}id").text = ident
    ET.SubElement(e, f"{{{ATOM}}}title").text = title
    ET.SubElement(e, f"{{{ATOM}}}link", {"rel": "alternate", "type": "text/html", "href": link})
    ET.SubElement(e, f"{{{ATOM}}}updated").text = _stamp(updated)
    if published is not None:
        ET.SubElement(e, f"{{{ATOM}}}published").text = _stamp(published)
    ET.SubElement(e, f"{{{ATOM}}}category", {"term": category})
    ET.SubElement(e, f"{{{ATOM}}}summary").text = summary


def feed(report: Report) -> bytes:
    """One entry per cycle report and per alert, newest first."""
    ET.register_namespace("", ATOM)
    site = report.config.site
    built = build_time(report.as_of)
    tz = report.config.tz
    where = urlsplit(site.base_url)
    prefix = f"urn:creditwise:{slugify(where.netloc + where.path)}"
    root = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(root, f"{{{ATOM}}}id").text = f"{prefix}:feed"
    ET.SubElement(root, f"{{{ATOM}}}title").text = f"{site.title}: usage reports and alerts"
    ET.SubElement(root, f"{{{ATOM}}}updated").text = _stamp(built)
    ET.SubElement(root, f"{{{ATOM}}}link", {"rel": "self", "type": "application/atom+xml", "href": absolute(report, "feed.xml")})
    ET.SubElement(root, f"{{{ATOM}}}link", {"rel": "alternate", "type": "text/html", "href": absolute(report, "")})
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "Creditwise"
    ET.SubElement(root, f"{{{ATOM}}}generator").text = "Creditwise"

    entries: list[tuple[dt.datetime, str, dict]] = []
    currency = report.config.site.currency
    for c in report.cycles:
        month = f"{c.cycle.start_date:%B %Y}"
        if c.complete:
            ran_out = f"; ran out on {fmt.day(c.exhausted_on)}." if c.exhausted_on else "."
            summary = (f"{month}: {fmt.credits(c.used)} of {fmt.credits(c.allocation)} credits used ({fmt.pct(c.utilization)}), "
                       f"{fmt.credits(c.expired)} expired unused, cost {fmt.money(c.price, currency)}{ran_out}")
            updated = min(c.cycle.end, built)
            title = f"Usage report: {month}"
        else:
            projected = f"; on pace for {fmt.approx(c.pace.projected_used)} at the reset" if c.pace else ""
            summary = (f"{month} so far: {fmt.credits(c.used)} of {fmt.credits(c.allocation)} credits used "
                       f"({fmt.pct(c.utilization)}){projected}.")
            updated = built
            title = f"Usage report: {month} (in progress)"
        entries.append((updated, f"{prefix}:cycle:{c.name}", {
            "title": title, "link": absolute(report, f"months/{c.name}/"), "summary": summary, "category": "cycle-report",
            "published": c.cycle.start}))
    for a in report.analytics.alerts:
        raised = local_midnight(a.raised_on, tz)
        entries.append((built if a.projected else raised, f"{prefix}:alert:{quote(a.id, safe=':.-_')}", {
            "title": f"[{a.level}] {a.title} · {a.when}", "link": absolute(report, f"months/{a.cycle}/#alert-{a.id}"),
            "summary": a.detail, "category": a.kind, "published": None if a.projected else raised}))
    for updated, ident, e in sorted(entries, key=lambda x: (-x[0].timestamp(), x[1])):
        _entry(root, ident, e["title"], e["link"], updated, e["summary"], e["category"], e["published"])
    return _xml(root)
