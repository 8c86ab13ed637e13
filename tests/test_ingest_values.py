"""A value that cannot be what its column means is a data error, never read as something else (SPEC §2.2):
too large for its type, an offset outside ±18:00 or a zone name, a year outside 1970–2200, a control
character; and a value of white space alone (any Unicode white space) is blank."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import BASIC_TOML, Site, csv_text, event


@pytest.mark.parametrize(("row", "message"), [
    (event("e1", "2026-01-05T10:00:00Z", 5, quantity="99999999999999999999"),
     "quantity: '99999999999999999999' is too large"),
    (event("e1", "2026-01-05T10:00:00Z", "99999999999999999999"), "credits: '99999999999999999999' is too large"),
    (event("e1", "2026-01-05T10:00:00+25:00", 5), "timestamp: '2026-01-05T10:00:00+25:00' has a UTC offset outside ±18:00"),
    (event("e1", "2026-01-05T10:00:00-1801", 5), "timestamp: '2026-01-05T10:00:00-1801' has a UTC offset outside ±18:00"),
    (event("e1", "2026-01-05T10:00:00+05:75", 5), "timestamp: '2026-01-05T10:00:00+05:75' has a UTC offset outside ±18:00"),
    (event("e1", "2026-01-05T10:00:00 America/New_York", 5),
     "timestamp: '2026-01-05T10:00:00 America/New_York' names a time zone; write its UTC offset instead"),
    (event("e1", "9999-01-05T10:00:00Z", 5), "timestamp: '9999-01-05T10:00:00Z' lies outside the years 1970–2200"),
    (event("e1", "1969-12-31T23:59:59Z", 5), "timestamp: '1969-12-31T23:59:59Z' lies outside the years 1970–2200"),
    (event("e1", "2026-01-05T10:00:00Z", 5, member="\t"), "member: required value is missing"),
    (event("\u3000", "2026-01-05T10:00:00Z", 5), "event_id: required value is missing"),
    (event("e1", "2026-01-05T10:00:00Z", 5, member="a\x01na"), "member: holds a control character (U+0001)"),
    (event("e1", "2026-01-05T10:00:00Z", 5, feature="ima\ufffege"), "feature: holds a control character (U+FFFE)"),
    (event("e1", "2026-01-05T10:00:00Z", 5, team="de\x85sign"), "team: holds a control character (U+0085)"),
])
def test_a_value_that_is_not_what_its_column_means_is_a_data_error(site, row, message):
    site.write_export("a.csv", csv_text([row]))
    r = site.build()
    assert r.returncode == 3, r.stderr
    assert r.stderr.startswith(f"exports/a.csv:2: {message}"), r.stderr
    assert not site.out.exists()


def test_offsets_up_to_18_hours_are_read_exactly(site):
    # 10:00 at -18:00 is 04:00 UTC the next day; at +18:00 it is 16:00 UTC the day before.
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00-18:00", 5),
                                         event("e2", "2026-01-05T10:00:00+1800", 7),
                                         event("e3", "2026-01-05T10:00:00+05", 1)]))
    r = site.build()
    assert r.returncode == 0, r.stderr
    daily = {d["date"]: d["credits"] for d in site.json("api/months/2026-01.json")["daily"] if d["credits"]}
    assert daily == {"2026-01-04": 7, "2026-01-05": 1, "2026-01-06": 5}


WHITE = st.text(st.sampled_from(" \t\u00a0\u2003\u3000\u2028\u000b\u000c\u001f\u0085"), min_size=1, max_size=4)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blank=WHITE)
def test_a_team_of_white_space_alone_takes_the_teams_mapping_or_unassigned(tmp_path_factory, blank):
    site = Site(tmp_path_factory.mktemp("blank-team"))
    site.config.write_text(BASIC_TOML + '\n[teams]\n"ana@example.com" = "design"\n', encoding="utf-8")
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5, team=blank),
                                         event("e2", "2026-01-05T11:00:00Z", 3, team=blank, member="bo@example.com")]))
    r = site.build()
    assert r.returncode == 0, r.stderr
    # ana is mapped to design in [teams]; bo is not, so bo's 3 credits are Unassigned.
    assert site.json("api/months/2026-01.json")["by_team"] == {"design": 5, "Unassigned": 3}


CONTROL = st.one_of(st.integers(0x00, 0x1F), st.integers(0x7F, 0x9F), st.sampled_from([0xFFFE, 0xFFFF, 0xFDD0]))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=CONTROL, column=st.sampled_from(["member", "team", "feature", "operation", "model", "session_id"]),
       prefix=st.text("abc", min_size=1, max_size=3))
@example(code=0x0D, column="member", prefix="a").via("a lone CR, which hypothesis found once")
def test_a_control_character_in_any_text_value_names_file_line_and_column(tmp_path_factory, code, column, prefix):
    site = Site(tmp_path_factory.mktemp("control"))
    site.config.write_text(BASIC_TOML, encoding="utf-8")
    value = prefix + chr(code) + "x"
    row = event("e1", "2026-01-05T10:00:00Z", 5, **{column: value})
    site.write_export("a.csv", csv_text([event("e0", "2026-01-05T09:00:00Z", 1), row]))
    r = site.build()
    assert r.returncode == 3, r.stderr
    if code == 0x0D:  # csv.writer leaves a lone CR unquoted: it breaks the line itself, so the line is named
        assert "exports/a.csv:3: a carriage return (CR) in the middle of a line, outside quotes" in r.stderr, r.stderr
    else:
        assert f"exports/a.csv:3: {column}: holds a control character (U+{code:04X})" in r.stderr, r.stderr


# --- JSON Lines: one rule for a value however it is written -------------------------------------

BASE = '"event_id": "j1", "timestamp": "2026-01-05T10:00:00Z", "member": "ana", "feature": "image", ' \
       '"operation": "generate"'


@pytest.mark.parametrize(("line", "message"), [
    ('{' + BASE + ', "credits": 5, "credits": 7}', "credits: the key is given twice in one line"),
    ('{' + BASE + ', "credits": 5, "colour": "red"}', "colour: not a column (a key must be one of: event_id,"),
    ('{' + BASE + ', "credits": 5, "team": {"name": "x"}}', "team: a JSON object where a value belongs"),
    ('{' + BASE + ', "credits": 5, "model": ["a", "b"]}', "model: a JSON array where a value belongs"),
    ('{' + BASE + ', "credits": 1e1}', "credits: '1e1' is not a number"),
    ('{' + BASE + ', "credits": "1e1"}', "credits: '1e1' is not a number"),
    ('{' + BASE.replace("10:00:00Z", "10:00:00 America/New_York") + ', "credits": 5}',
     "timestamp: '2026-01-05T10:00:00 America/New_York' names a time zone"),
])
def test_a_json_line_of_the_wrong_shape_is_a_data_error_on_its_line(site, line, message):
    site.config.write_text(BASIC_TOML.replace('"exports/*.csv"', '"exports/*.jsonl"'), encoding="utf-8")
    good = '{"event_id": "j0", "timestamp": "2026-01-05T09:00:00Z", "member": "ana", "feature": "image", ' \
           '"operation": "generate", "credits": 1}'
    site.write_export("a.jsonl", good + "\n" + line + "\n")
    r = site.build()
    assert r.returncode == 3, r.stderr
    assert r.stderr.startswith(f"exports/a.jsonl:2: {message}"), r.stderr


def test_valid_json_lines_are_read_with_their_values(site):
    """JSON numbers, booleans and strings for the same values give the same figures."""
    site.config.write_text(BASIC_TOML.replace('"exports/*.csv"', '"exports/*.jsonl"'), encoding="utf-8")
    site.write_export("a.jsonl", "\n".join([
        '{' + BASE + ', "credits": 2.5, "quantity": 2, "knowledge": true, "team": "design"}',
        '{' + BASE.replace('"j1"', '"j2"') + ', "credits": "1.25", "quantity": "3", "knowledge": "no", "team": "ops"}',
        '{' + BASE.replace('"j1"', '"j3"').replace("generate", "edit") + ', "credits": 1, "team": "  "}',
    ]) + "\n")
    r = site.build()
    assert r.returncode == 0, r.stderr
    month = site.json("api/months/2026-01.json")
    # 2.5 + 1.25 + 1 = 4.75; the blank team of j3 is Unassigned.
    assert month["used"] == 4.75
    assert month["by_team"] == {"design": 2.5, "ops": 1.25, "Unassigned": 1}
    [cycle] = site.json("api/features/image.json")["cycles"]
    # generate: j1 quantity 2 (a JSON number) + j2 quantity 3 (a string) = 5 items for 3.75 credits;
    # edit: j3 without quantity counts 1. Knowledge: only j1 (true; j2's "no" is false): 2.5 credits.
    assert cycle["by_operation"] == {"generate": {"events": 2, "credits": 3.75, "quantity": 5},
                                     "edit": {"events": 1, "credits": 1, "quantity": 1}}
    assert cycle["efficiency"]["knowledge"]["events"] == 1 and cycle["efficiency"]["knowledge"]["credits"] == 2.5


@pytest.mark.parametrize(("data", "may"), [
    (b"a,b\n1,plain\n", False),
    (b'a,b\n1,"x,""quoted"""\n2,3\n', False),  # quotes and commas inside quotes: nothing to see
    (b"a,b\r\n1,x\r\n", False),  # CRLF line ends are not in a value
    ("a,b\n1,Zoë Åberg\u3000x\n".encode(), False),  # other non-ASCII text is fine
    (b'a,b\n1,"two\nlines"\n', True),
    (b'a,b\n1,"cr\rinside"\n', True),
    (b"a,b\n1,tab\there\n", True),
    ("a,b\n1,é\u0085\n".encode(), True),
    ("a,b\n1,\ufffe\n".encode(), True),
    (b'a,b\n1,"never closed\n', True),
])
@pytest.mark.parametrize("all_at_once", [False, True])
def test_the_byte_scan_that_spares_clean_csv_files_the_row_test_misses_nothing(tmp_path, monkeypatch, data, may,
                                                                                all_at_once):
    from generator.ingest import exports

    path = tmp_path / "a.csv"
    path.write_bytes(data)
    export = exports.ExportFile(path, "a.csv", "csv")
    if all_at_once:  # as a large ingest scans: every file at once, numpy first (here from 0 bytes on)
        monkeypatch.setattr(exports, "_NUMPY_FROM", 0)
        exports.scan_for_control_characters([export])
        assert exports._CONTROL_VERDICTS[exports._verdict_key(export)] is may
    assert exports.may_hold_control_characters(export) is may


# The fast path decides "bad" with a shortcut for the common timestamp shapes; the explanation uses every
# check in full. They must agree on every timestamp text, or a bad row would count (or a good one be left out).
_TIMES = st.one_of(
    st.builds(lambda d, h, m, s, z: f"2026-{d}T{h}:{m}:{s}{z}",
              st.sampled_from(["01-05", "02-30", "13-01", "1-05"]),
              st.sampled_from(["00", "09", "23", "24", "9"]), st.sampled_from(["00", "59", "60"]),
              st.sampled_from(["00", "59", "61", "00.123", "5"]),
              st.sampled_from(["Z", "z", "+00:00", "-04:00", "+18:00", "+18:01", "-19:00", "+05:60", "+05:75",
                               "+0530", "+05", "", " UTC", " America/New_York", "+ab:cd", "Z "])),
    st.text(alphabet="0123456789-:T+Z. ", min_size=10, max_size=26),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TIMES, min_size=1, max_size=20))
def test_the_fast_timestamp_verdict_is_the_full_checks(times):
    import duckdb

    from generator.ingest.exports import COLUMNS
    from generator.ingest.sql import typed_sql

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    values = {"event_id": "e", "member": "ana", "feature": "image", "operation": "generate", "credits": "1"}
    cols = ", ".join(f"{(chr(39) + values[c] + chr(39)) if c in values else 'NULL'}::VARCHAR AS {c}"
                     for c in COLUMNS if c != "timestamp")
    source = (f"SELECT t AS timestamp, {cols}, NULL AS json_problem, false AS check_text, 0 AS file_id "
              "FROM (SELECT unnest(?::VARCHAR[]) AS t)")
    fast = con.execute(f"SELECT ts_text, bad FROM ({typed_sql(source, 'UTC', explain=False)})", [times]).fetchall()
    full = con.execute(f"SELECT problem IS NOT NULL FROM ({typed_sql(source, 'UTC')})", [times]).fetchall()
    assert [b for _, b in fast] == [p for (p,) in full], list(zip(times, fast, full, strict=True))


# The same agreement for whole rows: every column's checks have a cheaper form in the fast verdict (guards
# that skip the costly part for common values, a DOUBLE cast only where the DECIMAL one failed).
_CREDITS = st.one_of(st.sampled_from(["1", "-2.5", "+1", ".5", "5.", "1e3", "1E3", "1_0", "inf", "nan", "+-1", "0x1F",
                                      "1.0000000", "1.0000001", "-0.1234567", "99999999999999999999", " 1", "1 ",
                                      "", " ", "\u00a0", "12.345678", "0.000000100"]),
                     st.text(alphabet="0123456789.+-eE_ x", max_size=12))
_QUANTITY = st.one_of(st.none(), st.sampled_from(["1", "0", "+1", "01", "1.0", ".5", "0x10", "1e3", "٣", "9" * 19, "-1",
                                                  " 2", ""]), st.text(alphabet="0123456789+-.x ", max_size=6))
_KNOWLEDGE = st.one_of(st.none(), st.sampled_from(["true", "FALSE", "Yes", "n", "1", "0", "maybe", "", " "]))
_NAME = st.one_of(st.sampled_from(["ana", "", " ", "\u3000", "a\x01b", "x\x85", "\ufffe", "refund", "image"]),
                  st.text(max_size=5))
_ROWS = st.fixed_dictionaries({
    "event_id": st.one_of(st.just("e1"), _NAME), "timestamp": st.one_of(st.just("2026-01-05T10:00:00Z"), _TIMES),
    "member": _NAME, "team": st.one_of(st.none(), _NAME), "feature": _NAME,
    "operation": st.one_of(st.sampled_from(["generate", "refund"]), _NAME), "model": st.one_of(st.none(), _NAME),
    "credits": _CREDITS, "quantity": _QUANTITY, "session_id": st.one_of(st.none(), _NAME), "knowledge": _KNOWLEDGE,
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ROWS, min_size=1, max_size=12), st.booleans())
def test_the_fast_row_verdict_is_the_full_checks(rows, check_text):
    import json

    import duckdb

    from generator.ingest.exports import COLUMNS
    from generator.ingest.sql import typed_sql

    # A file is spared the control-character test only when none of its bytes is one (exports.py's byte scan).
    controls = any(any(ch < " " or "\x7f" <= ch <= "\x9f" or ch in "\ufffe\uffff" or "\ufdd0" <= ch <= "\ufdef"
                       for ch in v) for row in rows for v in row.values() if v)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cols = ", ".join(f"r->>'{c}' AS {c}" for c in COLUMNS)
    source = (f"SELECT {cols}, NULL AS json_problem, {str(check_text or controls).lower()} AS check_text, 0 AS file_id "
              "FROM (SELECT unnest(?::JSON[]) AS r)")
    texts = [json.dumps(row) for row in rows]
    fast = con.execute(f"SELECT bad FROM ({typed_sql(source, 'UTC', explain=False)})", [texts]).fetchall()
    full = con.execute(f"SELECT problem FROM ({typed_sql(source, 'UTC')})", [texts]).fetchall()
    assert [b for (b,) in fast] == [p is not None for (p,) in full], list(zip(rows, fast, full, strict=True))


# The checks written with guards (sql.py), in their plain form: a guard may only skip work, never a verdict.
_PLAIN_CHECKS = {
    "is not a number": "contains(credits_text, 'e') OR contains(credits_text, 'E') OR contains(credits_text, '_')"
                       " OR credits IS NULL AND NOT coalesce(isfinite(TRY_CAST(credits_text AS DOUBLE))"
                       " AND abs(TRY_CAST(credits_text AS DOUBLE)) >= 1e12, false)",
    "has more than 6 decimal places": "strpos(credits_text, '.') > 0 AND length(split_part(credits_text, '.', 2)) > 6"
                                      " AND length(rtrim(split_part(credits_text, '.', 2), '0')) > 6",
    "is not a whole number": "quantity_text IS NOT NULL AND NOT coalesce(quantity_raw >= 1"
                             " AND regexp_full_match(quantity_text, '^[+]?0*[1-9][0-9]*$'), false)",
}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_CREDITS, _QUANTITY), min_size=1, max_size=20))
@example([(".0000001", None), ("-.1234567", "1"), ("1.1234560", "٣")])
def test_a_guarded_check_says_what_its_plain_form_says(values):
    import duckdb

    from generator.ingest.exports import COLUMNS
    from generator.ingest.sql import CHECKS, typed_sql

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cols = ", ".join({"credits": "v[1]", "quantity": "v[2]"}.get(c, "NULL") + f" AS {c}" for c in COLUMNS)
    source = f"SELECT {cols}, NULL AS json_problem, true AS check_text, 0 AS file_id FROM (SELECT unnest(?) AS v)"
    typed = typed_sql(source, "UTC")
    for reason, plain in _PLAIN_CHECKS.items():
        (guarded,) = [cond for _col, cond, why in CHECKS if reason in why]
        got = con.execute(f"SELECT coalesce({guarded}, false), coalesce({plain}, false) FROM ({typed})",
                          [[list(v) for v in values]]).fetchall()
        assert [g for g, _ in got] == [p for _, p in got], (reason, list(zip(values, got, strict=True)))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40).map(lambda b: bytes(b'a",\n\r'[x % 5] for x in b)), st.sampled_from([0, 1, 2, 1_000_000]))
def test_quoted_fields_one_by_one_say_what_the_whole_file_expression_says(data, one_by_one):
    # The file-wide expression reads the quotes pair by pair too; the loop hands over to it after `one_by_one`.
    from generator.ingest import exports

    whole = exports._QUOTED_WITHOUT_LINE_ENDS.match(data).end() != len(data)
    old, exports._QUOTED_ONE_BY_ONE = exports._QUOTED_ONE_BY_ONE, one_by_one
    try:
        assert exports._line_end_inside_quotes(data) is whole
    finally:
        exports._QUOTED_ONE_BY_ONE = old


# Bytes as exports hold them: printable text, quotes, commas, line ends, now and then a control byte, DEL, a
# UTF-8 letter, a C1 control (\xc2\x85) or a noncharacter (\xef\xbf\xbe), and sometimes long (past numpy's
# 4 MB chunks, with the rare byte at either end).
_PIECES = [b"a", b"7", b" ", b",", b'"', b"\n", b"\r\n", b"\r", b"\t", b"\x00", b"\x1f", b"\x7f", "é".encode(),
           b"\xc2\x85", b"\xef\xbf\xbe", b"\xef\xb7\x90"]
export_bytes = st.lists(st.sampled_from(_PIECES), max_size=60).map(b"".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(export_bytes, st.sampled_from([0, 5 << 20]))
@example(b"", 0)
@example(b"ok,1\n", 5 << 20)
@example(b"\x01", 5 << 20)
def test_a_files_control_character_verdict_is_the_same_from_numpy_and_from_the_bytes(tmp_path, data, padding):
    from generator.ingest import exports

    # 5 MB of plain text before the sample: the rare byte falls in numpy's second chunk
    data = b"x" * padding + data
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    assert exports._scan(path, numpy_first=True) is exports._control_bytes_in(data)
