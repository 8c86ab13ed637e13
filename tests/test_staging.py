"""The staging folder a site is written into before it is swapped in, with a large file copied early.

The FOCUS export (made of parts in the cache) is copied into the staging folder as soon as it is ready,
while the charts draw; everything else is written when the build swaps the site in. The site that comes
out must be exactly the one written all at once, whatever arrives early, late or not at all.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from generator.site.writer import MARKER, Chunks, SiteFiles, Staging


def write_site(files: SiteFiles, out: Path) -> bool:
    """A site written all at once, as a build does with nothing started early."""
    staging = Staging(out)
    try:
        return staging.swap_in(files)
    finally:
        staging.discard()


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def parts(tmp_path: Path, name: str, text: str) -> Chunks:
    """A file of three pieces: a header, a part in the "cache" and a tail."""
    cached = tmp_path / "cache" / f"{name}.csv"
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(text * 1000, encoding="utf-8")
    return Chunks([b"header\r\n", cached, b"tail\r\n"])


def site(export: Chunks, page: str = "<p>new</p>") -> SiteFiles:
    files = SiteFiles()
    files.add("index.html", page)
    files.add("api/focus.csv", export)
    return files


def old_site(out: Path) -> dict[str, bytes]:
    write_site(site(Chunks([b"old export\r\n"]), "<p>old</p>"), out)
    return tree(out)


def test_a_file_started_early_gives_the_site_written_all_at_once(tmp_path):
    export = parts(tmp_path, "march", "2026-03-01,12.5\r\n")
    reference = tmp_path / "reference"
    write_site(site(export), reference)
    out = tmp_path / "public"
    old_site(out)
    staging = Staging(out)
    staging.start("api/focus.csv", export)
    assert staging.swap_in(site(export)) is True
    staging.discard()  # as the build does once it is done: the previous site has been removed meanwhile
    assert tree(out) == tree(reference)
    # header + 1000 lines of the part + tail; the marker says whose folder it is
    assert tree(out)["api/focus.csv"] == b"header\r\n" + b"2026-03-01,12.5\r\n" * 1000 + b"tail\r\n"
    assert MARKER in tree(out)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".public")] == []  # the old site is gone too


def test_a_file_started_with_other_content_is_written_again_with_the_sites(tmp_path):
    early, final = parts(tmp_path, "a", "early\r\n"), parts(tmp_path, "b", "final\r\n")
    out = tmp_path / "public"
    staging = Staging(out)
    staging.start("api/focus.csv", early)
    staging.swap_in(site(final))
    staging.discard()
    assert tree(out)["api/focus.csv"] == b"header\r\n" + b"final\r\n" * 1000 + b"tail\r\n"


def test_a_start_once_the_swap_has_begun_writes_nothing(tmp_path):
    export = parts(tmp_path, "march", "x\r\n")
    out = tmp_path / "public"
    staging = Staging(out)
    staging.swap_in(site(export))
    written = tree(out)
    staging.start("api/focus.csv", parts(tmp_path, "late", "late\r\n"))  # e.g. a callback that came too late
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".public")] == []  # no copy began
    staging.discard()
    assert tree(out) == written


def test_a_file_started_early_that_the_site_does_not_hold_fails_the_swap_and_keeps_the_old_site(tmp_path):
    out = tmp_path / "public"
    before = old_site(out)
    staging = Staging(out)
    staging.start("api/stray.csv", parts(tmp_path, "stray", "s\r\n"))
    with pytest.raises(RuntimeError, match=r"api/stray\.csv"):
        staging.swap_in(site(parts(tmp_path, "march", "x\r\n")))
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".public")] == []


def test_a_discarded_staging_folder_leaves_the_old_site_and_nothing_else(tmp_path):
    out = tmp_path / "public"
    before = old_site(out)
    staging = Staging(out)
    staging.start("api/focus.csv", parts(tmp_path, "march", "x\r\n"))
    staging.discard()  # the build failed after the export was copied
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".public")] == []


def test_an_unchanged_site_is_not_swapped_even_with_a_file_started_early(tmp_path):
    export = parts(tmp_path, "march", "x\r\n")
    out = tmp_path / "public"
    write_site(site(export), out)
    inode = (out / "index.html").stat().st_ino
    staging = Staging(out)
    staging.start("api/focus.csv", export)
    assert staging.swap_in(site(export)) is False
    staging.discard()
    assert (out / "index.html").stat().st_ino == inode  # the very same files
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".public")] == []


def test_starts_from_another_thread_race_the_swap_without_a_stray_file(tmp_path):
    # the export's thread starts the copy while the build's thread swaps: whichever wins, the site is whole
    export = parts(tmp_path, "march", "2026-03-01,12.5\r\n")
    reference = tmp_path / "reference"
    write_site(site(export), reference)
    for i in range(20):
        out = tmp_path / f"public{i}"
        if i % 2:  # half of them replace a site
            write_site(site(Chunks([b"old\r\n"])), out)
        staging = Staging(out)
        racer = threading.Thread(target=staging.start, args=("api/focus.csv", export))
        racer.start()
        staging.swap_in(site(export))
        racer.join()
        staging.discard()
        assert tree(out) == tree(reference)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".public")] == []


def test_the_previous_site_is_removed_by_the_time_the_staging_is_discarded(tmp_path):
    out = tmp_path / "public"
    old_site(out)
    staging = Staging(out)
    assert staging.swap_in(site(parts(tmp_path, "march", "x\r\n"))) is True
    staging.discard()  # waits for the removal that swap_in began
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".public")] == []
    assert tree(out)["index.html"] == b"<p>new</p>"
