"""Guidance pages: `content/guides/<slug>.md` → `guides/<slug>/` (SPEC §2.1, §4).

Guides ship with Creditwise (the repo's `content/guides/`); a site's own `<content_dir>/guides/`
adds pages and overrides shipped ones with the same slug. Each file starts with a small front
matter block (`title`, `summary`, `order`), then Markdown. Before the Markdown is converted, the
source is rendered by a sandboxed Jinja2 environment that sees only plain values copied from
site.toml, so numbers such as `{{ thresholds.upgrade_utilization | pct }}` follow the site's own
settings. Guides never see usage data: loading them is a pure function of the config and the guide
files, cheap enough for the preview server to redo alone when a guide changes. Guides may do small
arithmetic in worked examples; they are illustrations, not report figures.
"""

from __future__ import annotations

import contextlib
import hashlib
import html as html_lib
import json
import pickle
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import markdown
import markupsafe
from jinja2.sandbox import SandboxedEnvironment

from generator import formatting as fmt
from generator.config import SiteConfig
from generator.errors import ConfigError, Problem
from generator.fileio import write_atomic
from generator.resources import GUIDES, code_hash

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FENCE = "---"
KEYS = ("title", "summary", "order")
UNORDERED = 1000  # guides without an `order` come after every numbered one
MARKDOWN_EXTENSIONS = ["tables", "fenced_code", "toc", "attr_list", "def_list", "sane_lists"]


@dataclass(frozen=True)
class Guide:
    slug: str
    title: str
    summary: str
    order: int
    html: str  # trusted: written by the site owner (or shipped with Creditwise)
    source_path: Path
    headings: tuple[tuple[str, str], ...] = ()  # (id, text) of each level-2 heading, for "On this page"

    @property
    def url(self) -> str:
        """Directory-style URL relative to the site root, e.g. "guides/tier-selection/"."""
        return f"guides/{self.slug}/"

    @property
    def path(self) -> str:
        return f"guides/{self.slug}/index.html"


def guide_sources(config: SiteConfig) -> dict[str, Path]:
    """Slug → file: the shipped guides, then the site's own, which win on the same slug."""
    found: dict[str, Path] = {}
    problems: list[Problem] = []
    for folder in (GUIDES, config.root / config.site.content_dir / "guides"):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.md")):
            if path.name.startswith("."):  # editor lock and swap files
                continue
            slug = path.stem
            if not SLUG.match(slug):
                problems.append(Problem(shown(path, config), None, "guide name",
                                        f"{slug!r} is not a valid slug: use lowercase letters, digits and "
                                        "single hyphens, e.g. 'weekly-review.md'"))
                continue
            found[slug] = path
    if problems:
        raise ConfigError(problems)
    return dict(sorted(found.items()))


def load_guides(config: SiteConfig) -> list[Guide]:
    """Every guide of the site, rendered, ordered by `order` then title. Raises ConfigError.

    A guide is a function of its file, the site.toml values its placeholders may use and Creditwise's
    code: one rendered by an earlier build from the same three is reused (`.creditwise/cache/guides.pickle`)."""
    env = guide_environment()
    values = guide_values(config)
    salt = json.dumps(values, sort_keys=True, default=str) + code_hash()
    cache_path = config.cache_dir / "guides.pickle"
    try:
        cached: dict[str, Guide] = pickle.loads(cache_path.read_bytes())
    except Exception:  # absent, unreadable or from another version: render them all
        cached = {}
    problems: list[Problem] = []
    guides, kept = [], {}
    for path in guide_sources(config).values():
        try:
            key = hashlib.sha256(f"{path}\0{salt}\0".encode() + path.read_bytes()).hexdigest()
        except OSError:
            key = None  # render_guide names the problem
        guide = cached.get(key) if key else None
        if guide is None:
            try:
                guide = render_guide(path, config, env, values)
            except ConfigError as exc:
                problems.extend(exc.problems)
                continue
        guides.append(guide)
        if key:
            kept[key] = guide
    if problems:
        raise ConfigError(problems)
    if kept != cached:
        with contextlib.suppress(OSError):  # no cache: the next build renders them again
            write_atomic(cache_path, pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL))
    return sorted(guides, key=lambda g: (g.order, g.title.casefold(), g.slug))


def render_guide(path: Path, config: SiteConfig, env: SandboxedEnvironment | None = None,
                 values: dict[str, Any] | None = None) -> Guide:
    """One guide file → Guide. `env` and `values` may be shared across calls (see load_guides)."""
    name = shown(path, config)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(name, None, "", f"cannot read: {exc}")]) from None
    meta, body_start = parse_front_matter(text, name)
    lines = text.splitlines(keepends=True)
    # Blank lines stand in for the front matter, so Jinja's line numbers are the file's.
    source = "\n" * body_start + "".join(lines[body_start:])
    md_source = _fill_placeholders(source, name, env or guide_environment(),
                                   guide_values(config) if values is None else values)
    md = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS, output_format="html")
    body = md.convert(md_source)
    # toc names arrive HTML-escaped; keep plain text, the page template escapes it.
    headings = tuple((t["id"], html_lib.unescape(t["name"])) for top in md.toc_tokens for t in _level(top, 2))
    return Guide(path.stem, meta["title"], meta.get("summary", ""), meta.get("order", UNORDERED), body,
                 path, headings)


def parse_front_matter(text: str, name: str) -> tuple[dict[str, Any], int]:
    """The `---` fenced `key: value` block at the top → (values, index of the first body line)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != FENCE:
        raise _fm_error(name, 1, "missing: does the file start with a '---' line, then title:, summary:, "
                                 "order:, then a closing '---' line?")
    meta: dict[str, Any] = {}
    for number, line in enumerate(lines[1:], start=2):
        stripped = line.strip()
        if stripped == FENCE:
            if not meta.get("title"):
                raise _fm_error(name, 1, "'title' is missing or empty (add a line such as 'title: Weekly review')")
            return meta, number
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition(":")
        key, value = key.strip(), value.strip()
        if not sep:
            raise _fm_error(name, number, f"expected 'key: value', got {stripped!r} (is the closing '---' line missing?)")
        if key not in KEYS:
            raise _fm_error(name, number, f"unknown key {key!r}; the keys are {', '.join(KEYS)}")
        if key in meta:
            raise _fm_error(name, number, f"{key!r} is given twice")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if key == "order":
            if not re.fullmatch(r"-?\d+", value):
                raise _fm_error(name, number, f"order must be a whole number, got {value!r}")
            meta[key] = int(value)
        else:
            meta[key] = value
    raise _fm_error(name, 1, "no closing '---' line after the front matter")


def guide_environment() -> SandboxedEnvironment:
    """Sandboxed: a guide may read values and call filters, nothing that reaches Python internals."""
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, trim_blocks=True,
                               lstrip_blocks=True, keep_trailing_newline=True, finalize=_as_text)
    env.filters |= {"credits": _strict(fmt.credits), "pct": _strict(fmt.pct_fixed)}
    return env


# What Markdown would read as syntax in a value: a value from site.toml is text, never a link or markup.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]()!|~])")


def _as_text(value: Any) -> str:
    """Every placeholder's output (site.toml values are data): HTML-escaped, Markdown syntax escaped."""
    text = str(markupsafe.escape(value))
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def _strict(fmt: Callable[[Any], str]) -> Callable[[Any], str]:
    """A filter that reports an undefined input by name instead of failing inside the formatting."""
    def apply(value: Any) -> str:
        if isinstance(value, jinja2.Undefined):
            str(value)  # StrictUndefined raises UndefinedError: "'dict object' has no attribute 'x'"
        return fmt(value)
    return apply


def guide_values(config: SiteConfig) -> dict[str, Any]:
    """What placeholders may use: plain copies of site.toml values (never objects with methods)."""
    return {
        "site": {"title": config.site.title, "timezone": config.site.timezone,
                 "cycle_start_day": config.site.cycle_start_day},
        "thresholds": config.thresholds.model_dump(),
        "recommendations": config.recommendations.model_dump(),
        "tiers": [t.model_dump() for t in sorted(config.tiers, key=lambda t: (t.monthly_credits, t.name))],
        "budgets": config.budgets.model_dump(),
        "roi": config.roi.model_dump() if config.roi else None,
    }


def shown(path: Path, config: SiteConfig) -> str:
    """A guide's name in messages: relative to site.toml's folder when it lives there."""
    try:
        return path.resolve().relative_to(config.root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _fill_placeholders(source: str, name: str, env: SandboxedEnvironment, values: dict[str, Any]) -> str:
    try:
        return env.from_string(source).render(values)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError([Problem(name, exc.lineno, "template", exc.message or str(exc))]) from None
    except Exception as exc:  # anything a placeholder can raise (undefined name, unsafe access, 1/0) is the guide's fault
        line = next((f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__)) if f.filename == "<template>"),
                    None)
        reason = str(exc) if isinstance(exc, jinja2.TemplateError) else f"{type(exc).__name__}: {exc}"
        raise ConfigError([Problem(name, line, "template", reason)]) from None


def _fm_error(name: str, line: int, reason: str) -> ConfigError:
    return ConfigError([Problem(name, line, "front matter", reason)])


def _level(token: dict, level: int) -> list[dict]:
    """Headings of one level from markdown's nested toc tokens."""
    if token["level"] == level:
        return [token]
    return [t for child in token["children"] for t in _level(child, level)]
