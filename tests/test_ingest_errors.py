"""Bad exports: each class gives `file:line: column: reason`, exit 3, and leaves the output alone."""

from __future__ import annotations

import gzip

import pytest

from conftest import BASIC_TOML, HEADER, csv_text, event, tree_bytes

GOOD = [event("e1", "2026-01-05T10:00:00Z", 5), event("e2", "2026-01-06T10:00:00Z", 7)]


@pytest.fixture
def built(site):
    site.write_export("a.csv", csv_text(GOOD))
    assert site.build().returncode == 0
    return site


@pytest.mark.parametrize(("row", "message"), [
    (event("", "2026-01-07T10:00:00Z", 1), "event_id: required value is missing"),
    (event("e3", "", 1), "timestamp: required value is missing"),
    (event("e3", "yesterday", 1), "timestamp: 'yesterday' is not an ISO 8601 timestamp (e.g. 2026-10-01T09:30:00+02:00)"),
    (event("e3", "2026-02-30T10:00:00Z", 1), "timestamp: '2026-02-30T10:00:00Z' is not an ISO 8601 timestamp"),
    (event("e3", "2026-01-07T10:00:00Z", 1, member=""), "member: required value is missing"),
    (event("e3", "2026-01-07T10:00:00Z", 1, feature=" "), "feature: required value is missing"),
    (event("e3", "2026-01-07T10:00:00Z", "abc"), "credits: 'abc' is not a number"),
    (event("e3", "2026-01-07T10:00:00Z", ""), "credits: required value is missing"),
    (event("e3", "2026-01-07T10:00:00Z", "1e3"), "credits: '1e3' is not a number"),
    (event("e3", "2026-01-07T10:00:00Z", "+-1"), "credits: '+-1' is not a number"),
    (event("e3", "2026-01-07T10:00:00Z", "inf"), "credits: 'inf' is not a number"),
    (event("e3", "2026-01-07T10:00:00Z", "-1000000000000"), "credits: '-1000000000000' is too large"),
    (event("e3", "2026-01-07T10:00:00Z", "1234567890123"), "credits: '1234567890123' is too large"),
    (event("e3", "2026-01-07T10:00:00Z", "-3"), "credits: -3 is negative; only a refund (operation = refund) may be negative"),
    (event("e3", "2026-01-07T10:00:00Z", "3", operation="refund"), "credits: a refund must have negative credits, got 3"),
    (event("e3", "2026-01-07T10:00:00Z", "0.0000001"), "credits: '0.0000001' has more than 6 decimal places"),
    (event("e3", "2026-01-07T10:00:00Z", 1, quantity="0"), "quantity: '0' is not a whole number ≥ 1"),
    (event("e3", "2026-01-07T10:00:00Z", 1, quantity="1.5"), "quantity: '1.5' is not a whole number ≥ 1"),
    (event("e3", "2026-01-07T10:00:00Z", 1, knowledge="maybe"), "knowledge: 'maybe' is not a boolean (true/false, yes/no, 1/0)"),
])
def test_malformed_row(built, row, message):
    before = tree_bytes(built.out)
    built.write_export("b.csv", csv_text([*GOOD, row]))  # identical duplicates of GOOD, then the bad row on line 4
    r = built.build()
    assert r.returncode == 3, r.stderr
    assert r.stderr.splitlines()[0].startswith(f"exports/b.csv:4: {message}")
    assert r.stderr.splitlines()[-1] == "creditwise: 1 data error; nothing was written"
    assert "Traceback" not in r.stderr
    assert tree_bytes(built.out) == before


def test_conflicting_duplicate_names_both_places(built):
    built.write_export("b.csv", csv_text([event("e2", "2026-01-06T10:00:00Z", 8)]))
    r = built.build()
    assert r.returncode == 3
    assert "exports/b.csv:2: event_id: 'e2' was already read with different content at exports/a.csv:3" in r.stderr


def test_identical_duplicates_count_once(site):
    # a.csv: 5 + 7; b.csv repeats e2 (same content, other timestamp spelling) and adds e3 = 2 → used 14, not 21.
    site.write_export("a.csv", csv_text(GOOD))
    same_e2 = event("e2", "2026-01-06T11:00:00+01:00", "7.000")
    site.write_export("b.csv", csv_text([same_e2, event("e3", "2026-01-07T00:00:00Z", 2)]))
    assert site.build().returncode == 0
    assert site.json("api/months/2026-01.json")["used"] == 14


def test_first_twenty_errors_and_a_count(site):
    rows = [event(f"e{i}", "2026-01-05T10:00:00Z", "x") for i in range(25)]
    site.write_export("a.csv", csv_text(rows))
    r = site.build()
    lines = r.stderr.splitlines()
    assert r.returncode == 3
    assert len(lines) == 21
    assert lines[0].startswith("exports/a.csv:2: credits:") and lines[19].startswith("exports/a.csv:21: credits:")
    assert lines[-1] == "creditwise: 25 data errors; nothing was written"


def test_quoted_newlines_keep_line_numbers_exact(site):
    rows = [event("e1", "2026-01-05T10:00:00Z", 5, session_id="two\nlines"), event("e2", "2026-01-05T10:00:00Z", "bad")]
    site.write_export("a.csv", csv_text(rows))
    r = site.build()
    assert r.returncode == 3
    # A line end inside a value is a control character (SPEC §2.2); the record still spans lines 2-3.
    assert r.stderr.startswith("exports/a.csv:2: session_id: holds a control character (U+000A)\n"
                               "exports/a.csv:4: credits: 'bad' is not a number")


def test_misspelled_column_suggests_the_name(site):
    header = [h if h != "credits" else "credit" for h in HEADER]
    site.write_export("a.csv", csv_text([], header=header) + "e1,2026-01-05T10:00:00Z,a,,image,generate,,1,,,\n")
    r = site.build()
    assert r.returncode == 3
    assert "exports/a.csv:1: credit: unknown column (did you mean 'credits'?)" in r.stderr
    assert "exports/a.csv:1: credits: required column is missing from the header" in r.stderr


def test_columns_in_any_order(site):
    header = list(reversed(HEADER))
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5)], header=header))
    assert site.build().returncode == 0
    assert site.json("api/months/2026-01.json")["used"] == 5


@pytest.mark.parametrize(("content", "message"), [
    ("", "exports/a.csv: empty export: no header row"),
    (",".join(HEADER) + "\n", "exports/a.csv: empty export: a header but no rows"),
])
def test_empty_exports(site, content, message):
    site.write_export("a.csv", content)
    r = site.build()
    assert r.returncode == 3
    assert r.stderr.startswith(message)


def test_corrupt_gzip(site):
    site.config.write_text(BASIC_TOML.replace('"exports/*.csv"', '"exports/*.csv.gz"'))
    site.write_export("a.csv.gz", b"\x1f\x8b not really gzip")
    r = site.build()
    assert r.returncode == 3
    assert r.stderr.startswith("exports/a.csv.gz: cannot read")


def test_gzip_and_bom_are_read(site):
    site.config.write_text(BASIC_TOML.replace('["exports/*.csv"]', '["exports/*.csv", "exports/*.csv.gz"]'))
    site.write_export("a.csv", "\ufeff" + csv_text([event("e1", "2026-01-05T10:00:00Z", 5)]))
    site.write_export("b.csv.gz", gzip.compress(csv_text([event("e2", "2026-01-05T11:00:00Z", 2.5)]).encode(), mtime=0))
    assert site.build().returncode == 0
    assert site.json("api/months/2026-01.json")["used"] == 7.5


def test_glob_matching_nothing_warns_and_fails_under_strict(site):
    site.config.write_text(BASIC_TOML.replace('["exports/*.csv"]', '["exports/*.csv", "old/*.csv"]'))
    site.write_export("a.csv", csv_text(GOOD))
    r = site.build()
    assert r.returncode == 0
    assert "warning: site.toml: data.exports: 'old/*.csv' matches no file" in r.stderr
    r = site.build("--strict")
    assert r.returncode == 3
    assert "site.toml: data.exports: 'old/*.csv' matches no file" in r.stderr


def test_quarantine_leaves_bad_rows_out_and_accounts_for_every_row(site):
    from generator.config import load_config
    from generator.ingest.load import ingest

    quarantine = 'exports = ["exports/*.csv"]\non_error = "quarantine"'
    site.config.write_text(BASIC_TOML.replace('exports = ["exports/*.csv"]', quarantine))
    site.write_export("a.csv", csv_text([*GOOD, event("e3", "2026-01-06T10:00:00Z", "x")]))
    site.write_export("b.csv", csv_text([GOOD[0], event("e2", "2026-01-06T10:00:00Z", 9)]))
    result = ingest(load_config(site.config))
    # a.csv: e1 counted, e2 conflicts with b.csv (both quarantined), e3 bad → 1 counted + 2 quarantined
    # b.csv: e1 duplicate of a.csv, e2 conflicting → 1 duplicate + 1 quarantined
    a, b = result.files
    assert (a.rows, a.counted, a.duplicate, a.quarantined) == (3, 1, 0, 2)
    assert (b.rows, b.counted, b.duplicate, b.quarantined) == (2, 0, 1, 1)
    for f in result.files:
        assert f.rows == f.counted + f.duplicate + f.quarantined
    assert len(result.quarantined) == 2  # the bad credits row and the conflict (reported once, naming both)
    assert site.build().returncode == 0
    assert site.json("api/months/2026-01.json")["used"] == 5
    # Rows, not problems: 2 left out in a.csv + 1 in b.csv = 3, from 2 problems (issue 11, item 13).
    doc = site.json("api/site.json")
    assert (doc["quarantined_rows"], doc["quarantine_problems"]) == (3, 2)
    assert site.json("api/data-quality.json")["quarantined"] == 3
    assert "<strong>3 rows left out</strong>" in (site.out / "index.html").read_text(encoding="utf-8")
