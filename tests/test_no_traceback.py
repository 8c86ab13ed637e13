"""Exit 1 means a bug in Creditwise: no user input, however broken, gets a traceback (SPEC §5).

Each class of bad input found by a hostile read gets a clear exit 2 or 3 naming the file; random bytes
and random rows fed to the CSV and JSON Lines readers never end in an internal error."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BASIC_TOML, HEADER, Site, csv_text, event
from generator.analytics.slugs import MAX_LENGTH, assign_slugs
from generator.cli import main


def cli(site: Site, *extra: str) -> int:
    return main(["build", "-q", "--config", str(site.config), "--output", str(site.out), *extra])


@pytest.mark.parametrize(("data", "message"), [
    ((",".join(HEADER) + "\re1,2026-01-05T10:00:00Z,ana,d,image,generate,m,5,1,,\r").encode(),
     "exports/a.csv:1: lines end in CR alone (an old Mac format); save the export with LF or CRLF line ends"),
    (b"x" * 2_000_000, "exports/a.csv:1: the header line is longer than 512 KiB (is this a CSV export"),
    ((",".join(HEADER) + "\n" + "e1,2026-01-05T10:00:00Z,ana,d,image,generate,m,5,1,," + "y" * 9_000_000).encode(),
     "exports/a.csv:2: row: the line is longer than 8 MiB"),
])
def test_files_of_the_wrong_shape_are_data_errors(site, capsys, data, message):
    site.write_export("a.csv", data)
    assert cli(site) == 3
    err = capsys.readouterr().err
    assert err.startswith(message), err


def test_mixed_lf_and_crlf_line_ends_are_read(site):
    rows = [f"e{i},2026-01-05T1{i}:00:00Z,ana,d,image,generate,m,{i},1,," for i in range(1, 4)]
    site.write_export("a.csv", (",".join(HEADER) + "\r\n" + rows[0] + "\n" + rows[1] + "\r\n" + rows[2] + "\n").encode())
    assert cli(site) == 0
    assert site.json("api/months/2026-01.json")["used"] == 6  # 1 + 2 + 3


def test_a_loop_of_links_and_a_dangling_link_name_the_file(site, capsys):
    exports = site.root / "exports"
    exports.mkdir()
    os.symlink("loop-b.csv", exports / "loop-a.csv")
    os.symlink("loop-a.csv", exports / "loop-b.csv")
    assert cli(site) == 3
    assert "exports/loop-a.csv: a symbolic link that loops" in capsys.readouterr().err
    for name in ("loop-a.csv", "loop-b.csv"):
        (exports / name).unlink()
    os.symlink("gone.csv", exports / "dangling.csv")
    assert cli(site) == 3
    assert "exports/dangling.csv: cannot be read: No such file or directory" in capsys.readouterr().err


@pytest.mark.parametrize(("setting", "message"), [
    ("notify = [1e308]", "thresholds.notify[0]: Input should be less than or equal to 10"),
    ("burn_window_days = 1000000000000", "thresholds.burn_window_days: Input should be less than or equal to 366"),
    ("spike_factor = 1e308", "thresholds.spike_factor: Input should be less than or equal to 1000000"),
    ("baseline_cycles = 1000000000000", "thresholds.baseline_cycles: Input should be less than or equal to 1200"),
])
def test_thresholds_beyond_any_meaning_are_config_errors(site, capsys, setting, message):
    site.config.write_text(BASIC_TOML + f"\n[thresholds]\n{setting}\n", encoding="utf-8")
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5)]))
    assert cli(site) == 2
    assert message in capsys.readouterr().err


def test_a_300_character_team_name_gets_a_short_slug_and_pages(site):
    long_a, long_b = "T" * 300, "T" * 299 + "u"  # the same first 80 characters
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5, team=long_a),
                                         event("e2", "2026-01-05T11:00:00Z", 3, team=long_b)]))
    assert cli(site) == 0
    slugs = site.json("api/site.json")["slugs"]["teams"]
    assert len(slugs[long_a]) <= MAX_LENGTH and len(slugs[long_b]) <= MAX_LENGTH and slugs[long_a] != slugs[long_b]
    assert site.json(f"api/teams/{slugs[long_a]}.json")["cycles"][-1]["credits"] == 5


@given(st.lists(st.text(min_size=1, max_size=400), min_size=1, max_size=8, unique=True))
def test_slugs_stay_short_and_distinct(names):
    slugs = assign_slugs(names)
    assert len(set(slugs.values())) == len(names)
    assert all(0 < len(s) <= MAX_LENGTH for s in slugs.values())


# --- random input never gives exit 1 ----------------------------------------------------------

CELL = st.one_of(st.text(max_size=12), st.sampled_from(["2026-01-05T10:00:00Z", "5", "-1", "1e3", "refund", "image",
                                                         "generate", "true", "9999-01-01T00:00:00Z", "", " "]))
ROW = st.lists(CELL, min_size=0, max_size=len(HEADER) + 2)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def fresh(tmp_path_factory, pattern: str = "exports/*.csv") -> Site:
    site = Site(tmp_path_factory.mktemp("random"))
    site.config.write_text(BASIC_TOML.replace('"exports/*.csv"', f'"{pattern}"'), encoding="utf-8")
    return site


@SETTINGS
@given(data=st.binary(max_size=600))
def test_random_bytes_as_csv_never_end_in_an_internal_error(tmp_path_factory, data):
    site = fresh(tmp_path_factory)
    site.write_export("a.csv", (",".join(HEADER) + "\n").encode() + data)
    assert cli(site) in (0, 3)


@SETTINGS
@given(rows=st.lists(ROW, min_size=1, max_size=6))
def test_random_rows_as_csv_never_end_in_an_internal_error(tmp_path_factory, rows):
    site = fresh(tmp_path_factory)
    site.write_export("a.csv", csv_text(rows))
    assert cli(site) in (0, 3)


@SETTINGS
@given(data=st.binary(max_size=600))
def test_random_bytes_as_json_lines_never_end_in_an_internal_error(tmp_path_factory, data):
    site = fresh(tmp_path_factory, "exports/*.jsonl")
    site.write_export("a.jsonl", data)
    assert cli(site) in (0, 3)


JSON_VALUE = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | CELL,
                          lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner,
                                                                                      max_size=2), max_leaves=4)


@SETTINGS
@given(objs=st.lists(st.dictionaries(st.sampled_from([*HEADER, "extra"]), JSON_VALUE, max_size=12), min_size=1,
                     max_size=5))
def test_random_objects_as_json_lines_never_end_in_an_internal_error(tmp_path_factory, objs):
    site = fresh(tmp_path_factory, "exports/*.jsonl")
    site.write_export("a.jsonl", "".join(json.dumps(o) + "\n" for o in objs))
    assert cli(site) in (0, 3)


# --- surprising but valid inputs: a warning, and a failure under --strict --------------------------


def test_far_future_as_of_and_a_stray_topup_are_warned_about(site):
    from conftest import run_cli

    toml = BASIC_TOML.replace('timezone = "UTC"', 'timezone = "UTC"\nas_of = 2026-06-15T12:00:00Z')
    toml += '\n[[topups]]\ndate = 2025-11-20\ncredits = 40\nprice = 5\n'
    site.config.write_text(toml, encoding="utf-8")
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5)]))
    r = site.build()
    assert r.returncode == 0, r.stderr
    # Cycles 2026-01 … 2026-06: the last with events is 2026-01, so 5 empty cycles follow it.
    assert ("warning: site.toml: site.as_of: 2026-06-15 12:00:00+00:00 lies 5 cycles after the last cycle with "
            "events (2026-01); the site reports 5 empty cycles up to it") in r.stderr
    assert ("warning: site.toml: topups[0]: the top-up of 2025-11-20 falls in no reported cycle (2026-01 to 2026-06), "
            "so its 40 credits count nowhere") in r.stderr
    strict = run_cli("build", "--config", str(site.config), "--output", str(site.out), "--strict")
    assert strict.returncode == 3 and "site.as_of: 2026-06-15" in strict.stderr


def test_as_of_two_cycles_past_the_data_and_topups_inside_are_quiet(site):
    toml = BASIC_TOML.replace('timezone = "UTC"', 'timezone = "UTC"\nas_of = 2026-03-15T12:00:00Z')
    toml += '\n[[topups]]\ndate = 2026-03-01\ncredits = 40\nprice = 5\n'
    site.config.write_text(toml, encoding="utf-8")
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5)]))
    r = site.build()
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
