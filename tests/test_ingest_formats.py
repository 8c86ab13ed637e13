"""Every export format, mixed and overlapping; encodings; the content-hashed cache; data quality."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os

import pytest

from conftest import BASIC_TOML, csv_text, event, write_parquet
from generator.config import load_config
from generator.ingest.load import ingest
from generator.model.data_quality import find_gaps

ALL_FORMATS = 'exports = ["exports/*.csv", "exports/*.csv.gz", "exports/*.jsonl", "exports/*.ndjson.gz", "exports/*.parquet"]'


@pytest.fixture
def multi(site):
    site.config.write_text(BASIC_TOML.replace('exports = ["exports/*.csv"]', ALL_FORMATS))
    return site


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def test_every_format_mixed_with_overlaps_counts_each_event_once(multi):
    # e1..e5 spread over five formats, with e2, e3 and e5 repeated in a second format:
    # used = 1 + 2 + 3 + 4 + 5 = 15, and five rows are duplicates of rows read elsewhere.
    e = [event(f"e{i}", f"2026-01-0{i}T10:00:00Z", i) for i in range(1, 6)]
    multi.write_export("a.csv", csv_text([e[0], e[1]]))
    multi.write_export("b.csv.gz", gzip.compress(csv_text([e[1], e[2]]).encode(), mtime=0))
    multi.write_export("c.jsonl", jsonl([{**e[2], "credits": 3, "knowledge": False}, e[3]]))
    multi.write_export("d.ndjson.gz", gzip.compress(jsonl([e[3], e[4]]).encode(), mtime=0))
    write_parquet(multi.root / "exports/e.parquet", [e[4], e[0]])
    assert multi.build().returncode == 0
    month = multi.json("api/months/2026-01.json")
    assert month["used"] == 15
    dq = multi.json("api/data-quality.json")
    assert (dq["rows_read"], dq["counted"], dq["duplicates"], dq["quarantined"]) == (10, 5, 5, 0)
    for f in dq["files"]:
        assert f["rows"] == f["counted"] + f["duplicate"] + f["quarantined"]


def test_jsonl_numbers_booleans_and_bad_lines(multi):
    rows = jsonl([{**event("e1", "2026-01-02T10:00:00Z", 0), "credits": 2.5, "quantity": 2, "knowledge": True}])
    multi.write_export("a.jsonl", rows + "not json at all\n" + jsonl([event("e2", "2026-01-02T10:00:00Z", "x")]))
    r = multi.build()
    assert r.returncode == 3
    lines = r.stderr.splitlines()
    assert lines[0] == "exports/a.jsonl:2: row: not a JSON object on one line"
    assert lines[1] == "exports/a.jsonl:3: credits: 'x' is not a number"
    # Left out instead, the two bad lines leave the good ones, whose JSON values are read as what they are:
    # e1 2.5 credits for 2 images with knowledge; e3 (a string "4", false, no quantity: 1) 4 credits.
    multi.write_export("a.jsonl", rows + "not json at all\n" + jsonl([
        event("e2", "2026-01-02T10:00:00Z", "x"),
        {**event("e3", "2026-01-03T10:00:00Z", "4", operation="edit"), "knowledge": False}]))
    multi.config.write_text(multi.config.read_text().replace("[data]\n", '[data]\non_error = "quarantine"\n'))
    r = multi.build()
    assert r.returncode == 0, r.stderr
    assert multi.json("api/months/2026-01.json")["used"] == 6.5  # 2.5 + 4
    [cycle] = multi.json("api/features/image.json")["cycles"]
    assert cycle["by_operation"] == {"generate": {"events": 1, "credits": 2.5, "quantity": 2},
                                     "edit": {"events": 1, "credits": 4, "quantity": 1}}
    assert (cycle["efficiency"]["knowledge"]["events"], cycle["efficiency"]["knowledge"]["credits"]) == (1, 2.5)
    assert [(q["line"], q["column"]) for q in multi.json("api/data-quality.json")["quarantined_rows"]] == [
        (2, "row"), (3, "credits")]


def test_parquet_problems_name_the_row(multi):
    write_parquet(multi.root / "exports/a.parquet", [event("e1", "2026-01-02T10:00:00Z", 1), event("e2", "soon", 1)])
    r = multi.build()
    assert r.returncode == 3
    assert r.stderr.startswith("exports/a.parquet:row 2: timestamp: 'soon' is not an ISO 8601 timestamp")


def test_corrupt_parquet_is_named(multi):
    multi.write_export("a.parquet", b"PAR1 this is not parquet")
    r = multi.build()
    assert r.returncode == 3
    assert r.stderr.startswith("exports/a.parquet: not a readable Parquet file")


def test_invalid_utf8_names_the_line(site):
    good = csv_text([event("e1", "2026-01-02T10:00:00Z", 1)])
    site.write_export("a.csv", good.encode() + b"e2,2026-01-02T10:00:00Z,b\xff\xfe,design,image,generate,,1,,,\n")
    r = site.build()
    assert r.returncode == 3
    assert r.stderr.startswith("exports/a.csv:3: ")
    assert "not valid UTF-8" in r.stderr


def test_broken_row_structure_names_the_line_and_quarantine_keeps_the_rest(site):
    last = csv_text([event("e3", "2026-01-03T10:00:00Z", 2)]).split("\n", 1)[1]
    text = csv_text([event("e1", "2026-01-02T10:00:00Z", 1)]) + "e2,oops\n" + last
    site.write_export("a.csv", text)
    r = site.build()
    assert r.returncode == 3
    assert r.stderr.startswith("exports/a.csv:3: member: the row has fewer fields than the header")
    quarantine = 'exports = ["exports/*.csv"]\non_error = "quarantine"'
    site.config.write_text(BASIC_TOML.replace('exports = ["exports/*.csv"]', quarantine))
    assert site.build().returncode == 0
    # e1 (1) + e3 (2) = 3; the broken line 3 is listed, not counted; e3 is still named as line 4.
    assert site.json("api/months/2026-01.json")["used"] == 3
    dq = site.json("api/data-quality.json")
    assert dq["quarantined_rows"] == [{"file": "exports/a.csv", "line": 3, "column": "member",
                                       "reason": "the row has fewer fields than the header", "event_id": None}]
    assert dq["files"][0] == {"file": "exports/a.csv", "rows": 3, "counted": 2, "duplicate": 0, "quarantined": 1}


SPREADSHEET_BOOLEANS = [("TRUE", True), ("yes", True), ("T", True), ("Y", True), ("1", True),
                        ("0", False), ("f", False), ("No", False), ("FALSE", False), ("n", False), ("", False)]


def test_spreadsheet_booleans_and_whitespace(site):
    # Row i costs 2**i credits, so the knowledge credits say exactly which rows were read as true:
    # 1 + 2 + 4 + 8 + 16 = 31 for the five true spellings; 2**11 − 1 = 2047 in all.
    rows = [event(f"e{i}", "2026-01-02T10:00:00Z", 2 ** i, feature="chat", operation="response", knowledge=k)
            for i, (k, _) in enumerate(SPREADSHEET_BOOLEANS)]
    site.write_export("a.csv", csv_text([*rows, event("e99", "2026-01-02T10:00:00Z", 1, member="   ")]))
    r = site.build()
    assert r.returncode == 3
    assert r.stderr.startswith("exports/a.csv:13: member: required value is missing")
    site.write_export("a.csv", csv_text(rows))
    r = site.build()
    assert r.returncode == 0, r.stderr
    assert site.json("api/months/2026-01.json")["used"] == 2047
    knowledge = site.json("api/features/chat.json")["cycles"][0]["efficiency"]["knowledge"]
    assert (knowledge["events"], knowledge["credits"]) == (5, sum(2 ** i for i, (_, t) in enumerate(SPREADSHEET_BOOLEANS) if t))
    assert knowledge["credits"] == 31


# --- the cache -------------------------------------------------------------------------------


def _ingest(site):
    config = load_config(site.config)
    result = ingest(config)
    used = result.con.execute("SELECT sum(credits) FROM all_events").fetchone()[0]
    result.persist()
    result.close()
    return result.cache, used


def test_cache_reuses_adds_and_rebuilds_by_content(site):
    site.write_export("a.csv", csv_text([event("e1", "2026-01-02T10:00:00Z", 1), event("e2", "2026-01-03T10:00:00Z", 2)]))
    assert _ingest(site) == ("cold", 3)
    assert _ingest(site) == ("reused", 3)
    os.utime(site.root / "exports/a.csv", (1, 1))  # touched, same content: still reused
    assert _ingest(site) == ("reused", 3)
    # A new export: only it is read; its duplicate of e2 counts once: 3 + 4 = 7.
    site.write_export("b.csv", csv_text([event("e2", "2026-01-03T10:00:00Z", 2), event("e3", "2026-01-04T10:00:00Z", 4)]))
    assert _ingest(site) == ("incremental", 7)
    assert _ingest(site) == ("reused", 7)
    # One byte changed in a known file (credits 1 → 5): rebuilt, and the figure follows: 5 + 2 + 4 = 11.
    path = site.root / "exports/a.csv"
    row = "T10:00:00Z,ana@example.com,design,image,generate,,{},"
    path.write_text(path.read_text().replace(row.format(1), row.format(5), 1))
    assert _ingest(site) == ("cold", 11)
    (site.root / "exports/b.csv").unlink()  # a deleted export drops out: 5 + 2 = 7
    assert _ingest(site) == ("cold", 7)


def test_incremental_and_cold_builds_agree_on_every_file_count(site, tmp_path):
    site.write_export("b.csv", csv_text([event("e1", "2026-01-02T10:00:00Z", 1)]))
    _ingest(site)
    site.write_export("a.csv", csv_text([event("e1", "2026-01-02T10:00:00Z", 1), event("e2", "2026-01-02T11:00:00Z", 1)]))
    assert site.build().returncode == 0
    incremental = site.json("api/data-quality.json")
    import shutil

    shutil.rmtree(site.root / ".creditwise")
    assert site.build().returncode == 0
    assert site.json("api/data-quality.json") == incremental
    # e1 counts in a.csv (first by path), its copy in b.csv is the duplicate, whichever arrived first.
    assert [(f["file"], f["counted"], f["duplicate"]) for f in incremental["files"]] == [
        ("exports/a.csv", 2, 0), ("exports/b.csv", 0, 1)]


def test_first_files_move_with_each_earlier_export_as_a_cold_build_counts_them(site):
    """Each event counts in the first export by path, however the exports arrived: an event of the cold
    cache moves to an earlier export twice, and an event appended by a refresh moves once."""
    import shutil

    site.write_export("c.csv", csv_text([event("e1", "2026-01-02T10:00:00Z", 1)]))
    assert _ingest(site) == ("cold", 1)
    site.write_export("d.csv", csv_text([event("e2", "2026-01-02T11:00:00Z", 2)]))  # e2: appended
    assert _ingest(site) == ("incremental", 3)
    site.write_export("b.csv", csv_text([event("e1", "2026-01-02T10:00:00Z", 1), event("e2", "2026-01-02T11:00:00Z", 2)]))
    assert _ingest(site) == ("incremental", 3)  # both move to b.csv; nothing is counted twice
    site.write_export("a.csv", csv_text([event("e1", "2026-01-02T10:00:00Z", 1)]))
    assert _ingest(site) == ("incremental", 3)  # e1 moves again, to a.csv
    assert site.build().returncode == 0
    refreshed = site.json("api/data-quality.json")["files"]
    shutil.rmtree(site.root / ".creditwise")
    assert site.build().returncode == 0
    assert site.json("api/data-quality.json")["files"] == refreshed
    assert [(f["file"], f["counted"], f["duplicate"]) for f in refreshed] == [
        ("exports/a.csv", 1, 0), ("exports/b.csv", 1, 1), ("exports/c.csv", 0, 1), ("exports/d.csv", 0, 1)]


def test_timezone_change_rebuilds_the_cache(site):
    # A naive timestamp depends on the site timezone, so the cache must too.
    site.write_export("a.csv", csv_text([event("e1", "2026-01-31T23:30:00", 1)]))
    assert site.build().returncode == 0
    assert site.json("api/months/2026-01.json")["used"] == 1
    site.config.write_text(BASIC_TOML.replace('timezone = "UTC"', 'timezone = "Asia/Tokyo"'))
    assert site.build().returncode == 0
    assert site.json("api/months/2026-01.json")["daily"][30] == {"date": "2026-01-31", "credits": 1}


# --- data quality ------------------------------------------------------------------------


def test_missing_export_gaps_skip_weekends_and_single_holidays():
    # Active Monday–Friday for three weeks of January 2026, except: Tue 13th (one holiday, not flagged)
    # and Mon 19th–Wed 21st (three working days: flagged). Weekends are never active: not usual days.
    active = {dt.date(2026, 1, d) for d in range(5, 31) if dt.date(2026, 1, d).weekday() < 5} - {
        dt.date(2026, 1, 13), dt.date(2026, 1, 19), dt.date(2026, 1, 20), dt.date(2026, 1, 21)}
    gaps, usual = find_gaps(active)
    assert usual == [0, 1, 2, 3, 4]
    # The gap runs from Sat 17th to Wed 21st: 5 days, 3 of them working days.
    assert [(g.first, g.last, g.days, g.workdays) for g in gaps] == [(dt.date(2026, 1, 17), dt.date(2026, 1, 21), 5, 3)]


def test_unknown_names_and_events_after_as_of_are_reported(site):
    site.config.write_text(BASIC_TOML.replace('timezone = "UTC"', 'timezone = "UTC"\nas_of = 2026-01-10T00:00:00'))
    site.write_export("a.csv", csv_text([event("e1", "2026-01-02T10:00:00Z", 1, feature="video", operation="render"),
                                         event("e2", "2026-01-02T10:00:00Z", 1, feature="image", operation="paint"),
                                         event("e3", "2026-01-12T10:00:00Z", 1)]))
    assert site.build().returncode == 0
    dq = site.json("api/data-quality.json")
    assert dq["unknown_names"] == [
        {"feature": "image", "operation": "paint", "events": 1, "credits": 1, "why": "unknown operation for image"},
        {"feature": "video", "operation": "render", "events": 1, "credits": 1, "why": "unknown feature"}]
    assert dq["events_after_as_of"] == 1
    assert site.json("api/months/2026-01.json")["used"] == 2


def test_report_model_cache_is_keyed_on_exports_and_config(site):
    from generator.pipeline.build import build

    site.write_export("a.csv", csv_text([event("e1", "2026-01-02T10:00:00Z", 4)]))
    first = build(load_config(site.config), site.out)
    assert "model" in first.timings
    again = build(load_config(site.config), site.out)
    assert "model" not in again.timings  # nothing changed: the last report, no DuckDB
    assert again.report.cycles[0].used == 4
    # Another allocation in site.toml: a new model (utilization 4/100 → 4/50).
    site.config.write_text(site.config.read_text().replace("monthly_credits = 100", "monthly_credits = 50"))
    changed = build(load_config(site.config), site.out)
    assert "model" in changed.timings and changed.report.cycles[0].utilization == 0.08
    site.write_export("a.csv", csv_text([event("e1", "2026-01-02T10:00:00Z", 6)]))
    assert build(load_config(site.config), site.out).report.cycles[0].used == 6


def test_an_unchanged_site_is_not_rebuilt_but_any_input_or_output_change_is(site):
    site.write_export("a.csv", csv_text([event("e1", "2026-01-02T10:00:00Z", 4)]))
    assert "Built " in site.build().stdout
    assert "Site is up to date" in site.build().stdout
    guide = site.root / "content" / "guides" / "glossary.md"  # the site's own guide overrides the shipped one
    guide.parent.mkdir(parents=True)
    guide.write_text("---\ntitle: Our words\n---\nUsed means what we say.\n")
    assert "Built " in site.build().stdout
    assert "Used means what we say." in (site.out / "guides/glossary/index.html").read_text()
    (site.out / "index.html").write_text("tampered")  # the output no longer holds what was built
    assert "Built " in site.build().stdout
    assert (site.out / "index.html").read_text() != "tampered"
    assert "Site is up to date" in site.build().stdout


def test_an_empty_export_added_later_is_still_an_error(site):
    site.write_export("a.csv", csv_text([event("e1", "2026-01-02T10:00:00Z", 1)]))
    assert site.build().returncode == 0
    site.write_export("b.csv", csv_text([]))  # header only, arriving when the cache already holds a.csv
    r = site.build()
    assert r.returncode == 3
    assert r.stderr.startswith("exports/b.csv: empty export: a header but no rows")


def test_the_model_key_follows_which_guides_exist(site):
    # Recommendations link a guide only when the site has it, so adding a guide is a new model.
    from generator.report.cache import model_key

    site.write_export("a.csv", csv_text([event("e1", "2026-01-02T10:00:00Z", 1)]))
    before = model_key(load_config(site.config))
    assert model_key(load_config(site.config)) == before
    (site.root / "content/guides").mkdir(parents=True)
    (site.root / "content/guides/house-rules.md").write_text("---\ntitle: House rules\n---\nBe kind.\n")
    assert model_key(load_config(site.config)) != before


def test_parquet_without_a_required_column_is_named(multi):
    import duckdb

    path = multi.root / "exports/a.parquet"
    write_parquet(path, [event("e1", "2026-01-02T10:00:00Z", 1)])  # then rewritten without its credits column
    duckdb.connect().execute(f"COPY (SELECT * EXCLUDE (credits) FROM read_parquet('{path}')) TO '{path}.tmp' (FORMAT parquet)")
    (multi.root / "exports/a.parquet.tmp").replace(path)
    r = multi.build()
    assert r.returncode == 3
    assert r.stderr.startswith("exports/a.parquet: credits: required column is missing from the header")
