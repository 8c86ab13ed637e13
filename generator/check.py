"""`creditwise check`: is a built site whole before anyone reads it?

Walks every file of the site, so pages added later are checked without changes here:
- every internal link and asset (HTML attributes, CSS `url()`, SVG hrefs, sitemap and feed
  URLs) resolves to a file, and a `#fragment` on a page to an element id;
- every HTML page parses without errors (html5lib, the WHATWG algorithm) and, where the Nu
  validator (`vnu`) is installed, validates;
- XML and SVG are well-formed, JSON parses, and the API documents SPEC §4 names have its fields;
- no absolute link into the site except in sitemap.xml, feed.xml and 404.html (SPEC §4: everything
  else is relative so the site works under any path prefix).
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import html5lib
from html5lib.constants import E as HTML5_MESSAGES

from generator.errors import Problem

# Files whose links must be absolute (they are read outside the site: by crawlers, feed readers,
# and by the server for any missing path at any depth).
ABSOLUTE_OK = {"sitemap.xml", "feed.xml", "404.html"}

URL_ATTRS = {"href", "src", "poster", "data", "action", "cite"}
SRCSET_ATTRS = {"srcset", "imagesrcset"}
CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)|@import\s+(['"])(.*?)\3""")
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

# SPEC §4 field lists, with the JSON kinds each must have (None allowed where marked "?").
MONTH_FIELDS = {"cycle": "str", "start": "str", "end": "str", "complete": "bool", "tier": "str",
                "allocation": "num", "used": "num", "remaining": "num", "utilization": "num?",
                "expired": "num?", "exhausted_on": "str?", "thresholds": "dict", "by_feature": "dict",
                "by_team": "dict", "daily": "list", "cost": "num"}
CURRENT_MONTH_FIELDS = {"burn_rate": "num", "projected_used": "num", "projected_exhaustion": "str?",
                        "sustainable_daily_rate": "num?", "shortfall": "num", "shortfall_cost": "num?",
                        "projected_unused": "num"}
PLAN_FIELDS = {"current_tier": "str", "recommended_tier": "str?", "signal": "str", "baseline": "list",
               "average": "num?", "peak": "num?", "growth_per_month": "num?", "projected": "num?",
               "required": "num?", "indicators": "dict|list", "exceeds_largest_tier": "bool", "decision": "dict",
               "seasonal_index": "dict?"}
SITE_FIELDS = {"as_of": "str", "cycles": "list", "features": "list", "teams": "list", "pages": "list"}
LIST_DOCS = {
    "api/recommendations.json": {"id": "str", "kind": "str", "category": "str", "title": "str",
                                 "scope": "str|dict|list?", "estimated_monthly_savings": "num?",
                                 "estimated_monthly_savings_money": "num?", "credits_at_stake": "num?",
                                 "evidence": "dict|list|str"},
    "api/alerts.json": {"id": "str", "kind": "str", "level": "str", "cycle": "str?", "date": "str?",
                        "scope": "str|dict|list?", "title": "str", "detail": "str?"},
}
ALERT_KINDS = {"threshold", "consumption-warning", "exhausted", "spike", "budget-overrun", "expiring-credits",
               "tier-switch-due"}
ALERT_LEVELS = {"info", "warning", "critical"}


@dataclass
class Link:
    line: int | None
    attr: str  # what carried it, for the message: `href`, `url()`, `<loc>`
    url: str


@dataclass
class CheckResult:
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    pages: int = 0
    links: int = 0
    validator: str | None = None  # the external validator that ran, if any

    def summary(self) -> str:
        v = f"validated with {self.validator}" if self.validator else "parsed with html5lib (no vnu validator found)"
        return f"{self.files} files, {self.pages} pages ({v}), {self.links} internal links"


class _LinkCollector(HTMLParser):
    """Every URL-bearing attribute with its line, and every id a fragment can point to."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[Link] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (name == "name" and tag == "a"):
                self.ids.add(value)
            elif name in URL_ATTRS or name == "xlink:href":
                if not (tag == "form" and name == "action" and not value):
                    self.links.append(Link(line, name, value.strip()))
            elif name in SRCSET_ATTRS:
                for candidate in value.split(","):
                    if candidate.strip():
                        self.links.append(Link(line, name, candidate.split()[0]))

    handle_startendtag = handle_starttag


def check_site(site: Path) -> CheckResult:
    site = Path(site)
    result = CheckResult()
    if not site.is_dir():
        result.problems.append(Problem(str(site), None, "", "no such directory (build the site first: make site)"))
        return result
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    result.files = len(files)
    present = set(files)
    base_url = _base_url(site)
    ids: dict[str, set[str]] = {}
    links: dict[str, list[Link]] = {}
    for rel in files:
        path = site / rel
        suffix = path.suffix.lower()
        if suffix == ".html":
            result.pages += 1
            data = path.read_bytes()
            result.problems += _html_problems(rel, data)
            collector = _LinkCollector()
            collector.feed(data.decode("utf-8", errors="replace"))
            ids[rel], links[rel] = collector.ids, collector.links
        elif suffix == ".css":
            links[rel] = _css_links(path.read_text(encoding="utf-8", errors="replace"))
        elif suffix in (".svg", ".xml"):
            found, problem = _xml_links(rel, path.read_bytes())
            links[rel] = found
            if problem:
                result.problems.append(problem)
        elif suffix == ".json":
            result.problems += _json_problems(rel, path, site, present)
    for required in ("index.html", "api/site.json", "api/plan.json"):
        if required not in present:
            result.problems.append(Problem(required, None, "", "missing (SPEC §4)"))
    for rel, found in links.items():
        for link in found:
            problem, internal = _link_problem(rel, link, present, ids, base_url)
            result.links += internal
            if problem:
                result.problems.append(problem)
    validator_problems, result.validator = _validate_html(site, [f for f in files if f.endswith(".html")])
    result.problems += validator_problems
    result.problems.sort(key=lambda p: (p.file, p.line or 0))
    return result


# --- links --------------------------------------------------------------------------------


def _base_url(site: Path) -> str | None:
    try:
        value = json.loads((site / "api" / "site.json").read_text(encoding="utf-8")).get("base_url")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


def _link_problem(rel: str, link: Link, present: set[str], ids: dict[str, set[str]],
                  base_url: str | None) -> tuple[Problem | None, int]:
    """(problem or None, 1 if the link points into the site else 0)."""
    where = f'{link.attr}="{link.url}"'

    def problem(reason: str) -> tuple[Problem, int]:
        return Problem(rel, link.line, where, reason), 1

    url = link.url
    parts = urlsplit(url)
    if parts.scheme and parts.scheme not in ("http", "https"):
        return None, 0  # mailto:, data:, tel:, javascript: — nothing to resolve
    may_be_absolute = rel in ABSOLUTE_OK
    if parts.scheme or parts.netloc or url.startswith("/"):
        if base_url and url.startswith(base_url):
            if not may_be_absolute:
                return problem(f"absolute link into the site; make it relative (only {', '.join(sorted(ABSOLUTE_OK))} "
                               "may use base_url)")
            target, fragment = _split(url[len(base_url):])
            return _resolve_problem(rel, link, target, fragment, present, ids), 1
        if parts.scheme or parts.netloc:
            if may_be_absolute and rel.endswith(".xml"):
                return problem(f"not under base_url {base_url!r}")
            return None, 0  # another site: not ours to check (no network)
        return problem("root-relative link; links must be relative so the site works under any path prefix"
                       + (f" (base_url is {base_url!r})" if base_url else ""))
    if rel.endswith(".xml"):
        return problem("relative URL in a feed or sitemap; use base_url")
    if rel == "404.html" and parts.path:
        return problem("relative link in 404.html, which is served for missing paths at any depth; use base_url")
    if not parts.path:
        if parts.fragment and rel.endswith(".html") and unquote(parts.fragment) not in ids.get(rel, set()):
            return problem(f"no element with id {unquote(parts.fragment)!r} on this page")
        return None, 0 if not parts.fragment else 1
    target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), unquote(parts.path)))
    if parts.path.endswith("/"):
        target += "/"
    return _resolve_problem(rel, link, target, unquote(parts.fragment), present, ids), 1


def _split(path_and_fragment: str) -> tuple[str, str]:
    parts = urlsplit(path_and_fragment)
    return unquote(parts.path), unquote(parts.fragment)


def _resolve_problem(rel: str, link: Link, target: str, fragment: str, present: set[str],
                     ids: dict[str, set[str]]) -> Problem | None:
    where = f'{link.attr}="{link.url}"'
    if target.startswith("../") or target == "..":
        return Problem(rel, link.line, where, "points outside the site")
    if target in ("", ".", "./"):
        file = "index.html"
    elif target.endswith("/"):
        file = target.removeprefix("./") + "index.html"
    elif target in present:
        file = target
    else:
        file = target + "/index.html"  # a directory URL written without its slash
    if file not in present:
        return Problem(rel, link.line, where, f"no such file in the site: {target}")
    if fragment and file.endswith(".html") and fragment not in ids.get(file, set()):
        return Problem(rel, link.line, where, f"no element with id {fragment!r} in {file}")
    return None


def _css_links(text: str) -> list[Link]:
    out = []
    for m in CSS_URL.finditer(text):
        url = (m.group(2) if m.group(2) is not None else m.group(4)).strip()
        if url and not url.startswith("#"):
            out.append(Link(text.count("\n", 0, m.start()) + 1, "url()", url))
    return out


def _xml_links(rel: str, data: bytes) -> tuple[list[Link], Problem | None]:
    """Links of an SVG (hrefs other than in-document `#id`s) or of a sitemap/feed (`<loc>`, `<link href>`)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        return [], Problem(rel, line, "", f"not well-formed XML: {exc}")
    out = []
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""
        for attr in ("href", XLINK_HREF):
            value = el.get(attr)
            if value and not value.startswith("#") and (rel.endswith(".svg") or tag == "link"):
                out.append(Link(None, f"<{tag} href>", value.strip()))
        if tag == "loc" and el.text:
            out.append(Link(None, "<loc>", el.text.strip()))
    return out, None


# --- HTML ---------------------------------------------------------------------------------


def _html_problems(rel: str, data: bytes) -> list[Problem]:
    parser = html5lib.HTMLParser(strict=False, namespaceHTMLElements=False)
    parser.parse(data, useChardet=False, transport_encoding="utf-8")
    out = []
    for (line, col), code, datavars in parser.errors:
        message = HTML5_MESSAGES.get(code, code)
        with contextlib.suppress(TypeError, KeyError, ValueError):
            message = message % datavars
        out.append(Problem(rel, line, f"col {col}", f"HTML parse error: {message}"))
    return out


def _validate_html(site: Path, pages: list[str]) -> tuple[list[Problem], str | None]:
    """Run the Nu HTML checker when installed (`vnu` on PATH, or CREDITWISE_VNU naming the command)."""
    command = os.environ.get("CREDITWISE_VNU") or shutil.which("vnu")
    if not command or not pages or command == "none":
        return [], None
    try:
        run = subprocess.run([*command.split(), "--errors-only", "--format", "gnu", *pages], cwd=site,
                             capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [Problem("creditwise", None, "vnu", f"the HTML validator did not run: {exc}")], None
    out = []
    for line in (run.stdout + run.stderr).splitlines():
        # GNU format: "file":LINE.COL-LINE.COL: error: message
        m = re.match(r'^"?(.+?)"?:(\d+)(?:\.\d+)?(?:-\d+\.\d+)?: (?:error|fatal)[^:]*: (.*)$', line)
        if m:
            name = m.group(1).removeprefix("file:").removeprefix(str(site.resolve()) + "/")
            out.append(Problem(name, int(m.group(2)), "vnu", m.group(3)))
    if run.returncode and not out:
        out.append(Problem("creditwise", None, "vnu", f"the HTML validator failed (exit {run.returncode})"))
    return out, "vnu"


# --- JSON API -----------------------------------------------------------------------------


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _json_problems(rel: str, path: Path, site: Path, present: set[str]) -> list[Problem]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        return [Problem(rel, exc.lineno, "", f"not valid JSON: {exc.msg}")]
    except (ValueError, UnicodeDecodeError) as exc:
        return [Problem(rel, None, "", f"not valid JSON: {exc}")]
    if rel == "api/site.json":
        return _site_json_problems(rel, doc, present)
    if re.fullmatch(r"api/months/[^/]+\.json", rel):
        out = _fields(rel, doc, MONTH_FIELDS)
        if isinstance(doc, dict) and doc.get("current"):
            out += _fields(rel, doc, CURRENT_MONTH_FIELDS)
        if isinstance(doc, dict) and isinstance(doc.get("daily"), list):
            for i, day in enumerate(doc["daily"]):
                out += _fields(rel, day, {"date": "str", "credits": "num"}, f"daily[{i}].")
        return out
    if rel == "api/plan.json":
        return _fields(rel, doc, PLAN_FIELDS)
    if rel in LIST_DOCS:
        if not isinstance(doc, list):
            return [Problem(rel, None, "", f"must be a list of objects, not {_kind(doc)}")]
        out = []
        for i, item in enumerate(doc):
            out += _fields(rel, item, LIST_DOCS[rel], f"[{i}].")
            if rel == "api/alerts.json" and isinstance(item, dict):
                if item.get("kind") not in ALERT_KINDS:
                    out.append(Problem(rel, None, f"[{i}].kind", f"{item.get('kind')!r} is not one of "
                                                                 f"{', '.join(sorted(ALERT_KINDS))}"))
                if item.get("level") not in ALERT_LEVELS:
                    out.append(Problem(rel, None, f"[{i}].level", f"{item.get('level')!r} is not one of "
                                                                  f"{', '.join(sorted(ALERT_LEVELS))}"))
        return out
    return []


def _site_json_problems(rel: str, doc: object, present: set[str]) -> list[Problem]:
    out = _fields(rel, doc, SITE_FIELDS)
    if not isinstance(doc, dict):
        return out
    for cycle in doc.get("cycles") or []:
        if f"api/months/{cycle}.json" not in present:
            out.append(Problem(rel, None, "cycles", f"no api/months/{cycle}.json for cycle {cycle!r}"))
    for url in doc.get("pages") or []:
        if not isinstance(url, str):
            out.append(Problem(rel, None, "pages", f"{url!r} is not a URL"))
            continue
        target = url if url and not url.endswith("/") else url + "index.html"
        if target not in present:
            out.append(Problem(rel, None, "pages", f"{url!r}: no such page in the site"))
    return out


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "num"
    return {str: "str", list: "list", dict: "dict"}.get(type(value), type(value).__name__)


def _fields(rel: str, doc: object, spec: dict[str, str], prefix: str = "") -> list[Problem]:
    if not isinstance(doc, dict):
        return [Problem(rel, None, prefix.rstrip("."), f"must be an object, not {_kind(doc)}")]
    out = []
    for name, want in spec.items():
        if name not in doc:
            out.append(Problem(rel, None, prefix + name, "missing (SPEC §4 names this field)"))
            continue
        kinds = want.rstrip("?").split("|")
        got = _kind(doc[name])
        if not (got in kinds or (got == "null" and want.endswith("?"))):
            out.append(Problem(rel, None, prefix + name, f"is {got}, expected {want.replace('|', ' or ').rstrip('?')}"
                                                         + (" or null" if want.endswith("?") else "")))
    return out
