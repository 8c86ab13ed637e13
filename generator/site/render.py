"""HTML pages from the report model with Jinja2 (autoescape on).

Each page gets `root`, the relative prefix back to the site root, so every link is relative
and the site works under any path prefix.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2

from generator import formatting as fmt
from generator.config import SiteConfig
from generator.errors import ConfigError, Problem
from generator.report.model import Report
from generator.resources import THEMES
from generator.site.api.values import level_key
from generator.site.page import Page
from generator.site.tables import Cell, Link


def theme_dir(config: SiteConfig) -> Path:
    """The site's own `themes/<name>/` if it has one, else the theme shipped with Creditwise."""
    for base in (config.root / "themes", THEMES):
        if (base / config.site.theme / "templates").is_dir():
            return base / config.site.theme
    raise ConfigError([Problem(config.path.name, None, "site.theme", f"no theme named {config.site.theme!r}")])


def _signed(text: str, value: float) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "") + text.lstrip("-")


def fmt_cell(value: Any, kind: str = "text", currency: str | None = None) -> str:
    """A table cell as the page shows it (tables.py: the CSV keeps the raw value)."""
    if isinstance(value, Cell):
        value, kind = value.value, value.kind
    if value is None:
        return "—"
    if isinstance(value, Link):
        return value.text
    if kind in ("credits", "mixed") and isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return fmt.credits(value)
    if kind == "signed":
        return _signed(fmt.credits(abs(value)), value)
    if kind == "int":
        return f"{value:,}"
    if kind == "pct":
        return fmt.pct_fixed(value)
    if kind == "signed_pct":
        return _signed(f"{abs(value):.1%}", value)
    if kind == "points":
        return _signed(f"{abs(value) * 100:.1f} pts", value)
    if kind == "date":
        return fmt.day(value)
    if kind == "money":
        return fmt.money(value, currency)
    if kind == "rate":
        return f"{value:,.2f}"
    if kind == "signed_rate":
        return _signed(f"{abs(value):,.2f}", value)
    if kind == "factor":
        return f"{value:.1f}×"
    if kind == "bool":
        return "yes" if value else "no"
    return str(value)


def _bytecode_dir(config: SiteConfig) -> str:
    path = config.cache_dir / "templates"
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def environment(config: SiteConfig) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(theme_dir(config) / "templates"),
        autoescape=True,  # everything on a page derives from data: escape it all
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Compiled templates kept between builds (Jinja checks each template's mtime): compiling
        # every template again was a third of the page stage.
        bytecode_cache=jinja2.FileSystemBytecodeCache(_bytecode_dir(config)),
    )
    currency = config.site.currency

    def cell(value: Any, kind: str = "text") -> str:
        return fmt_cell(value, kind, currency)

    def saving(r: Any) -> str:
        """A recommendation's figure by its category: credits saved, money saved, or credits at stake."""
        if r.category == "plan":
            return f"about {fmt.money(r.monthly_money, currency)} a month less"
        if r.category == "timing":
            return f"{fmt.approx(r.credits_at_stake)} credits a month at stake (nothing saved)"
        money = f" (≈ {fmt.money(r.monthly_money, currency)}, top-ups avoided)" if r.monthly_money else ""
        return f"about {fmt.approx(r.estimated_monthly_savings)} credits a month{money}"

    env.filters |= {"saving": saving, "credits": fmt.credits, "pct": fmt.pct, "date": fmt.day, "instant": fmt.instant,
                    "level": level_key, "cell": cell, "money": lambda v: fmt.money(v, currency),
                    "approx": fmt.approx, "signed_pct": fmt.signed_pct}
    env.tests["link"] = lambda value: isinstance(value, Link)
    env.globals["zip"] = zip
    return env


def render_pages(report: Report, env: jinja2.Environment, page_list: list[Page],
                 charts: Mapping[str, str] | None = None) -> dict[str, str]:
    """Path → HTML of each page; `charts` (path → SVG) are inlined where a page shows them."""
    # (label, link, the pages it stands for): the link of the page's own section is marked.
    # "This month" stands for the current cycle's page only, not every month page.
    this_month = f"months/{report.current.name}/index.html"
    nav = [("Overview", "index.html", "index.html"), ("This month", this_month, this_month),
           ("Features", "features/index.html", "features/"), ("Teams", "teams/index.html", "teams/"),
           ("Plan", "plan/index.html", "plan/"), ("Recommendations", "recommendations/index.html", "recommendations/"),
           ("Guides", "guides/index.html", "guides/"), ("Data quality", "data-quality/index.html", "data-quality/")]
    present = {p.path for p in page_list} if any(p.path == "index.html" for p in page_list) else None
    if present is not None:
        nav = [n for n in nav if n[1] in present]
    out = {}
    for page in page_list:
        try:
            template = env.get_template(page.template)
            out[page.path] = template.render(report=report, page=page, root=page.root, nav=nav,
                                             current=report.current, plan=report.plan, svgs=charts or {}, **page.context)
        except jinja2.TemplateError as exc:  # a theme mistake is the user's to fix: name the file and line
            raise ConfigError([template_problem(exc, report.config.root)]) from exc
    return out


def template_problem(exc: jinja2.TemplateError, root: Path) -> Problem:
    """Where a template went wrong: its file and line, relative to site.toml's folder when it lives there."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return Problem(_shown(exc.filename or exc.name or "template", root), exc.lineno, "template", exc.message or str(exc))
    # For errors while rendering, Jinja puts the template's frames into the traceback.
    frame = next((f for f in reversed(traceback.extract_tb(exc.__traceback__))
                  if f.filename.endswith((".html", ".xml", ".txt", ".j2"))), None)
    if frame is not None:
        return Problem(_shown(frame.filename, root), frame.lineno, "template", str(exc))
    return Problem("template", None, "", str(exc))


def _shown(filename: str, root: Path) -> str:
    try:
        return Path(filename).resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return filename
