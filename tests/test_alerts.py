"""Alerts (api/alerts.json): each kind on a small fixture whose date, level and numbers are worked out by hand.

Every fixture is built through the CLI and its alerts read from the api/alerts.json users read; one test
checks that ids are identical across builds. The hypothesis invariant reads the same documents built in-process
(a build per example would be too slow).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BASIC_TOML, api_in_process, api_of, csv_text, event, run_cli
from generator.analytics.alerts import threshold_level


def alerts_of(root: Path, rows: list[dict], extra_toml: str = "", toml: str = BASIC_TOML) -> list[dict]:
    return api_of(root, rows, toml + extra_toml)["api/alerts.json"]


def by_id(alerts: list[dict]) -> dict[str, dict]:
    return {a["id"]: a for a in alerts}


def test_levels_follow_the_notify_level():
    # info below 0.8, warning below 1.0, critical from 1.0
    assert [threshold_level(t) for t in (0.5, 0.79, 0.8, 0.9, 1.0, 1.2)] == [
        "info", "info", "warning", "warning", "critical", "critical"]


def test_thresholds_and_exhaustion_of_a_complete_cycle(tmp_path):
    rows = [
        event("e1", "2026-01-05T10:00:00Z", 50, member="ana@example.com", team="design"),
        event("e2", "2026-01-10T10:00:00Z", 30, feature="chat", operation="response", member="ben@example.com", team="ops"),
        event("e3", "2026-01-20T10:00:00Z", 25, member="ana@example.com", team="design"),
        event("e4", "2026-02-02T10:00:00Z", 1),  # makes January complete
    ]
    alerts = by_id(alerts_of(tmp_path, rows))
    # allocation 100 (tier S): cumulative 50 on Jan 5, 80 on Jan 10, 105 on Jan 20
    expected = {
        "threshold:2026-01:subscription:0.5:2026-01-05": ("info", "2026-01-05"),
        "threshold:2026-01:subscription:0.8:2026-01-10": ("warning", "2026-01-10"),
        "threshold:2026-01:subscription:0.9:2026-01-20": ("warning", "2026-01-20"),
        "threshold:2026-01:subscription:1.0:2026-01-20": ("critical", "2026-01-20"),
        "exhausted:2026-01:subscription:2026-01-20": ("critical", "2026-01-20"),
    }
    assert set(alerts) == set(expected)  # February's 1 credit crosses nothing
    for ident, (level, date) in expected.items():
        a = alerts[ident]
        assert (a["level"], a["date"], a["cycle"], a["scope"]) == (level, date, "2026-01", "subscription")
    a80 = alerts["threshold:2026-01:subscription:0.8:2026-01-10"]
    # Jan 1–10: image 50 of 80 credits = 62.5 %; chat 30; design (ana) 50
    assert a80["contributors"]["feature"] == {"name": "image", "credits": 50, "share": 0.625}
    assert a80["contributors"]["team"]["name"] == "design"
    assert a80["contributors"]["member"]["name"] == "ana@example.com"
    # the JSON keeps the raw name, the text uses the display name
    assert "80 credits" in a80["detail"] and "Image Generation Studio (50 credits, 62.5%)" in a80["detail"]
    out = alerts["exhausted:2026-01:subscription:2026-01-20"]
    # Jan 21..31 are 11 full days before the reset on Feb 1; used 105 in all
    assert "11 full days before the reset" in out["detail"] and "105 credits" in out["detail"]


def test_consumption_warning_dated_the_projected_exhaustion(tmp_path):
    toml = BASIC_TOML.replace('timezone = "UTC"', 'timezone = "UTC"\nas_of = 2026-01-11T00:00:00Z')
    rows = [event(f"d{d}", f"2026-01-{d:02d}T12:00:00Z", 7) for d in range(1, 11)]
    alerts = by_id(alerts_of(tmp_path, rows, "", toml))
    a = alerts["consumption-warning:2026-01:subscription:projected"]
    # used 70; burn = Jan 4..10 = 49 credits / 7 days = 7 a day; days left Jan 11 → Feb 1 = 21
    # projected = 70 + 7 × 21 = 217 > 100; exhaustion = as_of + 30 / 7 = 4.29 days → Jan 15
    # chance of running out: the rest 147 against the 30 left, spread 0.3 (no past cycle):
    # 1 − Φ(ln(30 / 147) / 0.3) = 1 − Φ(−5.30) ≈ 1 ≥ 90 %: critical
    assert (a["level"], a["date"], a["projected"], a["raised_on"]) == ("critical", "2026-01-15", True, "2026-01-11")
    assert a["figures"]["burn_rate"] == 7.0 and a["figures"]["days_left"] == 21.0
    assert a["figures"]["shortfall"] == 117.0  # 217 − 100
    assert "7 credits a day" in a["detail"] and "217 credits, 117 more than its allocation of 100" in a["detail"]
    # cumulative 49 on Jan 7, 56 on Jan 8: the 0.5 level is crossed on Jan 8
    assert "threshold:2026-01:subscription:0.5:2026-01-08" in alerts


def test_consumption_warning_below_a_90_percent_chance_stays_a_warning(tmp_path):
    toml = BASIC_TOML.replace('timezone = "UTC"', 'timezone = "UTC"\nas_of = 2026-01-11T00:00:00Z')
    rows = [event("big", "2026-01-01T12:00:00Z", 56)] + [event(f"d{d}", f"2026-01-{d:02d}T12:00:00Z", 2)
                                                         for d in range(4, 11)]
    alerts = by_id(alerts_of(tmp_path, rows, "", toml))
    # used 56 + 7 × 2 = 70; burn 14 / 7 = 2 a day; rest 2 × 21 = 42 > the 30 left: a consumption warning;
    # chance 1 − Φ(ln(30 / 42) / 0.3) = 1 − Φ(−1.12) = 0.869 < 0.9: warning, not critical
    assert alerts["consumption-warning:2026-01:subscription:projected"]["level"] == "warning"


def test_no_consumption_warning_once_the_cycle_ran_out(tmp_path):
    toml = BASIC_TOML.replace('timezone = "UTC"', 'timezone = "UTC"\nas_of = 2026-01-11T00:00:00Z')
    rows = [event("a", "2026-01-02T12:00:00Z", 120)]
    kinds = {a["kind"] for a in alerts_of(tmp_path, rows, "", toml)}
    assert "exhausted" in kinds and "consumption-warning" not in kinds


def test_spike_with_factor_and_drivers(tmp_path):
    rows = [event(f"d{d}", f"2026-01-{d:02d}T12:00:00Z", 5) for d in range(1, 11)]
    rows += [event("s1", "2026-01-11T09:00:00Z", 15, member="ana@example.com", team="design"),
             event("s2", "2026-01-11T10:00:00Z", 5, feature="chat", operation="response", member="ben@example.com",
                   team="ops"),
             event("after", "2026-01-12T12:00:00Z", 5)]
    toml = BASIC_TOML.replace('tier = "S"', 'tier = "M"')  # 200 credits: no run-out noise
    spikes = [a for a in alerts_of(tmp_path, rows, "", toml) if a["kind"] == "spike"]
    # Jan 11: 20 credits; median of the 10 days before = 5; 20 > 3 × 5 → factor 4.0
    assert [(a["id"], a["level"], a["date"]) for a in spikes] == [
        ("spike:2026-01:subscription:2026-01-11", "warning", "2026-01-11")]
    a = spikes[0]
    assert a["figures"] == {"credits": 20.0, "median": 5.0, "factor": 4.0, "excess": 15.0}
    assert a["contributors"]["feature"]["name"] == "image" and a["contributors"]["feature"]["share"] == 0.75
    assert a["contributors"]["member"]["name"] == "ana@example.com"
    assert "4.0×" in a["title"]


def test_no_spike_without_seven_days_before_or_with_a_zero_median(tmp_path):
    # Jan 1: 5 credits; Jan 5: 50 (only 4 days before it); Jan 12: 10 after a quiet week (median 0)
    rows = [event("a", "2026-01-01T12:00:00Z", 5), event("b", "2026-01-05T12:00:00Z", 50),
            event("c", "2026-01-12T12:00:00Z", 10)]
    toml = BASIC_TOML.replace('tier = "S"', 'tier = "M"')
    assert not [a for a in alerts_of(tmp_path, rows, "", toml) if a["kind"] == "spike"]


BUDGETS = '\n[budgets]\nfeatures = { image = 30 }\nteams = { ops = 20 }\n'


def test_budget_overrun_dated_the_day_it_went_over(tmp_path):
    rows = [
        event("i1", "2026-01-03T10:00:00Z", 20, member="ana@example.com", team="design"),
        event("i2", "2026-01-06T10:00:00Z", 15, member="cid@example.com", team="design"),
        event("c1", "2026-01-04T10:00:00Z", 10, feature="chat", operation="response", team="ops"),
        event("c2", "2026-01-09T10:00:00Z", 10, feature="chat", operation="response", team="ops"),
        event("feb", "2026-02-02T10:00:00Z", 1, feature="chat", operation="response", team="ops"),
    ]
    alerts = [a for a in alerts_of(tmp_path, rows, BUDGETS) if a["kind"] == "budget-overrun"]
    # image: 20 on Jan 3, 35 > 30 on Jan 6; ops: 20, equal to its budget, is not over it
    assert [(a["id"], a["level"], a["date"], a["scope"]) for a in alerts] == [
        ("budget-overrun:2026-01:feature-image:2026-01-06", "critical", "2026-01-06", "feature:image")]
    a = alerts[0]
    assert a["figures"] == {"budget": 30.0, "actual": 35.0, "variance": 5.0}
    # a feature-scoped alert names the team and member, not the feature itself
    assert set(a["contributors"]) == {"team", "member"}
    assert a["contributors"]["member"] == {"name": "ana@example.com", "credits": 20, "share": 20 / 35}


def test_projected_budget_overrun_in_the_current_cycle(tmp_path):
    toml = BASIC_TOML.replace('timezone = "UTC"', 'timezone = "UTC"\nas_of = 2026-02-11T00:00:00Z')
    rows = [event("jan", "2026-01-10T10:00:00Z", 1)]
    rows += [event(f"f{d}", f"2026-02-{d:02d}T12:00:00Z", 3) for d in range(4, 11)]
    alerts = [a for a in alerts_of(tmp_path, rows, BUDGETS, toml) if a["kind"] == "budget-overrun"]
    # image in February: 7 days × 3 = 21; burn 21 / 7 = 3 a day; 18 days left → 21 + 54 = 75 > 30
    # projected day: as_of + (30 − 21) / 3 = 3 days → Feb 14
    assert [(a["id"], a["level"], a["date"]) for a in alerts] == [
        ("budget-overrun:2026-02:feature-image:projected", "warning", "2026-02-14")]
    assert alerts[0]["figures"]["projected"] == 75.0 and alerts[0]["figures"]["projected_variance"] == 45.0


def test_expiring_credits_in_the_last_burn_window(tmp_path):
    toml = BASIC_TOML.replace('timezone = "UTC"', 'timezone = "UTC"\nas_of = 2026-01-26T00:00:00Z')
    rows = [event(f"d{d}", f"2026-01-{d:02d}T12:00:00Z", 1) for d in range(19, 26)]
    alerts = [a for a in alerts_of(tmp_path, rows, "", toml) if a["kind"] == "expiring-credits"]
    # used 7; burn 1 a day; 6 days left → projected 13; unused 87 > 10 % of 100 → expires at the reset
    assert [(a["id"], a["level"], a["date"]) for a in alerts] == [
        ("expiring-credits:2026-01:subscription:projected", "warning", "2026-01-31")]
    assert alerts[0]["figures"]["projected_unused"] == 87.0
    assert "About 87 credits" in alerts[0]["title"]


def test_no_expiring_alert_before_the_last_burn_window(tmp_path):
    toml = BASIC_TOML.replace('timezone = "UTC"', 'timezone = "UTC"\nas_of = 2026-01-24T00:00:00Z')
    rows = [event(f"d{d}", f"2026-01-{d:02d}T12:00:00Z", 1) for d in range(17, 24)]
    # 8 days left > burn_window_days (7): no alert yet
    assert not [a for a in alerts_of(tmp_path, rows, "", toml) if a["kind"] == "expiring-credits"]


def test_ids_survive_new_data(tmp_path):
    """The same facts keep their id when later exports arrive; a projected alert keeps its id as its date moves."""
    rows = [event(f"d{d}", f"2026-01-{d:02d}T12:00:00Z", 7) for d in range(1, 11)]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = by_id(alerts_of(tmp_path / "a", rows))
    rows += [event("d11", "2026-01-11T12:00:00Z", 14)]
    second = by_id(alerts_of(tmp_path / "b", rows))
    assert set(first) <= set(second)
    cw = "consumption-warning:2026-01:subscription:projected"
    assert cw in first and cw in second


def test_end_to_end_files_and_ids_identical_across_builds(tmp_path):
    from conftest import Site

    site = Site(tmp_path)
    site.config.write_text(BASIC_TOML + BUDGETS, encoding="utf-8")
    rows = [event(f"d{d}", f"2026-01-{d:02d}T12:00:00Z", 5) for d in range(1, 20)]
    rows += [event("big", "2026-01-20T12:00:00Z", 40, feature="chat", operation="response", team="ops")]
    site.write_export("usage.csv", csv_text(rows))
    r1 = site.build()
    assert r1.returncode == 0, r1.stderr
    one = (site.out / "api/alerts.json").read_bytes()
    for rel in ("api/recommendations.json", "api/features/image.json", "api/features/chat.json",
                "api/teams/design.json", "api/teams/ops.json"):
        assert (site.out / rel).is_file(), rel
    r2 = site.build()
    assert r2.returncode == 0, r2.stderr
    assert (site.out / "api/alerts.json").read_bytes() == one
    alerts = json.loads(one)
    assert {"threshold", "spike", "budget-overrun"} <= {a["kind"] for a in alerts}
    for a in alerts:  # the spec's fields, in its order
        assert list(a)[:8] == ["id", "kind", "level", "cycle", "date", "scope", "title", "detail"]
    assert run_cli("build", "--config", str(site.config), "--output", str(tmp_path / "again")).returncode == 0
    assert (tmp_path / "again/api/alerts.json").read_bytes() == one


rows_strategy = st.lists(
    st.fixed_dictionaries({
        "offset": st.integers(0, 80 * 86400),
        "feature": st.sampled_from(["image", "chat"]),
        "team": st.sampled_from(["design", "ops"]),
        "credits": st.integers(0, 60),
    }),
    min_size=1, max_size=30,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=rows_strategy, day=st.integers(1, 28), tz=st.sampled_from(["UTC", "America/New_York", "Asia/Tokyo"]))
def test_alerts_never_date_outside_their_cycle(raw, day, tz):
    start = dt.datetime(2026, 1, 3, tzinfo=dt.UTC)
    rows = [event(f"e{i}", (start + dt.timedelta(seconds=r["offset"])).isoformat(), r["credits"], feature=r["feature"],
                  team=r["team"]) for i, r in enumerate(raw)]
    toml = (BASIC_TOML.replace('timezone = "UTC"', f'timezone = "{tz}"\ncycle_start_day = {day}')
            .replace("from = 2026-01-01", "from = 2025-12-01"))
    with tempfile.TemporaryDirectory() as tmp:
        docs = api_in_process(Path(tmp), rows, toml + BUDGETS)
        # a cycle's days: from its start's local date up to, not including, its end's local date
        cycles = {m["cycle"]: (dt.datetime.fromisoformat(m["start"]).date(), dt.datetime.fromisoformat(m["end"]).date())
                  for m in (docs[f"api/months/{c}.json"] for c in docs["api/site.json"]["cycles"])}
        alerts = docs["api/alerts.json"]
        assert len({a["id"] for a in alerts}) == len(alerts)
        for a in alerts:
            start, end = cycles[a["cycle"]]
            assert start <= dt.date.fromisoformat(a["date"]) < end, a["id"]
            assert start <= dt.date.fromisoformat(a["raised_on"]) < end, a["id"]
