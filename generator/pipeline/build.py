"""The pipeline: config → exports → report model → charts → pages → write (read everything, then write)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from generator.charts.cache import ChartStats, DrawingPool, render_charts
from generator.config import SiteConfig
from generator.errors import DataError, Problem
from generator.ingest.load import ingest
from generator.ingest.memory import out_of_memory
from generator.pipeline import stamp as build_stamp
from generator.pipeline.output import refuse_unsafe_output
from generator.report import cache as model_cache
from generator.report.model import Report, build_report
from generator.site.api.documents import api_documents
from generator.site.api.focus import SITE_PATH as FOCUS_PATH
from generator.site.api.focus import FocusExport, focus_export
from generator.site.api.scopes import ScopeDocuments
from generator.site.api.values import dumps
from generator.site.downloads import table_csv
from generator.site.feeds import feed, sitemap
from generator.site.guides import load_guides
from generator.site.page import Page
from generator.site.pages import page_charts, page_tables, site_pages
from generator.site.render import environment, render_pages, theme_dir
from generator.site.writer import Chunks, SiteFiles, Staging


@dataclass
class BuildResult:
    out_dir: Path
    report: Report
    files: SiteFiles
    timings: dict[str, float] = field(default_factory=dict)
    guides: list = field(default_factory=list)  # kept, with the charts, for the preview server's partial rebuilds
    charts: dict[str, str] = field(default_factory=dict)
    chart_stats: ChartStats | None = None
    up_to_date: bool = False  # nothing changed since the last build: nothing was rendered or written

    def summary(self) -> str:
        r = self.report
        if self.up_to_date:
            summary = {"events": r.events_counted, "cycles": len(r.cycles)}
            return build_stamp.summary_line(self.out_dir, summary, sum(self.timings.values()))
        pages_n = sum(1 for p in self.files.paths() if p.endswith(".html"))
        charts_n = sum(1 for p in self.files.paths() if p.endswith(".svg") and not p.endswith("-narrow.svg"))
        stages = " · ".join(f"{k} {v:.2f}s" for k, v in self.timings.items())
        cached = f" ({self.chart_stats.cached} from the cache)" if self.chart_stats else ""
        return (f"Built {pages_n} pages, {charts_n} charts{cached} and {len(self.files)} files from "
                f"{r.events_counted:,} events in {len(r.cycles)} cycles into {self.out_dir} ({stages})")


@contextmanager
def _timed(timings: dict[str, float], stage: str, progress: Callable[[str], None]) -> Iterator[None]:
    progress(f"{stage}…")
    start = time.perf_counter()
    yield
    timings[stage] = time.perf_counter() - start


def build(config: SiteConfig, output: str | Path | None = None, strict: bool = False,
          progress: Callable[[str], None] = lambda _: None, write: bool = True) -> BuildResult:
    """The whole site; `write=False` keeps it in memory only (the preview server serves it from there)."""
    timings: dict[str, float] = {}
    out_dir = config.output_path(output)
    if write:
        refuse_unsafe_output(config, out_dir)  # before anything is read: a refused build deletes nothing
    with _timed(timings, "inputs", progress):
        key = model_cache.model_key(config)
        report = model_cache.load(config, key)  # nothing it depends on changed: no DuckDB at all
        current = write and report is not None and build_stamp.up_to_date(config, out_dir) is not None
        focus = focus_export(report, None) if report is not None and not current else None
        if focus is None and not current:
            report = None  # no report cached, or its FOCUS parts are gone from the cache: model again
    if current:
        if strict and report.warnings:
            raise DataError([Problem(config.path.name, None, "", w) for w in report.warnings])
        return BuildResult(out_dir, report, SiteFiles(), timings, up_to_date=True)
    # The data changed, so charts will be drawn: start the drawing workers (or load the drawing code) meanwhile.
    pool = DrawingPool.start() if report is None else None
    if report is None and pool is None:
        _prefetch_chart_drawing()
    ingested = focus_job = None
    staging = Staging(out_dir) if write else None
    try:
        if staging is not None and focus is not None:
            staging.start(FOCUS_PATH, Chunks(focus.chunks))  # from the cache: copied while the pages render
        with _timed(timings, "guides", progress):  # before the data: a guide's config error stops the build early
            guides = load_guides(config)
        with _timed(timings, "ingest", progress):
            ingested = None if report else ingest(config, strict)
        if ingested is not None:
            with _timed(timings, "model", progress):
                try:
                    report = build_report(config, ingested, {g.slug for g in guides})
                except duckdb.OutOfMemoryException as exc:
                    raise out_of_memory(config, ingested.memory, exc) from None
            # The FOCUS export's parts are written from the model's tables while the charts draw, and the
            # site's file is copied from them as soon as they are (the kernel copies: it holds no lock).
            focus_job = ingested.alongside(lambda cursor: focus_export(report, cursor))
            if staging is not None:
                focus_job.add_done_callback(lambda job: _stage_focus(staging, job))
            ingested.persist()  # the caches are written while charts and pages render (the model's, after the export)
            model_cache.save(config, key, report)
        if strict and report.warnings:
            raise DataError([Problem(config.path.name, None, "", w) for w in report.warnings])
        with _timed(timings, "charts", progress):
            scopes = ScopeDocuments(report)  # each feature and team document once, for its page and the API
            page_list = site_pages(report, guides, scopes)
            chart_svgs, chart_stats = draw_charts(report, page_list, pool)
        if focus_job is not None:
            with _timed(timings, "focus", progress):  # what is left of it once the charts are drawn
                try:
                    focus = focus_job.result()
                except duckdb.OutOfMemoryException as exc:
                    raise out_of_memory(config, ingested.memory, exc) from None
        files = render_site(config, report, guides, timings, progress, charts=chart_svgs, page_list=page_list,
                            scopes=scopes, focus=focus)
        if staging is not None:
            with _timed(timings, "write", progress):
                staging.swap_in(files)
                build_stamp.record(config, build_stamp.site_key(config, key, out_dir), out_dir, report)
    finally:
        try:
            if pool is not None:
                pool.close()
            if ingested is not None:
                with _timed(timings, "cache", progress):
                    ingested.close()
        finally:
            if staging is not None:
                staging.discard()  # (the previous site, removed meanwhile; anything of a failed build)
    return BuildResult(out_dir, report, files, timings, guides, chart_svgs, chart_stats)


def _stage_focus(staging: Staging, job: concurrent.futures.Future) -> None:
    """Start copying the finished FOCUS export into the site being staged (in the export's thread)."""
    if job.cancelled() or job.exception() is not None:
        return  # the build raises it where it asks for the result
    with contextlib.suppress(Exception):  # only a head start: the write stage copies it otherwise
        staging.start(FOCUS_PATH, Chunks(job.result().chunks))


def _prefetch_chart_drawing() -> None:
    """Import the chart drawing code (Matplotlib: ~0.5 s) in a thread while DuckDB ingests and models.

    DuckDB releases the GIL while a query runs, so on a second core the import is free; the charts
    stage's own import then finds the module loaded (or waits for the thread's import to finish).
    A build whose report came from the cache skips this: its charts may all be cached."""
    threading.Thread(target=_import_quietly, args=("generator.charts.draw",), daemon=True).start()


def _import_quietly(module: str) -> None:
    """Only a head start: if the import fails, the charts stage imports again and reports it properly."""
    with contextlib.suppress(Exception):
        importlib.import_module(module)


def render_site(config: SiteConfig, report: Report, guides: list, timings: dict[str, float],
                progress: Callable[[str], None], charts: dict[str, str] | None = None,
                page_list: list[Page] | None = None, scopes: ScopeDocuments | None = None,
                focus: FocusExport | None = None) -> SiteFiles:
    """Everything the site holds, in memory: charts, pages, CSV downloads, feed, sitemap, JSON API, theme assets.

    `charts` (from chart_files) lets a caller that kept them skip the redraw: the preview server does
    after a template or CSS edit, which cannot change a chart."""
    files = SiteFiles()
    scopes = scopes or ScopeDocuments(report)
    if page_list is None:
        page_list = site_pages(report, guides, scopes)
    if charts is None:
        with _timed(timings, "charts", progress):
            charts = chart_files(report, page_list)
    for path, svg in charts.items():
        files.add(path, svg)
    with _timed(timings, "pages", progress):
        env = environment(config)
        for path, html in render_pages(report, env, page_list, charts).items():
            files.add(path, html)
        for t in page_tables(page_list):
            files.add(t.path, table_csv(t))
        for path, doc in api_documents(report, [p.url for p in page_list if p.listed], scopes).items():
            files.add(path, dumps(doc))
        focus = focus or focus_export(report, None)
        if focus is None:  # the build that made `report` wrote the parts; someone removed them since
            raise RuntimeError("the FOCUS export's parts are missing from .creditwise/cache/focus: build again")
        files.add(FOCUS_PATH, Chunks(focus.chunks))
        files.add("sitemap.xml", sitemap(report, page_list))
        files.add("feed.xml", feed(report))
        static = theme_dir(config) / "static"
        for asset in sorted(static.rglob("*")):
            if asset.is_file():
                files.add("assets/" + asset.relative_to(static).as_posix(), asset.read_bytes())
    return files


def draw_charts(report: Report, page_list: list[Page] | None = None,
                pool: DrawingPool | None = None) -> tuple[dict[str, str], ChartStats]:
    """Path → SVG of every chart the pages show, drawn only when missing from the chart cache."""
    pages = page_list if page_list is not None else site_pages(report)
    return render_charts(page_charts(pages), report.config.root, pool)


def chart_files(report: Report, page_list: list[Page] | None = None) -> dict[str, str]:
    return draw_charts(report, page_list)[0]
