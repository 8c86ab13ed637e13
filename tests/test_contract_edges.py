"""Edges of the contract no other test pinned, through the CLI and the JSON users read, each with its
hand arithmetic: a burn window across a DST change, a zero-length window, as_of at a cycle end, the
spike rule's edges, the plan's figures under `insufficient-history`, the `[teams]` mapping, a naive
time in a DST gap, and every exit code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import BASIC_TOML, REPO, csv_text, event, run_cli

BIG_TIER = BASIC_TOML.replace("monthly_credits = 100", "monthly_credits = 5000")


def berlin_site(site, day: int = 15, extra: str = "") -> None:
    site.config.write_text(BIG_TIER.replace('timezone = "UTC"', f'timezone = "Europe/Berlin"\ncycle_start_day = {day}')
                           + extra, encoding="utf-8")


def approx(x: float):
    return pytest.approx(x, abs=1e-9)


# --- the burn window across a DST change -------------------------------------------------------------

@pytest.mark.parametrize(("rows", "as_of", "hours", "days_left", "cycle"), [
    # Spring: Sun 2026-03-29 02:00 CET → 03:00 CEST. as_of = Thu Apr 2 12:00 CEST = 10:00Z; 7 days earlier on the
    # wall clock is Thu Mar 26 12:00 CET = 11:00Z, so the window is 7 × 24 − 1 = 167 h. The 11:00Z event sits on
    # the open end (out; a 168-hour window would take it in); 100 + 67 = 167 credits → 167 ÷ (167/24) = 24 a day.
    # The cycle (start day 15) ends Wed Apr 15 00:00 CEST = Apr 14 22:00Z: 12 d 12 h = 12.5 days after as_of.
    ([event("s0", "2026-03-26T11:00:00Z", 1000), event("s1", "2026-03-26T11:30:00Z", 100),
      event("s2", "2026-04-02T10:00:00Z", 67)], "2026-04-02T12:00:00+02:00", 167, 12.5, "2026-03"),
    # Autumn: Sun 2026-10-25 03:00 CEST → 02:00 CET. as_of = Wed Oct 28 12:00 CET = 11:00Z; Oct 21 12:00 CEST = 10:00Z
    # opens the window: 7 × 24 + 1 = 169 h. The 10:30Z event is in (a 168-hour window would start at 11:00Z and
    # leave it out); 100 + 69 = 169 credits → 169 ÷ (169/24) = 24 a day. The cycle ends Sun Nov 15 00:00 CET =
    # Nov 14 23:00Z: 17 d 12 h = 17.5 days after as_of.
    ([event("a0", "2026-10-21T10:00:00Z", 1000), event("a1", "2026-10-21T10:30:00Z", 100),
      event("a2", "2026-10-28T11:00:00Z", 69)], "2026-10-28T12:00:00+01:00", 169, 17.5, "2026-10"),
])
def test_a_burn_window_across_a_dst_change_is_its_real_length(site, rows, as_of, hours, days_left, cycle):
    berlin_site(site)
    site.write_export("a.csv", csv_text(rows))
    r = site.build()
    assert r.returncode == 0, r.stderr
    assert site.json("api/site.json")["as_of"] == as_of
    month = site.json(f"api/months/{cycle}.json")
    assert month["burn_window_length_days"] == approx(hours / 24)
    assert month["burn_rate"] == approx(24)
    assert month["days_left"] == approx(days_left)
    # used = 1000 + 100 + 67 (or 69) = 1167 (1169); projected = used + 24 × days left: 1467 (1589), under 5000.
    assert month["used"] == 1000 + hours
    assert month["projected_used"] == approx(1000 + hours + 24 * days_left)
    assert month["consumption_warning"] is False and month["projected_exhaustion"] is None


# --- a zero-length window and as_of at a cycle end ----------------------------------------------------

def test_as_of_exactly_at_a_cycle_end_completes_it_and_starts_an_empty_current_cycle(site):
    site.config.write_text(BASIC_TOML.replace('timezone = "UTC"', 'timezone = "UTC"\nas_of = 2026-02-01T00:00:00'),
                           encoding="utf-8")
    site.write_export("a.csv", csv_text([event("e1", "2026-01-10T10:00:00Z", 30), event("e2", "2026-01-31T23:59:59Z", 10)]))
    r = site.build()
    assert r.returncode == 0, r.stderr
    assert site.json("api/site.json")["cycles"] == ["2026-01", "2026-02"]
    jan = site.json("api/months/2026-01.json")
    # January ends Feb 1 00:00 = as_of: complete (end ≤ as_of). 30 + 10 = 40 used, 100 − 40 = 60 expired.
    assert (jan["complete"], jan["current"], jan["used"], jan["expired"]) == (True, False, 40, 60)
    feb = site.json("api/months/2026-02.json")
    # February holds as_of (start ≤ as_of < end): current and empty. The window (Jan 25, Feb 1 00:00] clipped to the
    # cycle start has no length: burn rate 0, so projected = 0 + 0 × 28 days left = 0.
    assert (feb["complete"], feb["current"], feb["used"], feb["remaining"]) == (False, True, 0, 100)
    assert feb["expired"] is None and feb["exhausted_on"] is None
    assert feb["burn_window_length_days"] == 0 and feb["burn_rate"] == 0
    assert feb["days_left"] == 28 and feb["projected_used"] == 0
    assert feb["consumption_warning"] is False and feb["projected_exhaustion"] is None
    assert len(feb["daily"]) == 28 and all(d["credits"] == 0 for d in feb["daily"])
    assert site.json("api/plan.json")["current_tier"] == "S"


def test_a_zero_length_window_counts_the_event_at_the_cycle_start_but_burns_nothing(site):
    site.config.write_text(BASIC_TOML.replace('timezone = "UTC"', 'timezone = "UTC"\nas_of = 2026-02-01T00:00:00'),
                           encoding="utf-8")
    site.write_export("a.csv", csv_text([event("e1", "2026-01-10T10:00:00Z", 30), event("e2", "2026-02-01T00:00:00Z", 5)]))
    r = site.build()
    assert r.returncode == 0, r.stderr
    feb = site.json("api/months/2026-02.json")
    # The event at the cycle start (= as_of) is February's: used 5. The window has length 0: burn rate 0 (README),
    # projected = 5 + 0 × 28 = 5.
    assert feb["used"] == 5 and feb["daily"][0] == {"date": "2026-02-01", "credits": 5}
    assert feb["burn_window_length_days"] == 0 and feb["burn_rate"] == 0 and feb["projected_used"] == 5
    assert site.json("api/months/2026-01.json")["used"] == 30


# --- spikes -----------------------------------------------------------------------------------------

def spike_days(site) -> list[dict]:
    return [s for c in site.json("api/site.json")["cycles"] for s in site.json(f"api/months/{c}.json")["spikes"]]


def spike_alerts(site) -> list[str]:
    return [a["date"] for a in site.json("api/alerts.json") if a["kind"] == "spike"]


def daily_rows(first_day: int, values: list[str]) -> list[dict]:
    return [event(f"d{i}", f"2026-01-{first_day + i:02d}T12:00:00Z", v) for i, v in enumerate(values)]


@pytest.mark.parametrize(("history", "day", "spike"), [
    # 7 days of 0.7 before: median 0.7, 3 × 0.7 = 2.1 exactly. 2.1 does not exceed it; 2.100001 does.
    (["0.7"] * 7, "2.1", False),
    (["0.7"] * 7, "2.100001", True),
    # 7 days of 1 before (the least history allowed): 10 > 3 × 1 is a spike; with 6 days it is too early to say.
    (["1"] * 7, "10", True),
    (["1"] * 6, "10", False),
])
def test_a_spike_exceeds_the_factor_times_the_median_with_a_week_of_history(site, history, day, spike):
    site.write_export("a.csv", csv_text(daily_rows(1, [*history, day])))
    r = site.build()
    assert r.returncode == 0, r.stderr
    date = f"2026-01-{len(history) + 1:02d}"
    if spike:
        [found] = spike_days(site)
        assert (found["date"], found["credits"], found["median"]) == (date, float(day), approx(float(history[0])))
        assert spike_alerts(site) == [date]
    else:
        assert spike_days(site) == [] and spike_alerts(site) == []


def test_the_median_looks_back_28_days_and_no_further(site):
    # Jan 1: 1000 (29 days before Jan 30, left out). Jan 2: 2 (28 days before, in). Jan 3–29 (27 days): 14 × 1 then
    # 13 × 2. The 28 days before Jan 30 hold 14 ones and 14 twos: median (1 + 2) ÷ 2 = 1.5 (with Jan 1 it would be
    # 2; without Jan 2, 1). Jan 30: 5 > 3 × 1.5 = 4.5, a spike with factor 5 ÷ 1.5 = 3.333….
    # No earlier day is one: every median from Jan 8 on is at least 1, and no day before Jan 30 exceeds 3.
    site.write_export("a.csv", csv_text(daily_rows(1, ["1000", "2"] + ["1"] * 14 + ["2"] * 13 + ["5"])))
    r = site.build()
    assert r.returncode == 0, r.stderr
    assert spike_days(site) == [{"date": "2026-01-30", "credits": 5, "median": 1.5, "factor": approx(5 / 1.5)}]


# --- the plan's figures with too little history ---------------------------------------------------

def test_insufficient_history_still_shows_the_figures_of_one_complete_cycle(site):
    site.write_export("a.csv", csv_text([event("e1", "2026-01-10T12:00:00Z", 90), event("e2", "2026-02-10T12:00:00Z", 10)]))
    assert site.build().returncode == 0
    plan = site.json("api/plan.json")
    # One complete cycle (January, 90): average 90, peak 90, growth 0 (fewer than 3 cycles), projected 90 + 0 × 6 = 90,
    # required max(1.2 × 90, 90) = 108 — shown, but no tier is recommended on one cycle.
    assert plan["signal"] == "insufficient-history" and plan["recommended_tier"] is None
    assert plan["baseline"] == ["2026-01"]
    assert (plan["average"], plan["peak"], plan["growth_per_month"], plan["projected"]) == (90, 90, 0, 90)
    assert plan["required"] == approx(108)
    assert plan["exceeds_largest_tier"] is False


def test_insufficient_history_without_a_complete_cycle_has_no_figures(site):
    site.write_export("a.csv", csv_text([event("e1", "2026-01-10T12:00:00Z", 90)]))
    assert site.build().returncode == 0
    plan = site.json("api/plan.json")
    assert plan["signal"] == "insufficient-history" and plan["baseline"] == []
    assert [plan[k] for k in ("recommended_tier", "average", "peak", "projected", "required")] == [None] * 5
    assert plan["exceeds_largest_tier"] is False and plan["current_tier"] == "S"


# --- the [teams] mapping and a naive time in a DST gap ------------------------------------------------

def test_the_teams_mapping_fills_only_a_missing_team(site):
    site.config.write_text(BASIC_TOML + '\n[teams]\n"ana@example.com" = "design"\n"bo@example.com" = "ops"\n',
                           encoding="utf-8")
    site.write_export("a.csv", csv_text([
        event("e1", "2026-01-05T10:00:00Z", 5, team=""),  # ana, no team: the mapping's design
        event("e2", "2026-01-05T11:00:00Z", 7, team="research"),  # ana with a team of her own: it stays research
        event("e3", "2026-01-05T12:00:00Z", 3, team="", member="bo@example.com"),  # bo → ops
        event("e4", "2026-01-05T13:00:00Z", 2, team="", member="cy@example.com"),  # not mapped: Unassigned
    ]))
    r = site.build()
    assert r.returncode == 0, r.stderr
    assert site.json("api/months/2026-01.json")["by_team"] == {"design": 5, "research": 7, "ops": 3, "Unassigned": 2}
    assert set(site.json("api/site.json")["teams"]) == {"design", "research", "ops", "Unassigned"}


def test_a_naive_time_in_a_dst_gap_moves_forward_by_the_gap(site):
    berlin_site(site, day=1)
    # 02:30 on Sun 2026-03-29 does not exist in Berlin (02:00 CET → 03:00 CEST): read as 03:30 CEST = 01:30Z. As the
    # latest event it is as_of. The one before, 01:30 CET = 00:30Z, is an hour earlier in real time.
    site.write_export("a.csv", csv_text([event("e1", "2026-03-29T01:30:00", 4), event("e2", "2026-03-29T02:30:00", 6)]))
    r = site.build()
    assert r.returncode == 0, r.stderr
    assert site.json("api/site.json")["as_of"] == "2026-03-29T03:30:00+02:00"
    month = site.json("api/months/2026-03.json")
    assert month["daily"][28] == {"date": "2026-03-29", "credits": 10}
    # The window opens 7 wall-clock days before as_of, Sun Mar 22 03:30 CET = 02:30Z, so it is 7 × 24 − 1 = 167 h long
    # (the gap's hour is in it once, as real time): burn = 10 ÷ (167/24) = 1.437… a day.
    assert month["burn_window_length_days"] == approx(167 / 24)
    assert month["burn_rate"] == approx(10 / (167 / 24))


# --- every exit code ------------------------------------------------------------------------------------

def test_exit_0_builds_and_checks(site):
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5)]))
    r = site.build()
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    c = run_cli("check", str(site.out))
    assert c.returncode == 0, c.stderr


@pytest.mark.parametrize("args", [["build", "--no-such-option"], ["no-such-command"], [], ["build", "-c"]])
def test_exit_2_for_a_usage_error(site, args):
    r = run_cli(*args, cwd=site.root)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("usage: ") and "Traceback" not in r.stderr


def test_exit_2_for_a_config_error_and_nothing_written(site):
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5)]))
    site.config.write_text(BASIC_TOML.replace('timezone = "UTC"', 'timezone = "Mars/Olympus"'), encoding="utf-8")
    r = site.build()
    assert r.returncode == 2
    assert r.stderr.startswith(f"{site.config}:4: site.timezone: unknown time zone 'Mars/Olympus'"), r.stderr
    assert r.stderr.endswith("creditwise: 1 config error; nothing was written\n") and "Traceback" not in r.stderr
    assert not site.out.exists()


def test_exit_3_for_a_data_error_and_nothing_written(site):
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5), event("e2", "2026-01-05T11:00:00Z", "five")]))
    r = site.build()
    assert r.returncode == 3
    assert r.stderr == "exports/a.csv:3: credits: 'five' is not a number\ncreditwise: 1 data error; nothing was written\n"
    assert not site.out.exists()


def test_exit_4_when_the_check_fails(site):
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5)]))
    assert site.build().returncode == 0
    shutil.rmtree(site.out / "plan")  # every page links the plan page
    r = run_cli("check", str(site.out))
    assert r.returncode == 4 and "Traceback" not in r.stderr
    assert "plan/" in r.stderr and r.stderr.splitlines()[-1].startswith("creditwise check: ")


def test_exit_1_with_a_traceback_for_an_internal_error(site, tmp_path):
    """A broken installation is no input's fault: a Matplotlib that cannot be imported (the build imports it only
    when it has charts to draw) stops the build with a traceback and exit 1, and leaves nothing behind."""
    site.write_export("a.csv", csv_text([event("e1", "2026-01-05T10:00:00Z", 5)]))
    broken = tmp_path / "broken-install" / "matplotlib"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text('raise RuntimeError("this Matplotlib is broken")\n', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(broken.parent)}
    r = subprocess.run([sys.executable, "-m", "generator", "build", "-c", str(site.config), "-o", str(site.out)],
                       cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 1, r.stderr
    assert r.stderr.startswith("Traceback (most recent call last):")
    assert r.stderr.rstrip().endswith("RuntimeError: this Matplotlib is broken")
    assert not site.out.exists()
