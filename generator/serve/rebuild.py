"""Rebuilds for the preview server: only as much as a change needs, from what the last build kept.

`PreviewBuilder` keeps the last good config, report model, guides, chart SVGs and rendered files in
memory and redoes one of three levels of work:

- GUIDES (a guide's Markdown changed): reload the guides, re-rendering only files that changed, and
  re-render the guide pages with the last report. If a guide appeared, went, or changed its title,
  summary or order, everything that lists guides must follow (the guides index, nav, the page list of
  api/site.json): that is the PAGES level.
- PAGES (a template or CSS file changed): re-render every page with the last report; the charts are
  reused, the model is not recomputed.
- MODEL (site.toml or an export changed): the full `build` path, in memory; the ingest cache under
  .creditwise/cache/ makes an unchanged or appended export cheap.

Its output is always a complete file map, the same bytes `creditwise build` writes; a failed rebuild
changes nothing and remembers the level it failed at, so the next change redoes at least that much.
"""

from __future__ import annotations

import enum
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from generator.config import SiteConfig, load_config
from generator.errors import ConfigError, CreditwiseError, Problem
from generator.pipeline.build import build, render_site
from generator.report.model import Report
from generator.serve.watcher import ChangeKind
from generator.site.guides import Guide, guide_environment, guide_sources, guide_values, render_guide
from generator.site.pages import guide_pages
from generator.site.render import environment, render_pages, template_problem

SHOWN_PROBLEMS = 20


class Level(enum.IntEnum):
    GUIDES = 1
    PAGES = 2
    MODEL = 3


LEVEL_OF = {ChangeKind.GUIDE: Level.GUIDES, ChangeKind.THEME: Level.PAGES,
            ChangeKind.CONFIG: Level.MODEL, ChangeKind.EXPORT: Level.MODEL}


def level_for(kinds: Iterable[ChangeKind]) -> Level:
    return max((LEVEL_OF[k] for k in kinds), default=Level.GUIDES)


@dataclass
class Outcome:
    level: Level  # the work done, which may be more than the change asked for
    seconds: float
    files: dict[str, bytes] | None  # the new complete site; None when the rebuild failed
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    detail: str = ""  # what was redone, for the terminal
    trace: str | None = None  # traceback of an internal error (a bug, not the user's input)

    @property
    def ok(self) -> bool:
        return self.files is not None


StatKey = tuple[int, int, int]


def _stat(path: Path) -> StatKey | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class PreviewBuilder:
    def __init__(self, config_path: Path):
        self.config_path = config_path
        self.config: SiteConfig | None = None
        self.report: Report | None = None
        self.guides: list[Guide] = []
        self.charts: dict[str, str] = {}
        self.files: dict[str, bytes] = {}
        self._env: jinja2.Environment | None = None
        self._guide_cache: dict[Path, tuple[StatKey, Guide]] = {}
        self._owed = Level.MODEL  # nothing is built yet

    def rebuild(self, level: Level) -> Outcome:
        level = max(level, self._owed)
        start = time.perf_counter()
        warnings: list[str] = []
        try:
            if level is Level.MODEL:
                detail, warnings = self._model()
            elif level is Level.PAGES:
                detail = self._pages()
            else:
                detail, level = self._guides()
        except Exception as exc:  # the server must outlive any build error, ours included
            self._owed = level
            problems, trace = describe_error(exc, self.config_path)
            return Outcome(level, time.perf_counter() - start, None, problems, trace=trace)
        self._owed = Level.GUIDES
        return Outcome(level, time.perf_counter() - start, self.files, [], warnings, detail)

    # -- the three levels ------------------------------------------------------------------------

    def _model(self) -> tuple[str, list[str]]:
        config = load_config(self.config_path)
        started_ns = time.time_ns()
        result = build(config, strict=False, write=False)
        self.config, self.report, self.guides, self.charts = config, result.report, result.guides, result.charts
        self.files = dict(result.files.items())
        self._env = environment(config)
        # Guides the build read from files untouched since it started can be reused by the next guide edit.
        self._guide_cache = {}
        for g in result.guides:
            key = _stat(g.source_path)
            if key is not None and key[0] < started_ns:
                self._guide_cache[g.source_path] = (key, g)
        stages = " · ".join(f"{k} {v:.2f}s" for k, v in result.timings.items())
        detail = f"built {len(self.files)} files from {result.report.events_counted:,} events ({stages})"
        return detail, list(result.report.warnings)

    def _pages(self) -> str:
        assert self.config is not None and self.report is not None  # MODEL ran first (`_owed`)
        guides = self._load_guides()
        files = render_site(self.config, self.report, guides, {}, lambda _: None, charts=self.charts)
        self._env = environment(self.config)
        self.guides, self.files = guides, dict(files.items())
        pages_n = sum(1 for p in self.files if p.endswith(".html"))
        return f"re-rendered {pages_n} pages (model and {len(self.charts)} charts reused)"

    def _guides(self) -> tuple[str, Level]:
        assert self.config is not None and self.report is not None and self._env is not None
        guides = self._load_guides()
        if _listing(guides) != _listing(self.guides):
            return self._pages() + "; a guide was added, removed or retitled", Level.PAGES
        files = dict(self.files)  # copy: the server may be sending the previous map right now
        rendered = render_pages(self.report, self._env, guide_pages(guides))
        for path, html in rendered.items():
            files[path] = html.encode("utf-8")
        self.guides, self.files = guides, files
        return f"re-rendered {len(rendered)} guide pages", Level.GUIDES

    def _load_guides(self) -> list[Guide]:
        """`load_guides`, but a guide whose file is unchanged (same mtime, size, inode) is not rendered again."""
        assert self.config is not None
        env, values = guide_environment(), guide_values(self.config)
        problems: list[Problem] = []
        guides: list[Guide] = []
        for path in guide_sources(self.config).values():
            before = _stat(path)
            cached = self._guide_cache.get(path)
            if cached is not None and before is not None and cached[0] == before:
                guides.append(cached[1])
                continue
            try:
                guide = render_guide(path, self.config, env, values)
            except CreditwiseError as exc:
                problems.extend(exc.problems)
                continue
            if before is not None and _stat(path) == before:  # not rewritten while it rendered
                self._guide_cache[path] = (before, guide)
            guides.append(guide)
        if problems:
            raise ConfigError(problems)
        # The order of guides.load_guides (tests/test_preview_build.py compares the two).
        return sorted(guides, key=lambda g: (g.order, g.title.casefold(), g.slug))


def _listing(guides: list[Guide]) -> list[tuple[str, str, str, int]]:
    """What pages other than a guide's own show of it."""
    return [(g.slug, g.title, g.summary, g.order) for g in guides]


# -- errors as problems a person can act on ------------------------------------------------------


def describe_error(exc: BaseException, config_path: Path) -> tuple[list[Problem], str | None]:
    """(problems to show, traceback text for an internal error or None)."""
    if isinstance(exc, CreditwiseError):
        problems = list(exc.problems[:SHOWN_PROBLEMS])
        if exc.total > len(problems):
            problems.append(Problem(config_path.name, None, "", f"… and {exc.total - len(problems)} more"))
        return problems, None
    if isinstance(exc, jinja2.TemplateError):  # from a partial rebuild, which renders outside build()
        return [template_problem(exc, config_path.resolve().parent)], None
    trace = "".join(traceback.format_exception(exc))
    return [Problem("creditwise", None, "internal error", f"{type(exc).__name__}: {exc} (traceback in the terminal)")], trace
