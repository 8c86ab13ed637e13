"""Black-box tests pinning the SPEC section 3 figures to hand-computed values.

Every test writes a tiny site (site.toml + CSV exports) into tmp_path, runs the
real program (`python -m generator build`) as a subprocess and reads the JSON
API (`api/months/YYYY-MM.json`, `api/plan.json`).  The arithmetic behind every
expected number is written next to it, so a failure can be checked by hand.

Team readings of the spec asserted here (see SPEC.md section 3 and 4):
- all dates are calendar dates in the site timezone; as_of defaults to the
  latest event timestamp; events after an explicit as_of are left out;
- burn rate window (as_of - burn_window_days, as_of] clipped to the cycle
  start, divided by its length in fractional days; days left = (end - as_of);
- projected_exhaustion only with a consumption warning; if used >= allocation
  already, it is the cycle's exhausted_on;
- demand of an exhausted complete cycle = used * days / ((exhausted_on - start).days + 1);
- growth = least-squares slope of demand vs index over the last <= 12
  complete cycles; 0 with < 3 complete cycles or a negative slope;
- < 2 complete cycles -> "insufficient-history" and recommended_tier null;
- "hold" -> recommended_tier == current_tier.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import HEADER, REPO

LEVELS = {"0.5", "0.8", "0.9", "1.0"}


# --------------------------------------------------------------------------
# fixture-writing helpers
# --------------------------------------------------------------------------


def ev(
    event_id: str,
    timestamp: str,
    credits: float | int | str,
    feature: str = "chat",
    operation: str = "response",
    member: str = "alice",
    team: str = "",
    model: str = "",
    quantity: str = "",
    session_id: str = "",
    knowledge: str = "false",
) -> dict[str, str]:
    """One native-schema export row."""
    return {
        "event_id": event_id,
        "timestamp": timestamp,
        "member": member,
        "team": team,
        "feature": feature,
        "operation": operation,
        "model": model,
        "credits": str(credits),
        "quantity": quantity,
        "session_id": session_id,
        "knowledge": knowledge,
    }


def monthly(amounts: dict[str, float], day: int = 10) -> list[dict[str, str]]:
    """One chat event per cycle ("YYYY-MM" -> credits), on `day` at 12:00Z."""
    rows = []
    for i, (cycle, credits) in enumerate(amounts.items()):
        rows.append(ev(f"m{i}", f"{cycle}-{day:02d}T12:00:00Z", credits))
    return rows


def site_toml(
    *,
    timezone_name: str = "UTC",
    cycle_start_day: int = 1,
    as_of: str | None = None,
    tiers: list[tuple[str, int, float]] = (("S", 100, 10),),
    subscription: list[tuple[str, str]] = (("2026-01-01", "S"),),
    topups: list[tuple[str, int, float]] = (),
    thresholds: dict[str, object] | None = None,
) -> str:
    lines = [
        "[site]",
        'title = "T"',
        'base_url = "/r/"',
        f'timezone = "{timezone_name}"',
        f"cycle_start_day = {cycle_start_day}",
    ]
    if as_of is not None:
        lines.append(f'as_of = "{as_of}"')
    lines += ["", "[data]", 'exports = ["exports/*.csv"]', ""]
    for name, credits, price in tiers:
        lines += [
            "[[tiers]]",
            f'name = "{name}"',
            f"monthly_credits = {credits}",
            f"monthly_price = {price}",
            "",
        ]
    for start, tier in subscription:
        lines += ["[[subscription]]", f"from = {start}", f'tier = "{tier}"', ""]
    for day, credits, price in topups:
        lines += ["[[topups]]", f"date = {day}", f"credits = {credits}", f"price = {price}", ""]
    if thresholds:
        lines.append("[thresholds]")
        for key, value in thresholds.items():
            lines.append(f"{key} = {json.dumps(value)}")
        lines.append("")
    return "\n".join(lines)


def build(
    tmp_path: Path,
    toml_text: str,
    exports: dict[str, list[dict[str, str]]] | list[dict[str, str]],
) -> Path:
    """Write the site, run `python -m generator build`, return the output dir."""
    site = tmp_path / "site"
    (site / "exports").mkdir(parents=True)
    if isinstance(exports, list):
        exports = {"usage.csv": exports}
    for name, rows in exports.items():
        with open(site / "exports" / name, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=HEADER)
            writer.writeheader()
            writer.writerows(rows)
    config = site / "site.toml"
    config.write_text(toml_text, encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "build", "--config", str(config), "--output", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, (
        f"build failed with exit code {proc.returncode}\n"
        f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}\n"
        f"--- site.toml ---\n{toml_text}"
    )
    return out


def month(out: Path, cycle: str) -> dict:
    path = out / "api" / "months" / f"{cycle}.json"
    assert path.is_file(), f"missing {path}; have {sorted(p.name for p in path.parent.glob('*'))}"
    return json.loads(path.read_text(encoding="utf-8"))


def cycle_files(out: Path) -> list[str]:
    """Names of the api/months/YYYY-MM.json files written."""
    return sorted(p.name for p in (out / "api" / "months").glob("*.json") if re.fullmatch(r"\d{4}-\d{2}\.json", p.name))


def plan(out: Path) -> dict:
    return json.loads((out / "api" / "plan.json").read_text(encoding="utf-8"))


def approx(x: float):
    return pytest.approx(x, abs=1e-6)


def nonzero(mapping: dict) -> dict:
    """Drop zero entries (an implementation may list every feature/team)."""
    return {k: v for k, v in mapping.items() if v != 0}


def daily_map(m: dict) -> dict[str, float]:
    return {d["date"]: d["credits"] for d in m["daily"]}


def assert_daily(m: dict, first: date, days: int, nonzero_days: dict[str, float]) -> None:
    """daily = one entry per calendar day of the cycle, in order, zeros included."""
    expected_dates = [(first + timedelta(days=i)).isoformat() for i in range(days)]
    assert [d["date"] for d in m["daily"]] == expected_dates
    for d in m["daily"]:
        assert d["credits"] == approx(nonzero_days.get(d["date"], 0)), d["date"]


def assert_instant(value: str, expected: datetime) -> None:
    """An ISO 8601 datetime with offset, equal to `expected` incl. the offset."""
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None, f"{value!r} has no offset"
    assert parsed == expected, value
    assert parsed.utcoffset() == expected.utcoffset(), value


def assert_thresholds(m: dict, expected: dict[str, str | None]) -> None:
    assert set(m["thresholds"]) == LEVELS
    assert m["thresholds"] == expected


# --------------------------------------------------------------------------
# 1. basic cycle
# --------------------------------------------------------------------------


def test_basic_cycle_figures_and_local_dates(tmp_path):
    ny = ZoneInfo("America/New_York")  # January/February: EST = UTC-05:00
    jan = [
        # naive -> read in America/New_York: Jan 3 10:00 local
        ev("e1", "2026-01-03T10:00:00", 20, "image", "generate", "alice", "design"),
        # explicit offset: Jan 10 09:00 local                     cum 55
        ev("e2", "2026-01-10T09:00:00-05:00", 35, "compose", "create", "bob", "writing"),
        # 15:00Z = 10:00 local Jan 20; empty team -> Unassigned    cum 85
        ev("e3", "2026-01-20T15:00:00Z", 30, "chat", "response", "carol", ""),
        # naive 22:00 local Jan 31 (= Feb 1 03:00 UTC!)            cum 88.5
        ev("e4", "2026-01-31T22:00:00", 3.5, "chat", "response", "alice", "design"),
        # 02:00Z Feb 1 = Jan 31 21:00 local                         cum 90
        ev("e5", "2026-02-01T02:00:00Z", 1.5, "chat", "response", "alice", "design"),
    ]
    feb = [
        # naive 00:30 local Feb 1 (would be Jan 31 19:30 local if read as UTC)
        ev("f1", "2026-02-01T00:30:00", 7, "chat", "response", "alice", "design"),
        # 12:00Z = 07:00 local Feb 3
        ev("f2", "2026-02-03T12:00:00Z", 3, "chat", "response", "alice", "design"),
    ]
    toml_text = site_toml(timezone_name="America/New_York", as_of="2026-02-05T12:00:00")
    out = build(tmp_path, toml_text, {"jan.csv": jan, "feb.csv": feb})

    m = month(out, "2026-01")
    assert m["cycle"] == "2026-01"
    assert_instant(m["start"], datetime(2026, 1, 1, tzinfo=ny))  # 2026-01-01T00:00:00-05:00
    assert_instant(m["end"], datetime(2026, 2, 1, tzinfo=ny))  # 2026-02-01T00:00:00-05:00
    assert m["complete"] is True  # end Feb 1 00:00 <= as_of Feb 5 12:00
    assert m["tier"] == "S"
    assert m["days"] == 31
    assert m["allocation"] == approx(100)
    # used = 20 + 35 + 30 + 3.5 + 1.5 = 90
    assert m["used"] == approx(90)
    assert m["remaining"] == approx(10)  # 100 - 90
    assert m["utilization"] == approx(0.9)  # 90 / 100
    assert m["expired"] == approx(10)  # complete: max(0, 100 - 90)
    assert m["exhausted_on"] is None  # 90 < 100
    assert m["daily_target"] == approx(100 / 31)  # 3.2258064516...
    assert m["price_per_credit"] == approx(0.1)  # 10 / 100
    # cumulative: Jan 3: 20, Jan 10: 55 (>= 50), Jan 20: 85 (>= 80),
    # Jan 31: 90 (>= 90; both late events are Jan 31 local), never 100
    assert_thresholds(m, {"0.5": "2026-01-10", "0.8": "2026-01-20", "0.9": "2026-01-31", "1.0": None})
    # image 20; compose 35; chat 30 + 3.5 + 1.5 = 35
    assert nonzero(m["by_feature"]) == {"image": approx(20), "compose": approx(35), "chat": approx(35)}
    # design 20 + 3.5 + 1.5 = 25; writing 35; Unassigned 30
    assert nonzero(m["by_team"]) == {"design": approx(25), "writing": approx(35), "Unassigned": approx(30)}
    # 31 entries; Jan 31 = 3.5 + 1.5 = 5
    assert_daily(
        m,
        date(2026, 1, 1),
        31,
        {"2026-01-03": 20, "2026-01-10": 35, "2026-01-20": 30, "2026-01-31": 5},
    )

    f = month(out, "2026-02")
    assert f["cycle"] == "2026-02"
    assert_instant(f["start"], datetime(2026, 2, 1, tzinfo=ny))
    assert_instant(f["end"], datetime(2026, 3, 1, tzinfo=ny))
    assert f["complete"] is False  # holds as_of
    assert f["days"] == 28
    assert f["used"] == approx(10)  # 7 + 3
    assert f["remaining"] == approx(90)
    assert f["utilization"] == approx(0.1)
    assert f["expired"] is None  # current cycle
    assert_thresholds(f, {"0.5": None, "0.8": None, "0.9": None, "1.0": None})
    assert_daily(f, date(2026, 2, 1), 28, {"2026-02-01": 7, "2026-02-03": 3})
    # burn: as_of = Feb 5 12:00 local; window (Jan 29 12:00, Feb 5 12:00]
    # clipped to the cycle start Feb 1 00:00 -> 4.5 days; the Jan 31 events
    # are in the raw window but before the cycle start: credits 7 + 3 = 10
    # burn = 10 / 4.5 = 2.2222...
    assert f["burn_rate"] == approx(10 / 4.5)
    # days left = Mar 1 00:00 - Feb 5 12:00 = 23.5; projected = 10 + 10/4.5 * 23.5
    # = 10 + 52.2222... = 62.2222...  (< 100: no warning)
    assert f["projected_used"] == approx(10 + 10 / 4.5 * 23.5)
    assert f["consumption_warning"] is False
    assert f["projected_exhaustion"] is None

    # only the two cycles holding events through the current one
    assert cycle_files(out) == [
        "2026-01.json",
        "2026-02.json",
    ]


# --------------------------------------------------------------------------
# 2. cycle_start_day = 15 across the DST change
# --------------------------------------------------------------------------


def test_cycle_start_day_15_across_dst(tmp_path):
    berlin = ZoneInfo("Europe/Berlin")  # CET +01:00 until 2026-03-29 02:00, then CEST +02:00
    rows = [
        # 22:30Z = 23:30 CET Mar 14 -> cycle 2026-02 [Feb 15, Mar 15)
        ev("a", "2026-03-14T22:30:00Z", 5),
        # 23:30Z = 00:30 CET Mar 15 -> cycle 2026-03
        ev("b", "2026-03-14T23:30:00Z", 7),
        # naive, after the DST switch on Mar 29 (10:00 CEST) -> 2026-03
        ev("c", "2026-03-29T10:00:00", 2),
        # 21:30Z = 23:30 CEST Apr 14 -> still 2026-03 (a fixed +01:00 would say 22:30, same)
        ev("d", "2026-04-14T21:30:00Z", 11),
        # 22:30Z = 00:30 CEST Apr 15 -> cycle 2026-04 (a fixed +01:00 would say Apr 14 23:30)
        ev("e", "2026-04-14T22:30:00Z", 13),
    ]
    # as_of defaults to the latest event (Apr 15 00:30 CEST) -> current = 2026-04
    out = build(tmp_path, site_toml(timezone_name="Europe/Berlin", cycle_start_day=15), rows)

    feb = month(out, "2026-02")
    assert_instant(feb["start"], datetime(2026, 2, 15, tzinfo=berlin))  # ...T00:00:00+01:00
    assert_instant(feb["end"], datetime(2026, 3, 15, tzinfo=berlin))  # ...T00:00:00+01:00
    assert feb["days"] == 28  # Feb 15..28 (14) + Mar 1..14 (14)
    assert feb["complete"] is True
    assert feb["used"] == approx(5)
    assert feb["expired"] == approx(95)  # 100 - 5
    assert_daily(feb, date(2026, 2, 15), 28, {"2026-03-14": 5})

    mar = month(out, "2026-03")
    assert mar["cycle"] == "2026-03"
    assert mar["start"] == feb["end"]
    assert_instant(mar["start"], datetime(2026, 3, 15, tzinfo=berlin))  # +01:00
    assert_instant(mar["end"], datetime(2026, 4, 15, tzinfo=berlin))  # +02:00
    assert datetime.fromisoformat(mar["start"]).utcoffset() == timedelta(hours=1)
    assert datetime.fromisoformat(mar["end"]).utcoffset() == timedelta(hours=2)
    assert mar["days"] == 31  # Mar 15..31 (17) + Apr 1..14 (14)
    assert mar["complete"] is True
    assert mar["used"] == approx(20)  # 7 + 2 + 11
    assert mar["daily_target"] == approx(100 / 31)
    assert_daily(mar, date(2026, 3, 15), 31, {"2026-03-15": 7, "2026-03-29": 2, "2026-04-14": 11})

    apr = month(out, "2026-04")
    assert_instant(apr["start"], datetime(2026, 4, 15, tzinfo=berlin))  # +02:00
    assert_instant(apr["end"], datetime(2026, 5, 15, tzinfo=berlin))  # +02:00
    assert apr["days"] == 30  # Apr 15..30 (16) + May 1..14 (14)
    assert apr["complete"] is False
    assert apr["used"] == approx(13)
    assert_daily(apr, date(2026, 4, 15), 30, {"2026-04-15": 13})

    assert cycle_files(out) == [
        "2026-02.json",
        "2026-03.json",
        "2026-04.json",
    ]


# --------------------------------------------------------------------------
# 3. refund, subscription change, top-up
# --------------------------------------------------------------------------


def test_refund_subscription_change_and_topup(tmp_path):
    rows = [
        ev("j1", "2026-01-05T10:00:00Z", 60, "image", "generate"),  # cum 60 (>= 50)
        ev("j2", "2026-01-06T10:00:00Z", -20, "image", "refund"),  # cum 40
        ev("j3", "2026-01-07T10:00:00Z", 15, "chat", "response"),  # cum 55
        ev("f1", "2026-02-12T10:00:00Z", 125, "compose", "create"),
        ev("m1", "2026-03-03T10:00:00Z", 50, "chat", "response"),  # latest -> as_of
    ]
    toml_text = site_toml(
        tiers=[("S", 100, 10), ("M", 200, 18)],
        # the change on Feb 15 is mid-cycle: Feb stays S, Mar (starts Mar 1) is M
        subscription=[("2026-01-01", "S"), ("2026-02-15", "M")],
        topups=[("2026-02-10", 50, 8)],
    )
    out = build(tmp_path, toml_text, rows)

    jan = month(out, "2026-01")
    assert jan["tier"] == "S"
    assert jan["allocation"] == approx(100)
    assert jan["used"] == approx(55)  # 60 - 20 + 15
    assert jan["remaining"] == approx(45)  # 100 - 55
    assert jan["utilization"] == approx(0.55)
    assert jan["expired"] == approx(45)
    assert jan["exhausted_on"] is None
    # first date with cum >= 50 is Jan 5 (60), even though the refund drops it to 40
    assert_thresholds(jan, {"0.5": "2026-01-05", "0.8": None, "0.9": None, "1.0": None})
    assert nonzero(jan["by_feature"]) == {"image": approx(40), "chat": approx(15)}  # 60-20; 15
    assert daily_map(jan)["2026-01-06"] == approx(-20)
    assert jan["price_per_credit"] == approx(0.1)  # 10 / 100
    assert jan["demand"] == approx(55)

    feb = month(out, "2026-02")
    assert feb["tier"] == "S"  # in force on Feb 1
    assert feb["allocation"] == approx(150)  # 100 + top-up 50
    assert feb["used"] == approx(125)
    assert feb["remaining"] == approx(25)  # 150 - 125
    assert feb["utilization"] == approx(125 / 150)  # 0.8333...
    assert feb["exhausted_on"] is None  # 125 < 150 (would be Feb 12 without the top-up)
    assert feb["expired"] == approx(25)
    # 0.5 * 150 = 75, 0.8 * 150 = 120 -> Feb 12; 0.9 * 150 = 135 never
    assert_thresholds(feb, {"0.5": "2026-02-12", "0.8": "2026-02-12", "0.9": None, "1.0": None})
    assert feb["daily_target"] == approx(150 / 28)
    assert feb["price_per_credit"] == approx((10 + 8) / 150)  # 0.12

    mar = month(out, "2026-03")
    assert mar["tier"] == "M"
    assert mar["allocation"] == approx(200)
    assert mar["used"] == approx(50)
    assert mar["utilization"] == approx(0.25)
    assert mar["price_per_credit"] == approx(18 / 200)  # 0.09
    assert mar["complete"] is False
    assert mar["expired"] is None

    assert plan(out)["current_tier"] == "M"


# --------------------------------------------------------------------------
# 4. exhausted complete cycle vs under-allocation complete cycle
# --------------------------------------------------------------------------


def test_exhausted_and_expired_complete_cycles(tmp_path):
    rows = [
        ev("j1", "2026-01-05T12:00:00Z", 40),  # cum 40
        ev("j2", "2026-01-10T12:00:00Z", 40),  # cum 80  (>= 50, >= 80)
        ev("j3", "2026-01-15T12:00:00Z", 30),  # cum 110 (>= 90, >= 100)
        ev("f1", "2026-02-02T12:00:00Z", 30),
        ev("f2", "2026-02-20T12:00:00Z", 25),
        ev("m1", "2026-03-01T12:00:00Z", 5),  # latest -> as_of, current 2026-03
    ]
    out = build(tmp_path, site_toml(), rows)

    jan = month(out, "2026-01")
    assert jan["complete"] is True
    assert jan["used"] == approx(110)
    assert jan["remaining"] == approx(-10)  # 100 - 110
    assert jan["utilization"] == approx(1.1)
    assert jan["exhausted_on"] == "2026-01-15"
    assert jan["expired"] == approx(0)  # max(0, 100 - 110)
    assert_thresholds(jan, {"0.5": "2026-01-10", "0.8": "2026-01-10", "0.9": "2026-01-15", "1.0": "2026-01-15"})
    # demand = used * days / days up to and including exhausted_on
    #        = 110 * 31 / 15 = 3410 / 15 = 227.333...
    assert jan["demand"] == approx(110 * 31 / 15)

    feb = month(out, "2026-02")
    assert feb["complete"] is True
    assert feb["used"] == approx(55)  # 30 + 25
    assert feb["exhausted_on"] is None
    assert feb["expired"] == approx(45)  # 100 - 55
    assert feb["utilization"] == approx(0.55)
    assert feb["demand"] == approx(55)  # not exhausted: demand = used
    assert_thresholds(feb, {"0.5": "2026-02-20", "0.8": None, "0.9": None, "1.0": None})

    mar = month(out, "2026-03")
    assert mar["complete"] is False
    assert mar["expired"] is None


# --------------------------------------------------------------------------
# 5. current cycle: burn rate, projection, consumption warning
# --------------------------------------------------------------------------


def test_burn_rate_clipped_window_and_projected_exhaustion(tmp_path):
    rows = [
        # Feb 27 is inside (as_of - 7d, as_of] but before the cycle start: not counted
        ev("p1", "2026-02-27T12:00:00Z", 20),
        ev("c1", "2026-03-01T01:00:00Z", 12),
        ev("c2", "2026-03-02T10:00:00Z", 20),
        ev("c3", "2026-03-04T11:00:00Z", 10),
    ]
    toml_text = site_toml(as_of="2026-03-04T12:00:00", thresholds={"burn_window_days": 7})
    out = build(tmp_path, toml_text, rows)

    m = month(out, "2026-03")
    assert m["complete"] is False
    assert m["used"] == approx(42)  # 12 + 20 + 10
    # window (Feb 25 12:00, Mar 4 12:00] clipped to Mar 1 00:00 -> 3.5 days
    # burn = 42 / 3.5 = 12 credits/day
    assert m["burn_rate"] == approx(12)
    # days left = Apr 1 00:00 - Mar 4 12:00 = 0.5 + 27 = 27.5
    # projected = 42 + 12 * 27.5 = 42 + 330 = 372
    assert m["projected_used"] == approx(372)
    assert m["consumption_warning"] is True  # 372 > 100
    # (100 - 42) / 12 = 4.8333 days = 4 d 20 h; Mar 4 12:00 + 4 d 20 h = Mar 9 08:00
    assert m["projected_exhaustion"] == "2026-03-09"
    assert m["exhausted_on"] is None
    assert m["expired"] is None
    # the current cycle's daily series covers all 31 days, future ones 0
    assert_daily(m, date(2026, 3, 1), 31, {"2026-03-01": 12, "2026-03-02": 20, "2026-03-04": 10})

    feb = month(out, "2026-02")
    assert feb["used"] == approx(20)
    assert feb["complete"] is True


def test_burn_rate_full_window_bounds_no_warning(tmp_path):
    rows = [
        ev("c1", "2026-03-02T12:00:00Z", 300),  # before the window
        ev("c2", "2026-03-13T11:00:00Z", 50),  # before the window
        ev("c3", "2026-03-13T12:00:00Z", 7),  # == as_of - 7d: window is open there, excluded
        ev("c4", "2026-03-15T12:00:00Z", 14),  # in
        ev("c5", "2026-03-20T12:00:00Z", 21),  # == as_of: included
    ]
    toml_text = site_toml(tiers=[("S", 1000, 50)], as_of="2026-03-20T12:00:00")
    out = build(tmp_path, toml_text, rows)

    m = month(out, "2026-03")
    assert m["used"] == approx(392)  # 300 + 50 + 7 + 14 + 21
    # window (Mar 13 12:00, Mar 20 12:00], 7 days, credits 14 + 21 = 35 -> 5/day
    assert m["burn_rate"] == approx(5)
    # days left = Apr 1 00:00 - Mar 20 12:00 = 11.5; projected = 392 + 5 * 11.5 = 449.5
    assert m["projected_used"] == approx(449.5)
    assert m["consumption_warning"] is False  # 449.5 <= 1000
    assert m["projected_exhaustion"] is None


def test_projected_exhaustion_when_already_exhausted(tmp_path):
    rows = [
        ev("c1", "2026-03-02T12:00:00Z", 60),  # cum 60
        ev("c2", "2026-03-03T12:00:00Z", 50),  # cum 110 >= 100 -> exhausted Mar 3
    ]
    out = build(tmp_path, site_toml(as_of="2026-03-05T00:00:00"), rows)

    m = month(out, "2026-03")
    assert m["used"] == approx(110)
    assert m["exhausted_on"] == "2026-03-03"
    # window (Feb 26 00:00, Mar 5 00:00] clipped to Mar 1 00:00 -> 4 days
    # burn = 110 / 4 = 27.5
    assert m["burn_rate"] == approx(27.5)
    # days left = Apr 1 - Mar 5 = 27; projected = 110 + 27.5 * 27 = 852.5
    assert m["projected_used"] == approx(852.5)
    assert m["consumption_warning"] is True
    # used >= allocation already: projected exhaustion = exhausted_on
    assert m["projected_exhaustion"] == "2026-03-03"
    assert m["expired"] is None  # current cycle


# --------------------------------------------------------------------------
# 6. tier recommendation (api/plan.json)
# --------------------------------------------------------------------------

THREE_TIERS = [("S", 100, 10), ("M", 200, 18), ("L", 400, 30)]


def test_plan_insufficient_history_one_complete_cycle(tmp_path):
    rows = monthly({"2026-01": 90, "2026-02": 10})  # Jan complete, Feb current
    out = build(tmp_path, site_toml(tiers=THREE_TIERS), rows)
    p = plan(out)
    assert p["signal"] == "insufficient-history"
    assert p["recommended_tier"] is None
    assert p["current_tier"] == "S"


def test_plan_insufficient_history_no_complete_cycle(tmp_path):
    rows = monthly({"2026-01": 90})  # only the current cycle
    out = build(tmp_path, site_toml(tiers=THREE_TIERS), rows)
    p = plan(out)
    assert p["signal"] == "insufficient-history"
    assert p["recommended_tier"] is None
    assert p["current_tier"] == "S"


def test_plan_two_complete_cycles_no_growth(tmp_path):
    # Jan 50, Feb 90 complete; Mar current
    rows = monthly({"2026-01": 50, "2026-02": 90, "2026-03": 10})
    out = build(tmp_path, site_toml(tiers=THREE_TIERS), rows)
    p = plan(out)
    assert p["baseline"] == ["2026-01", "2026-02"]
    assert p["average"] == approx(70)  # (50 + 90) / 2
    assert p["peak"] == approx(90)
    assert p["growth_per_month"] == approx(0)  # fewer than 3 complete cycles
    assert p["projected"] == approx(70)  # 70 + 0 * 6
    assert p["required"] == approx(90)  # max(1.2 * 70 = 84, 90)
    # cheapest tier with >= 90 credits: S (100) == current -> hold
    assert p["signal"] == "hold"
    assert p["recommended_tier"] == "S"
    assert p["current_tier"] == "S"
    assert p["exceeds_largest_tier"] is False
    # utilization 0.5, 0.9: only one >= 0.8; not all < 0.6
    assert p["indicators"] == {"high_usage": False, "ran_out": False, "low_usage": False}


def test_plan_upgrade_negative_slope_is_zero(tmp_path):
    rows = monthly({"2026-01": 90, "2026-02": 95, "2026-03": 85, "2026-04": 10})
    out = build(tmp_path, site_toml(tiers=THREE_TIERS), rows)
    p = plan(out)
    assert p["baseline"] == ["2026-01", "2026-02", "2026-03"]
    assert p["average"] == approx(90)  # (90 + 95 + 85) / 3
    assert p["peak"] == approx(95)
    # x = 0,1,2; y = 90,95,85; slope = sum((x-1)(y-90)) / sum((x-1)^2)
    #   = ((-1)(0) + 0 + (1)(-5)) / 2 = -2.5 < 0 -> 0
    assert p["growth_per_month"] == approx(0)
    assert p["projected"] == approx(90)
    assert p["required"] == approx(108)  # max(1.2 * 90 = 108, 95)
    # cheapest with >= 108: M (200) > S (100) -> upgrade
    assert p["recommended_tier"] == "M"
    assert p["signal"] == "upgrade"
    assert p["current_tier"] == "S"
    # utilizations 0.9, 0.95, 0.85: three >= 0.8
    assert p["indicators"] == {"high_usage": True, "ran_out": False, "low_usage": False}
    assert p["exceeds_largest_tier"] is False


def test_plan_positive_growth_over_four_complete_cycles(tmp_path):
    rows = monthly({"2026-01": 100, "2026-02": 110, "2026-03": 130, "2026-04": 140, "2026-05": 10})
    toml_text = site_toml(tiers=THREE_TIERS, subscription=[("2026-01-01", "M")])
    out = build(tmp_path, toml_text, rows)
    p = plan(out)
    # baseline = last 3 complete cycles
    assert p["baseline"] == ["2026-02", "2026-03", "2026-04"]
    assert p["average"] == approx(380 / 3)  # (110 + 130 + 140) / 3 = 126.666...
    assert p["peak"] == approx(140)
    # growth over all 4 complete cycles: x = 0..3 (mean 1.5), y = 100,110,130,140 (mean 120)
    # sum((x-1.5)(y-120)) = (-1.5)(-20) + (-0.5)(-10) + (0.5)(10) + (1.5)(20) = 70
    # sum((x-1.5)^2) = 2.25 + 0.25 + 0.25 + 2.25 = 5  -> slope = 14
    assert p["growth_per_month"] == approx(14)
    # projected = 126.666... + 14 * 6 = 210.666...
    assert p["projected"] == approx(380 / 3 + 84)
    # required = max(1.2 * 210.666... = 252.8, 140) = 252.8
    assert p["required"] == approx(1.2 * (380 / 3 + 84))
    assert p["required"] == approx(252.8)
    assert p["recommended_tier"] == "L"  # cheapest with >= 252.8
    assert p["signal"] == "upgrade"  # L (400) > M (200)
    assert p["current_tier"] == "M"
    # utilizations 0.55, 0.65, 0.7: none >= 0.8, not all < 0.6
    assert p["indicators"] == {"high_usage": False, "ran_out": False, "low_usage": False}


def test_plan_downgrade(tmp_path):
    rows = monthly({"2026-01": 100, "2026-02": 110, "2026-03": 90, "2026-04": 10})
    toml_text = site_toml(tiers=THREE_TIERS, subscription=[("2026-01-01", "L")])
    out = build(tmp_path, toml_text, rows)
    p = plan(out)
    assert p["average"] == approx(100)  # (100 + 110 + 90) / 3
    assert p["peak"] == approx(110)
    assert p["growth_per_month"] == approx(0)  # slope (90 - 100) / 2 = -5 -> 0
    assert p["projected"] == approx(100)
    assert p["required"] == approx(120)  # max(1.2 * 100, 110)
    # utilizations 0.25, 0.275, 0.225: all < 0.6 -> low usage
    assert p["indicators"] == {"high_usage": False, "ran_out": False, "low_usage": True}
    # cheapest with >= 120: M (200) < L (400) and low_usage -> downgrade
    assert p["recommended_tier"] == "M"
    assert p["signal"] == "downgrade"
    assert p["current_tier"] == "L"
    assert p["exceeds_largest_tier"] is False


def test_plan_hold_when_cheaper_tier_fits_but_usage_not_low(tmp_path):
    tiers = [("S", 100, 10), ("M", 320, 25), ("L", 500, 40)]
    rows = monthly({"2026-01": 100, "2026-02": 310, "2026-03": 90, "2026-04": 10})
    toml_text = site_toml(tiers=tiers, subscription=[("2026-01-01", "L")])
    out = build(tmp_path, toml_text, rows)
    p = plan(out)
    assert p["average"] == approx(500 / 3)  # (100 + 310 + 90) / 3 = 166.666...
    assert p["peak"] == approx(310)
    assert p["growth_per_month"] == approx(0)  # slope (90 - 100) / 2 = -5 -> 0
    assert p["projected"] == approx(500 / 3)
    assert p["required"] == approx(310)  # max(1.2 * 166.666 = 200, 310)
    # cheapest with >= 310 is M (320) < L, but utilization 310/500 = 0.62 >= 0.6
    # in one baseline cycle -> low_usage false -> hold, recommended = current
    assert p["indicators"] == {"high_usage": False, "ran_out": False, "low_usage": False}
    assert p["signal"] == "hold"
    assert p["recommended_tier"] == "L"
    assert p["current_tier"] == "L"


def test_plan_exceeds_largest_tier_with_exhausted_cycles(tmp_path):
    rows = [
        ev("j1", "2026-01-10T12:00:00Z", 100),  # exhausted Jan 10
        ev("f1", "2026-02-14T12:00:00Z", 100),  # exhausted Feb 14
        ev("m1", "2026-03-05T12:00:00Z", 60),
        ev("a1", "2026-04-02T12:00:00Z", 10),  # current
    ]
    toml_text = site_toml(tiers=[("S", 100, 10), ("M", 200, 18)])
    out = build(tmp_path, toml_text, rows)

    assert month(out, "2026-01")["demand"] == approx(310)  # 100 * 31 / 10
    assert month(out, "2026-02")["demand"] == approx(200)  # 100 * 28 / 14
    assert month(out, "2026-03")["demand"] == approx(60)

    p = plan(out)
    assert p["baseline"] == ["2026-01", "2026-02", "2026-03"]
    assert p["average"] == approx(190)  # (310 + 200 + 60) / 3
    assert p["peak"] == approx(310)
    assert p["growth_per_month"] == approx(0)  # slope (60 - 310) / 2 = -125 -> 0
    assert p["projected"] == approx(190)
    assert p["required"] == approx(310)  # max(1.2 * 190 = 228, 310)
    # no tier has >= 310 credits -> the largest (M), flagged
    assert p["recommended_tier"] == "M"
    assert p["exceeds_largest_tier"] is True
    assert p["signal"] == "upgrade"  # M (200) > S (100)
    # utilizations 1.0, 1.0, 0.6: two >= 0.8; Jan and Feb exhausted
    assert p["indicators"] == {"high_usage": True, "ran_out": True, "low_usage": False}


def test_plan_peak_over_last_12_complete_cycles(tmp_path):
    amounts = {"2025-01": 190, "2025-02": 100, "2025-03": 180}
    for ym in [f"2025-{m:02d}" for m in range(4, 13)] + ["2026-01", "2026-02"]:
        amounts[ym] = 100
    amounts["2026-03"] = 5  # current
    rows = monthly(amounts)
    toml_text = site_toml(tiers=THREE_TIERS, subscription=[("2025-01-01", "M")])
    out = build(tmp_path, toml_text, rows)
    p = plan(out)
    # 14 complete cycles 2025-01 .. 2026-02; the last 12 are 2025-03 .. 2026-02
    assert p["baseline"] == ["2025-12", "2026-01", "2026-02"]
    assert p["average"] == approx(100)
    # peak over 2025-03 .. 2026-02 = 180 (2025-01's 190 is older than 12 cycles)
    assert p["peak"] == approx(180)
    # last 12: y = 180, 100 x 11; slope numerator = sum((x-5.5) * y)
    # = -5.5 * 180 + 100 * sum_{x=1..11}(x-5.5) = -990 + 550 = -440 < 0 -> 0
    assert p["growth_per_month"] == approx(0)
    assert p["projected"] == approx(100)
    assert p["required"] == approx(180)  # max(1.2 * 100 = 120, 180)
    # cheapest with >= 180: M == current -> hold (low_usage true, but not fewer credits)
    assert p["recommended_tier"] == "M"
    assert p["signal"] == "hold"
    assert p["indicators"] == {"high_usage": False, "ran_out": False, "low_usage": True}


def test_plan_cheapest_tier_and_price_ties(tmp_path):
    tiers = [
        ("P", 150, 30),  # smallest sufficient but not the cheapest
        ("B", 300, 20),  # same price as A, more credits, listed first
        ("A", 250, 20),
        ("Small", 100, 10),
    ]
    rows = monthly({"2026-01": 90, "2026-02": 95, "2026-03": 95, "2026-04": 10})
    toml_text = site_toml(tiers=tiers, subscription=[("2026-01-01", "Small")])
    out = build(tmp_path, toml_text, rows)
    p = plan(out)
    assert p["average"] == approx(280 / 3)  # (90 + 95 + 95) / 3 = 93.333...
    # slope over 3 points = (y2 - y0) / 2 = (95 - 90) / 2 = 2.5
    assert p["growth_per_month"] == approx(2.5)
    assert p["projected"] == approx(280 / 3 + 15)  # 93.333 + 2.5 * 6 = 108.333...
    assert p["required"] == approx(130)  # max(1.2 * 108.333 = 130, 95)
    assert p["peak"] == approx(95)
    # >= 130: P (30), B (20), A (20); cheapest price 20, tie -> fewer credits: A
    assert p["recommended_tier"] == "A"
    assert p["signal"] == "upgrade"  # 250 > 100
    assert p["exceeds_largest_tier"] is False
    assert p["indicators"] == {"high_usage": True, "ran_out": False, "low_usage": False}


# --------------------------------------------------------------------------
# 7. events after an explicit as_of
# --------------------------------------------------------------------------


def test_events_after_as_of_are_excluded(tmp_path):
    ny = ZoneInfo("America/New_York")
    rows = [
        ev("g1", "2026-02-05T15:00:00Z", 10, "chat", "response"),  # Feb 5 10:00 local
        ev("g2", "2026-02-10T17:00:00Z", 5, "image", "generate"),  # == as_of: kept
        ev("g3", "2026-02-10T17:00:01Z", 100, "compose", "create"),  # 1 s after: out
        ev("g4", "2026-02-20T12:00:00Z", 200, "compose", "create"),  # out
        ev("g5", "2026-03-03T12:00:00Z", 300, "compose", "create"),  # out (no 2026-03 cycle)
    ]
    # as_of with an explicit offset: 12:00 EST = 17:00Z
    toml_text = site_toml(timezone_name="America/New_York", as_of="2026-02-10T12:00:00-05:00")
    out = build(tmp_path, toml_text, rows)

    m = month(out, "2026-02")
    assert m["complete"] is False
    assert_instant(m["start"], datetime(2026, 2, 1, tzinfo=ny))
    assert m["used"] == approx(15)  # 10 + 5
    assert m["remaining"] == approx(85)
    assert m["utilization"] == approx(0.15)
    assert nonzero(m["by_feature"]) == {"chat": approx(10), "image": approx(5)}
    assert_daily(m, date(2026, 2, 1), 28, {"2026-02-05": 10, "2026-02-10": 5})
    assert_thresholds(m, {"0.5": None, "0.8": None, "0.9": None, "1.0": None})
    # window (Feb 3 12:00, Feb 10 12:00] local: 7 days, 15 credits -> 15/7 per day
    assert m["burn_rate"] == approx(15 / 7)
    # days left = Mar 1 00:00 - Feb 10 12:00 = 18.5; projected = 15 + 15/7 * 18.5 = 54.642857...
    assert m["projected_used"] == approx(15 + 15 / 7 * 18.5)
    assert m["consumption_warning"] is False
    assert m["projected_exhaustion"] is None
    assert m["exhausted_on"] is None

    assert cycle_files(out) == ["2026-02.json"]
    assert plan(out)["signal"] == "insufficient-history"


def test_hand_arithmetic_self_check():
    """Self-check of the hand arithmetic used above (no build)."""
    utc = UTC
    as_of = datetime(2026, 3, 4, 12, tzinfo=utc)
    assert (datetime(2026, 4, 1, tzinfo=utc) - as_of) / timedelta(days=1) == 27.5
    assert (as_of + timedelta(days=58 / 12)).date() == date(2026, 3, 9)
    berlin = ZoneInfo("Europe/Berlin")
    assert datetime(2026, 3, 14, 23, 30, tzinfo=utc).astimezone(berlin).date() == date(2026, 3, 15)
    assert datetime(2026, 4, 14, 22, 30, tzinfo=utc).astimezone(berlin).date() == date(2026, 4, 15)
