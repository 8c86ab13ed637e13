"""`creditwise check`: is a built site whole before anyone reads it?

Walks every file of the site, so pages added later are checked without changes here:
- every internal link and asset (HTML attributes, CSS `url()`, SVG hrefs, sitemap and feed
  URLs) resolves to a file, and a `#fragment` on a page to an element id;
- every HTML page parses without errors (html5lib, the WHATWG algorithm) and, where the Nu
  validator (`vnu`) is installed, validates;
- XML and SVG are well-formed, JSON parses, and every API document SPEC §4 names is valid against its
  JSON Schema (generator/site/api/schema.py, the same schemas the site ships under api/schema/);
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
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import html5lib
import jsonschema
from html5lib.constants import E as HTML5_MESSAGES

from generator.errors import Problem
from generator.site.api.schema import schema_name_for, schemas

# Files whose links must be absolute (they are read outside the site: by crawlers, feed readers,
# and by the server for any missing path at any depth).
ABSOLUTE_OK = {"sitemap.xml", "feed.xml", "404.html"}

URL_ATTRS = {"href", "src", "poster", "data", "action", "cite"}
SRCSET_ATTRS = {"srcset", "imagesrcset"}
CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)|@import\s+(['"])(.*?)\3""")
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

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
    for required in ("index.html", "api/site.json", "api/plan.json", "api/focus.csv"):
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
    name = schema_name_for(rel)
    out = _schema_problems(rel, doc, name) if name else []
    if name == "site" and isinstance(doc, dict):
        out += _site_json_problems(rel, doc, present)
    return out


@cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = schemas()[name]
    return jsonschema.validators.validator_for(schema)(schema)


def _schema_problems(rel: str, doc: object, name: str) -> list[Problem]:
    """One problem per violation of the document's JSON Schema, named by its JSON path (`daily[3].credits`)."""
    out = []
    for error in sorted(_validator(name).iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        if error.validator == "required":
            missing = error.message.split("'")[1] if error.message.count("'") >= 2 else error.message
            where = f"{where}.{missing}".lstrip(".")
            reason = "missing (SPEC §4 names this field)"
        elif error.validator == "enum":
            reason = f"{error.instance!r} is not one of {', '.join(sorted(map(str, error.validator_value)))}"
        elif error.validator in ("type", "anyOf"):
            reason = f"is {_kind(error.instance)}, expected {_expected(error.schema)}"
        else:
            reason = error.message if len(error.message) <= 160 else error.message[:157] + "…"
        out.append(Problem(rel, None, where, reason))
    return out


def _expected(schema: dict) -> str:
    kinds = [s for s in schema.get("anyOf", [schema]) if isinstance(s, dict)]
    names = []
    for s in kinds:
        t = s.get("type")
        names += t if isinstance(t, list) else [t] if t else (["one of " + ", ".join(map(str, s["enum"]))] if "enum" in s else [])
    return " or ".join(dict.fromkeys(str(n) for n in names)) or "another value"


def _site_json_problems(rel: str, doc: dict, present: set[str]) -> list[Problem]:
    out = []
    for cycle in doc.get("cycles") or []:
        if f"api/months/{cycle}.json" not in present:
            out.append(Problem(rel, None, "cycles", f"no api/months/{cycle}.json for cycle {cycle!r}"))
    for url in doc.get("pages") or []:
        if not isinstance(url, str):
            continue  # the schema says so
        target = url if url and not url.endswith("/") else url + "index.html"
        if target not in present:
            out.append(Problem(rel, None, "pages", f"{url!r}: no such page in the site"))
    listed = [d for d in (doc.get("downloads"), doc.get("schemas")) if isinstance(d, dict)]
    for key, url in [kv for d in listed for kv in d.items()]:
        if isinstance(url, str) and url not in present:
            out.append(Problem(rel, None, key, f"{url!r}: no such file in the site"))
    return out


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)
