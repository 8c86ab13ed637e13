"""Parts of the contract no other test pinned, through the CLI and the JSON users read."""

from __future__ import annotations

from conftest import BASIC_TOML, csv_text, event, run_cli, write_parquet


def test_custom_notify_levels_are_keyed_as_written(site):
    site.config.write_text(BASIC_TOML + "\n[thresholds]\nnotify = [0.25, 0.75]\n", encoding="utf-8")
    # Tier S: 100 credits. Cumulative 30 on 01-05 (≥ 25), 80 on 01-10 (≥ 75).
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 30),
                                         event("e2", "2026-01-10T10:00:00Z", 50)]))
    assert site.build().returncode == 0
    assert site.json("api/months/2026-01.json")["thresholds"] == {"0.25": "2026-01-05", "0.75": "2026-01-10"}


def test_parquet_with_typed_columns_is_read_like_text(site, tmp_path):
    import duckdb

    site.config.write_text(BASIC_TOML.replace('"exports/*.csv"', '"exports/*.parquet"'), encoding="utf-8")
    (site.root / "exports").mkdir()
    con = duckdb.connect()
    con.execute("""CREATE TABLE t AS SELECT 'p1' AS event_id, TIMESTAMPTZ '2026-01-05 10:00:00+00' AS timestamp,
        'ana' AS member, 'design' AS team, 'image' AS feature, 'generate' AS operation, 'm' AS model,
        2.5::DECIMAL(10, 2) AS credits, 3::INTEGER AS quantity, NULL::VARCHAR AS session_id, true AS knowledge""")
    con.execute("""INSERT INTO t VALUES ('p2', TIMESTAMPTZ '2026-01-06 23:30:00-05', 'bo', NULL, 'chat', 'response',
        NULL, 1.0, 1, 's', false)""")
    con.execute(f"COPY t TO '{site.root / 'exports' / 'a.parquet'}' (FORMAT parquet)")
    r = site.build()
    assert r.returncode == 0, r.stderr
    month = site.json("api/months/2026-01.json")
    # 23:30 at -05:00 is 04:30 UTC on the 7th; 2.5 + 1 = 3.5; p2 has no team: Unassigned.
    assert month["used"] == 3.5 and month["by_team"] == {"Unassigned": 1, "design": 2.5}
    assert [d for d in month["daily"] if d["credits"]] == [{"date": "2026-01-05", "credits": 2.5},
                                                          {"date": "2026-01-07", "credits": 1}]


def test_text_parquet_with_a_control_character_names_its_row(site):
    site.config.write_text(BASIC_TOML.replace('"exports/*.csv"', '"exports/*.parquet"'), encoding="utf-8")
    write_parquet(site.root / "exports" / "a.parquet", [
        {**event("p1", "2026-01-05T10:00:00Z", 1), "quantity": "1"},
        {**event("p2", "2026-01-05T11:00:00Z", 1, member="a\x07b"), "quantity": "1"}])
    r = site.build()
    assert r.returncode == 3
    assert r.stderr.startswith("exports/a.parquet:row 2: member: holds a control character (U+0007)"), r.stderr


def test_quiet_build_prints_nothing_and_check_without_a_site_says_so(site, tmp_path):
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5)]))
    quiet = site.build("-q")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    empty = tmp_path / "nowhere-here"
    empty.mkdir()
    r = run_cli("check", cwd=empty)
    assert r.returncode == 4
    assert r.stderr.startswith("public: no such directory (build the site first: make site)")
