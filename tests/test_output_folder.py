"""The output folder is only ever Creditwise's own, and at every instant it holds a complete site.

A build replaces its whole output folder, so it refuses (exit 2, nothing deleted) one that would take
the site's inputs or a user's files with it; and it swaps the new site in with one exchange of two
names, so `kill -9` at any moment leaves the old site or the new one, never neither.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BASIC_TOML, REPO, Site, csv_text, event, run_cli, tree_bytes
from generator.config import load_config
from generator.errors import UsageError
from generator.pipeline.build import build
from generator.site.writer import MARKER

ROWS_A = [event("a1", "2026-03-02T10:00:00Z", 10), event("a2", "2026-03-03T10:00:00Z", 5)]
ROWS_B = [*ROWS_A, event("b1", "2026-03-04T10:00:00Z", 7, team="ops")]


def make_site(root: Path, toml: str = BASIC_TOML) -> Site:
    site = Site(root)
    root.mkdir(parents=True, exist_ok=True)
    site.config.write_text(toml, encoding="utf-8")
    site.write_export("2026-03.csv", csv_text(ROWS_A))
    (root / "content" / "guides").mkdir(parents=True)
    (root / "content" / "guides" / "note.md").write_text("---\ntitle: Note\n---\nOurs.\n", encoding="utf-8")
    (root / "notes.txt").write_text("a file of the user's, beside site.toml\n", encoding="utf-8")
    return site


def inputs(root: Path) -> dict[str, bytes]:
    """Everything but what builds write (the output folder and the cache)."""
    return {rel: b for rel, b in tree_bytes(root).items() if not rel.startswith(("public/", ".creditwise/"))}


@pytest.mark.parametrize(("output", "reason"), [
    ("exports", "is a folder of the exports"),
    (".", "is the folder of site.toml"),
    ("..", "holds the folder of site.toml"),
    ("content", "is the content folder"),
    ("content/guides", "lies inside the content folder"),
    (".creditwise", "is the cache"),
    ("exports/site", "lies inside a folder of the exports"),
    ("notes.txt", "is a file, not a folder"),
])
def test_build_refuses_an_output_folder_that_would_take_the_inputs(tmp_path, output, reason):
    site = make_site(tmp_path / "site")
    before = tree_bytes(tmp_path)
    run = run_cli("build", "--config", str(site.config), "--output", output, cwd=site.root)
    assert run.returncode == 2, run.stderr
    assert f"site.toml: output folder: {(site.root / output).resolve()}: {reason}" in run.stderr
    assert "nothing was deleted" in run.stderr and "Traceback" not in run.stderr
    assert tree_bytes(tmp_path) == before


def test_output_dir_dot_in_site_toml_is_refused(tmp_path):
    site = make_site(tmp_path / "site", BASIC_TOML.replace('timezone = "UTC"', 'timezone = "UTC"\noutput_dir = "."'))
    before = tree_bytes(tmp_path)
    run = run_cli("build", "--config", str(site.config))
    assert run.returncode == 2 and "is the folder of site.toml" in run.stderr, run.stderr
    assert tree_bytes(tmp_path) == before


def test_a_glob_that_would_read_the_output_is_refused(tmp_path):
    # `**/*.csv` from the site folder would read public/'s CSV downloads as exports at the next build.
    site = make_site(tmp_path / "site", BASIC_TOML.replace('"exports/*.csv"', '"**/*.csv"'))
    run = run_cli("build", "--config", str(site.config), "--output", str(site.out))
    assert run.returncode == 2 and "the export glob '**/*.csv' would read the files written there" in run.stderr
    assert not site.out.exists()


def test_a_users_non_empty_folder_is_refused_and_an_empty_or_own_one_is_used(tmp_path):
    site = make_site(tmp_path / "site")
    theirs = tmp_path / "elsewhere"
    theirs.mkdir()
    (theirs / "holiday.jpg").write_bytes(b"\xff\xd8 not ours")
    run = run_cli("build", "--config", str(site.config), "--output", str(theirs))
    assert run.returncode == 2 and "is not empty and no Creditwise build wrote it" in run.stderr, run.stderr
    assert [p.name for p in theirs.iterdir()] == ["holiday.jpg"]

    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli("build", "--config", str(site.config), "--output", str(empty)).returncode == 0
    assert (empty / MARKER).is_file() and (empty / "index.html").is_file()
    site.write_export("2026-03.csv", csv_text(ROWS_B))  # a changed site replaces its own folder
    again = run_cli("build", "--config", str(site.config), "--output", str(empty))
    assert again.returncode == 0, again.stderr
    assert (empty / "teams" / "ops" / "index.html").is_file()


def test_a_site_written_before_folders_were_marked_is_still_replaced(tmp_path):
    site = make_site(tmp_path / "site")
    assert site.build().returncode == 0
    (site.out / MARKER).unlink()  # as an earlier Creditwise left it
    os.utime(site.out / "index.html")  # and not "up to date"
    site.write_export("2026-03.csv", csv_text(ROWS_B))
    run = site.build()
    assert run.returncode == 0, run.stderr
    assert (site.out / MARKER).is_file()
    (site.out / MARKER).unlink()
    shutil.rmtree(site.root / ".creditwise")  # no build stamp either: api/site.json and index.html tell
    site.write_export("2026-03.csv", csv_text(ROWS_A))
    assert site.build().returncode == 0 and (site.out / MARKER).is_file()


def test_leftovers_of_killed_builds_are_removed_by_the_next_build(tmp_path):
    site = make_site(tmp_path / "site")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # that process has exited
    for name in (f".public.building-{dead_pid}", f".public.old-{dead_pid}"):
        (site.root / name / "api").mkdir(parents=True)
        (site.root / name / "api" / "site.json").write_text("{}")
    running = site.root / f".public.building-{os.getpid()}"  # a build still running (this process) is left alone
    running.mkdir()
    assert site.build().returncode == 0
    assert sorted(p.name for p in site.root.iterdir() if p.name.startswith(".public")) == [running.name]


OUTPUT_PARTS = st.lists(st.sampled_from([".", "..", "exports", "content", "guides", "public", "x", ".creditwise",
                                         "notes.txt", "site"]), min_size=1, max_size=3)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=OUTPUT_PARTS)
def test_no_output_folder_loses_an_input(tmp_path_factory, parts):
    """Whatever folder is named, the build either refuses it or writes there, and every input survives."""
    base = tmp_path_factory.mktemp("any-output")
    site = make_site(base / "site")
    (base / "neighbour.txt").write_text("beside the site folder\n")
    before = {rel: b for rel, b in tree_bytes(base).items() if not rel.startswith("site/.creditwise/")}
    out = site.root.joinpath(*parts)
    try:
        build(load_config(site.config), out)
    except UsageError as exc:
        assert "nothing was deleted" in str(exc)
    else:
        assert (out.resolve() / MARKER).is_file()
    after = tree_bytes(base)
    assert {rel: after.get(rel) for rel in before} == before


# --- kill -9 at random moments ---------------------------------------------------------------


def test_kill_9_during_builds_leaves_the_old_site_or_the_new_one(tmp_path):
    """25 builds alternating between two data sets, each killed at a random moment: after each, the
    output is exactly the previous tree or the new one; a watcher thread never sees it missing."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1775000000", "PYTHONPATH": str(REPO)}
    site = make_site(tmp_path / "site")
    trees = {}
    for name, rows in (("b", ROWS_B), ("a", ROWS_A)):  # the reference trees, built to the side
        site.write_export("2026-03.csv", csv_text(rows))
        ref = tmp_path / f"ref-{name}"
        subprocess.run([sys.executable, "-m", "generator", "build", "-q", "-c", str(site.config), "-o", str(ref)],
                       env=env, check=True, cwd=REPO)
        trees[name] = tree_bytes(ref)
    assert trees["a"] != trees["b"]
    subprocess.run([sys.executable, "-m", "generator", "build", "-q", "-c", str(site.config)], env=env, check=True)
    assert tree_bytes(site.out) == trees["a"]
    start = time.perf_counter()
    site.write_export("2026-03.csv", csv_text(ROWS_B))
    subprocess.run([sys.executable, "-m", "generator", "build", "-q", "-c", str(site.config)], env=env, check=True)
    full = time.perf_counter() - start

    missing: list[float] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            if not (site.out / "index.html").is_file():
                missing.append(time.perf_counter())
            time.sleep(0.0002)  # leave the CPU to the build

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    rng = random.Random(11)
    current, outcomes = "b", {"old": 0, "new": 0}
    try:
        for _ in range(25):
            new = "a" if current == "b" else "b"
            site.write_export("2026-03.csv", csv_text(ROWS_A if new == "a" else ROWS_B))
            proc = subprocess.Popen([sys.executable, "-m", "generator", "build", "-q", "-c", str(site.config)],
                                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.1, full * 2))  # from start-up to well after the swap
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            tree = tree_bytes(site.out)
            assert tree in (trees[current], trees[new]), "the output is neither the old site nor the new one"
            outcomes["new" if tree == trees[new] else "old"] += 1
            current = new if tree == trees[new] else current
    finally:
        stop.set()
        watcher.join()
    assert not missing, "there was a moment without an output folder"
    assert outcomes["old"] and outcomes["new"], outcomes  # the kills landed before and after the swap
    subprocess.run([sys.executable, "-m", "generator", "build", "-q", "-c", str(site.config)], env=env, check=True)
    assert not [p.name for p in site.root.iterdir() if p.name.startswith(".public.")]
