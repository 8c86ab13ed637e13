"""The preview's partial rebuilds give the same bytes as a full build, redo only what a change needs,
and the watcher reports real changes once per burst (never the build's own reads, never temp files)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from preview_support import GUIDE, guide_path, make_site, save_like_an_editor

from conftest import csv_text, event, tree_bytes
from generator.config import load_config
from generator.pipeline.build import build
from generator.serve.rebuild import Level, PreviewBuilder, level_for
from generator.serve.server import PreviewState
from generator.serve.watcher import ChangeKind, Debouncer, Watcher, WatchPlan
from generator.site.writer import MARKER, MARKER_TEXT


def full_build(root: Path, tmp: Path) -> dict[str, bytes]:
    out = tmp / "reference"
    build(load_config(root / "site.toml"), out)
    files = tree_bytes(out)
    assert files.pop(MARKER) == MARKER_TEXT  # on disk only: it marks the folder as a build's own
    return files


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, PreviewBuilder]:
    root = make_site(tmp_path / "site")
    builder = PreviewBuilder(root / "site.toml")
    first = builder.rebuild(Level.GUIDES)  # nothing built yet: it must do everything
    assert first.ok and first.level is Level.MODEL, first.problems
    return root, builder


def test_first_build_is_the_built_site_without_any_preview_script(built, tmp_path):
    root, builder = built
    assert builder.files == full_build(root, tmp_path)
    assert not any(b"creditwise-live-reload" in body or b"__creditwise" in body for body in builder.files.values())


def test_guide_edit_rerenders_guide_pages_only_and_matches_a_full_build(built, tmp_path):
    root, builder = built
    report, charts, before = builder.report, builder.charts, builder.files
    guide_path(root).write_text(GUIDE.replace("Edit before you regenerate", "Always edit first"), encoding="utf-8")
    outcome = builder.rebuild(level_for({ChangeKind.GUIDE}))
    assert outcome.ok and outcome.level is Level.GUIDES
    assert builder.report is report  # no ingest, no model
    assert all(builder.files[p] is before[p] for p in charts)  # the very same chart bytes: not redrawn
    assert b"Always edit first" in builder.files["guides/house-rules/index.html"]
    changed = {p for p in builder.files if builder.files[p] != before[p]}
    assert changed == {"guides/house-rules/index.html"}
    assert builder.files == full_build(root, tmp_path)


def test_a_new_guide_reaches_the_index_and_site_json(built, tmp_path):
    root, builder = built
    save_like_an_editor(root / "content" / "guides" / "zz-extra.md", "---\ntitle: Extra\n---\nMore.\n")
    outcome = builder.rebuild(Level.GUIDES)
    assert outcome.ok and outcome.level is Level.PAGES  # what lists guides must follow
    assert b"Extra" in builder.files["guides/index.html"]
    assert "guides/zz-extra/" in json.loads(builder.files["api/site.json"])["pages"]
    assert builder.files == full_build(root, tmp_path)


def test_template_edit_rerenders_pages_and_reuses_model_and_charts(built, tmp_path):
    root, builder = built
    report, charts = builder.report, builder.charts
    base = root / "themes" / "default" / "templates" / "base.html"
    base.write_text(base.read_text().replace("Skip to content", "Jump to the report"), encoding="utf-8")
    outcome = builder.rebuild(level_for({ChangeKind.THEME}))
    assert outcome.ok and outcome.level is Level.PAGES
    assert builder.report is report and builder.charts is charts  # the kept model and chart SVGs, not new ones
    assert b"Jump to the report" in builder.files["index.html"]
    assert builder.files == full_build(root, tmp_path)


def test_broken_inputs_keep_the_last_good_files_and_recover(built, tmp_path):
    root, builder = built
    good = builder.files
    config = root / "site.toml"
    text = config.read_text()
    config.write_text(text.replace('timezone = "UTC"', 'timezone = "Mars/Olympus"'), encoding="utf-8")
    outcome = builder.rebuild(Level.MODEL)
    assert not outcome.ok and builder.files is good
    assert [(Path(p.file).name, p.line, p.where) for p in outcome.problems] == [("site.toml", 4, "site.timezone")]
    # Nothing since has rebuilt the model: a guide edit now redoes it all (and still fails).
    assert builder.rebuild(Level.GUIDES).level is Level.MODEL
    config.write_text(text, encoding="utf-8")
    assert builder.rebuild(Level.GUIDES).ok
    good = builder.files

    page = root / "themes" / "default" / "templates" / "guide.html"
    page.write_text('{% extends "base.html" %}\n{% block content %}\n<p>{{ guide.title | nosuchfilter }}</p>\n'
                    '{% endblock %}\n', encoding="utf-8")
    outcome = builder.rebuild(Level.PAGES)
    assert not outcome.ok and builder.files is good
    (problem,) = outcome.problems
    assert (problem.file, problem.line, problem.where) == ("themes/default/templates/guide.html", 3, "template")


def test_guide_error_names_the_file_and_line(built):
    root, builder = built
    guide_path(root).write_text(GUIDE.replace("| pct }}", "| pct }"), encoding="utf-8")
    outcome = builder.rebuild(Level.GUIDES)
    assert not outcome.ok
    assert [(p.file, p.line) for p in outcome.problems] == [("content/guides/house-rules.md", 8)]


def test_classify_changes():
    plan = WatchPlan("/s/site.toml", ("/s/content/guides",), ("/s/themes/default",), ("/s/exports/*.csv", "/s/data/**/*.jsonl"))
    assert plan.classify("/s/site.toml") is ChangeKind.CONFIG
    assert plan.classify("/s/content/guides/a.md") is ChangeKind.GUIDE
    assert plan.classify("/s/themes/default/static/style.css") is ChangeKind.THEME
    assert plan.classify("/s/exports/2026-01.csv") is ChangeKind.EXPORT
    assert plan.classify("/s/data/2026/q1/a.jsonl") is ChangeKind.EXPORT
    for ignored in ("/s/content/guides/.a.md.swp", "/s/content/guides/a.md~", "/s/content/guides/4913",
                    "/s/content/guides/#a.md#", "/s/content/guides/a.md___jb_tmp___", "/s/themes/default/.git/HEAD",
                    "/s/exports/notes.txt", "/s/public/index.html", "/s/.creditwise/cache/events.duckdb",
                    "/s/site.toml.swp", "/s/content/guides/notes.txt"):
        assert plan.classify(ignored) is None, ignored


class Rebuilds:
    """The `apply` the real Debouncer calls: every burst it hands over, in order. With `hold`, the first call
    waits until `release` (a rebuild that is still running)."""

    def __init__(self, hold: bool = False):
        self.calls: list[tuple[set[ChangeKind], list[str]]] = []
        self._cond = threading.Condition()
        self._hold = hold
        self._released = threading.Event()
        self._entered = threading.Event()

    def __call__(self, kinds: set[ChangeKind], paths: list[str]) -> None:
        with self._cond:
            self.calls.append((set(kinds), list(paths)))
            self._cond.notify_all()
        first = not self._entered.is_set()
        self._entered.set()
        if self._hold and first:
            assert self._released.wait(30)

    def wait_for_calls(self, n: int) -> list[tuple[set[ChangeKind], list[str]]]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.calls) >= n, 30), self.calls
            return list(self.calls)

    def wait_for_paths(self, *paths: Path) -> list[tuple[set[ChangeKind], list[str]]]:
        """Every call up to the one that brought the last of these paths (each a file written last in its folder:
        a folder's events arrive in order, so everything written there before it has arrived too)."""
        wanted = {str(p) for p in paths}
        with self._cond:
            assert self._cond.wait_for(lambda: wanted <= {q for _, ps in self.calls for q in ps}, 30), self.calls
            return list(self.calls)

    def wait_until_entered(self) -> None:
        assert self._entered.wait(30)

    def release(self) -> None:
        self._released.set()


def test_changes_that_arrive_during_a_rebuild_are_one_next_rebuild():
    # Deterministic: the first rebuild is held while six changes arrive, so they cannot settle apart.
    rebuilds = Rebuilds(hold=True)
    debouncer = Debouncer(rebuilds)
    debouncer.start()
    try:
        debouncer.push(ChangeKind.THEME, "/s/themes/default/page.html", now=True)
        rebuilds.wait_until_entered()
        for _ in range(5):  # five saves of one guide and an export, during the rebuild
            debouncer.push(ChangeKind.GUIDE, "/s/content/guides/a.md")
        debouncer.push(ChangeKind.EXPORT, "/s/exports/b.csv")
        rebuilds.release()
        rebuilds.wait_for_calls(2)
        debouncer.push(ChangeKind.CONFIG, "/s/site.toml", now=True)
        assert rebuilds.wait_for_calls(3) == [
            ({ChangeKind.THEME}, ["/s/themes/default/page.html"]),
            ({ChangeKind.GUIDE, ChangeKind.EXPORT}, ["/s/content/guides/a.md", "/s/exports/b.csv"]),
            ({ChangeKind.CONFIG}, ["/s/site.toml"])]
    finally:
        debouncer.stop()


def test_watcher_reports_every_save_and_ignores_reads_and_temp_files(tmp_path):
    # No sleeps: each phase ends with a file written last in each folder it touched, and waits for the
    # watcher to report it; a folder's events arrive in order, so anything before it has been reported.
    root = make_site(tmp_path / "site")
    rebuilds = Rebuilds()
    plan = WatchPlan.for_site(root / "site.toml", load_config(root / "site.toml"))
    watcher = Watcher(plan, Debouncer(rebuilds))
    watcher.start()
    try:
        guide = guide_path(root)
        for n in range(5):  # a burst of saves, the way editors save (a temp file renamed over the guide)
            save_like_an_editor(guide, GUIDE + f"\nSave {n}.\n")
        (guide.parent / ".house-rules.md.swp").write_text("swap")
        (guide.parent / "house-rules.md~").write_text("backup")
        end = guide.parent / "zz-end.md"
        end.write_text("---\ntitle: End\n---\n")
        burst = rebuilds.wait_for_paths(end)
        assert {k for kinds, _ in burst for k in kinds} == {ChangeKind.GUIDE}
        assert {p for _, paths in burst for p in paths} == {str(guide), str(end)}  # no temp, swap or backup file

        for path in sorted(root.rglob("*")):  # what a build does: open and read every input
            if path.is_file():
                path.read_bytes()
        ends = [root / "exports" / "zz-end.csv", root / "themes" / "default" / "zz-end.txt",
                guide.parent / "zz-end-2.md"]
        ends[0].write_text(csv_text([event("z1", "2026-02-04T10:00:00Z", 1)]))
        ends[1].write_text("end")
        ends[2].write_text("---\ntitle: End 2\n---\n")
        after = rebuilds.wait_for_paths(*ends)[len(burst):]
        # Only the three files written: none of the dozens of files read.
        assert {p for _, paths in after for p in paths} == {str(p) for p in ends}
        assert {k for kinds, _ in after for k in kinds} == {ChangeKind.EXPORT, ChangeKind.THEME, ChangeKind.GUIDE}
    finally:
        watcher.stop()


def test_requests_during_a_rebuild_wait_for_it_and_get_the_complete_new_build():
    state = PreviewState()
    state.publish({"index.html": b"one"}, [])
    state.begin()  # a rebuild starts
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(state.current(wait=10).files["index.html"]))
    reader.start()
    reader.join(0.2)
    assert reader.is_alive() and got == []  # held, not answered with the build being replaced
    state.publish({"index.html": b"two"}, [])
    reader.join(5)
    assert got == [b"two"]
    state.begin()
    failed = state.publish(None, [])  # a failed rebuild keeps the last good files
    assert failed.files["index.html"] == b"two" and state.current(wait=0).build_id == failed.build_id


def test_a_bad_export_row_is_named_and_fixing_it_recovers(built):
    root, builder = built
    good = builder.files
    bad = root / "exports" / "2026-03.csv"
    bad.write_text(csv_text([event("m1", "2026-03-02T10:00:00Z", "abc")]), encoding="utf-8")
    outcome = builder.rebuild(level_for({ChangeKind.EXPORT}))
    assert not outcome.ok and builder.files is good
    assert [(p.file, p.line, p.where) for p in outcome.problems] == [("exports/2026-03.csv", 2, "credits")]
    bad.write_text(csv_text([event("m1", "2026-03-02T10:00:00Z", "5")]), encoding="utf-8")
    outcome = builder.rebuild(level_for({ChangeKind.EXPORT}))
    assert outcome.ok and "months/2026-03/index.html" in builder.files
