"""The decisions a team lead acts on: the tier verdict in money, what to do now, the seasonal index.

Every fixture is a tiny site built with the real CLI; the expected numbers are worked out by hand in the
comments. Tiers: A = 100 credits for 10 a month, B = 200 credits for 18. A cycle's single event sits on
its last day, so a cycle that reaches its allocation runs out on its last day and its demand is its used
(demand = used × days ÷ days up to and including the day it ran out = used).
"""

from __future__ import annotations

import html as htmllib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import csv_text, event
from generator.analytics.tier_decision import annual_cost, break_even, monthly_cost
from generator.config import Tier
from generator.formatting import approx, money

TOML = """\
[site]
title = "Decision test"
base_url = "/r/"
timezone = "UTC"
{site_extra}
[data]
exports = ["exports/*.csv"]

[[tiers]]
name = "A"
monthly_credits = 100
monthly_price = 10

[[tiers]]
name = "B"
monthly_credits = 200
monthly_price = 18

[[subscription]]
from = 2025-01-01
tier = "{tier}"
{extra}
"""
LAST_DAY = {"2026-01": 31, "2026-02": 28, "2026-03": 31}


def build(site, used: dict[str, float], extra: str = "", tier: str = "A", current: list[dict] | None = None,
          site_extra: str = ""):
    """One event per complete cycle on its last day, then the current cycle's events (default: 1 credit on Apr 2)."""
    rows = [event(f"c{c}", f"{c}-{LAST_DAY[c]:02d}T12:00:00Z", v, feature="chat", operation="response")
            for c, v in used.items()]
    rows += current if current is not None else [event("now", "2026-04-02T12:00:00Z", 1, feature="chat",
                                                       operation="response")]
    site.config.write_text(TOML.format(extra=extra, tier=tier, site_extra=site_extra), encoding="utf-8")
    site.write_export("usage.csv", csv_text(rows))
    r = site.build()
    assert r.returncode == 0, r.stderr
    return site.json("api/plan.json")["decision"]


def text_of(site, page: str, css_class: str) -> str:
    html = (site.out / page).read_text(encoding="utf-8")
    m = re.search(rf'<p class="{css_class}"[^>]*>(.*?)</p>', html, re.S)
    assert m, f"no <p class={css_class}> in {page}"
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", "", m.group(1)))).strip()


P = "\n[plan]\ntopup_price_per_credit = 0.1\nhorizon_months = 3\n"


# --- the decision, every action --------------------------------------------------------------------


def test_switch_by_on_a_growing_demand(site):
    d = build(site, {"2026-01": 100, "2026-02": 130, "2026-03": 160}, P)
    # average 130, growth 30 a month (least squares over 100, 130, 160); D(m) = 130 + 30 m: 160, 190, 220
    # m = 1: A 10 + 60 × 0.1 = 16, B 18 → A; m = 2: A 10 + 9 = 19, B 18 → B: switch by cycle 2026-04 + 2
    # m = 3: A 10 + 12 = 22, B 18 + 20 × 0.1 = 20; annual A 16 + 19 + 22 = 57, B 18 + 18 + 20 = 56
    # break-even Z = 100 + (18 − 10) / 0.1 = 180, between 100 and 200
    assert (d["action"], d["tier"], d["switch_by"]) == ("switch-by", "B", "2026-06")
    assert d["annual_cost"] == pytest.approx({"A": 57.0, "B": 56.0})
    assert d["break_even_demand"] == pytest.approx(180.0)
    assert d["topup_price_per_credit"] == 0.1
    alert = next(a for a in site.json("api/alerts.json") if a["kind"] == "tier-switch-due")
    assert (alert["level"], alert["cycle"], alert["date"]) == ("info", "2026-04", "2026-04-30")
    assert alert["title"] == "Plan the switch from A to B"  # the month to switch by is said once, beside it
    assert "· by June 2026</span>" in (site.out / "index.html").read_text(encoding="utf-8")
    assert text_of(site, "plan/index.html", "verdict").startswith(
        "Stay on A: at today's demand top-ups are cheaper; at the current growth of ~30 credits a month switch to B "
        "by June 2026, when A plus top-ups starts to cost more (break-even at 180 credits a month).")


def test_switch_now_when_the_next_cycle_is_cheaper_on_another_tier(site):
    d = build(site, {"2026-01": 190, "2026-02": 190, "2026-03": 190}, P)
    # D(m) = 190 (no growth): A 10 + 90 × 0.1 = 19 > B 18 from the first month: switch-now to B
    # annual over 3 months: A 57, B 54; Z = 180
    assert (d["action"], d["tier"], d["switch_by"]) == ("switch-now", "B", None)
    assert d["annual_cost"] == pytest.approx({"A": 57.0, "B": 54.0})
    assert d["break_even_demand"] == pytest.approx(180.0)
    alert = next(a for a in site.json("api/alerts.json") if a["kind"] == "tier-switch-due")
    assert alert["level"] == "warning"
    rec = next(r for r in site.json("api/recommendations.json") if r["category"] == "plan")
    assert rec["estimated_monthly_savings_money"] == pytest.approx(1.0)  # (57 − 54) ÷ 3
    assert text_of(site, "plan/index.html", "verdict") == (
        "Switch to B now: at the 190 credits expected next cycle it costs less than A with top-ups, saving about 3 "
        "over the next 3 months (break-even at 180 credits a month).")


def test_stay_when_the_current_tier_is_cheapest(site):
    d = build(site, {"2026-01": 50, "2026-02": 50, "2026-03": 50}, P)
    # D = 50: A 10, B (covers it, more credits: a candidate) 18 → A; annual A 30, B 54; no break-even for stay
    assert (d["action"], d["tier"], d["switch_by"], d["break_even_demand"]) == ("stay", "A", None, None)
    assert d["annual_cost"] == pytest.approx({"A": 30.0, "B": 54.0})
    assert not [a for a in site.json("api/alerts.json") if a["kind"] == "tier-switch-due"]
    assert text_of(site, "index.html", "verdict") == (
        "Stay on A: at the expected demand, without growth, it is the cheapest tier (30 over the next 3 months, "
        "against 54 for B). Why →")


def test_a_downgrade_only_on_the_downgrade_signal(site):
    d = build(site, {"2026-01": 50, "2026-02": 50, "2026-03": 50}, P, tier="B")
    # on B, 25 % < 60 % in every baseline cycle: signal downgrade, so A (covers 50) is a candidate:
    # A 10 < B 18 → switch-now to A; Z = 100 + 8 / 0.1 = 180
    assert (d["action"], d["tier"], d["break_even_demand"]) == ("switch-now", "A", pytest.approx(180.0))
    d = build(site, {"2026-01": 90, "2026-02": 90, "2026-03": 90}, P, tier="B")
    # 45 % < 60 % is low usage, but required = max(1.2 × 90, 90) = 108 > A's 100: the sizing rule holds, so A is
    # no candidate although it would serve 90 for 10: the plan is not lowered against the downgrade rule
    assert (d["action"], d["tier"]) == ("stay", "B")
    d = build(site, {"2026-01": 130, "2026-02": 130, "2026-03": 130}, P, tier="B")
    # 65 % ≥ 60 %: no downgrade signal, so A is no candidate, although A + 30 top-up credits = 13 < 18
    assert (d["action"], d["tier"]) == ("stay", "B")
    assert d["annual_cost"] == pytest.approx({"A": 39.0, "B": 54.0})


def test_without_a_top_up_price_the_sizing_rule_decides(site):
    d = build(site, {"2026-01": 190, "2026-02": 190, "2026-03": 190}, "\n[plan]\nhorizon_months = 3\n")
    # no [[topups]] and no topup_price_per_credit: p is null; A cannot serve 190 → its cost is null
    # required = max(1.2 × 190, 190) = 228 > 200: the sizing rule says upgrade (to the largest, B): switch-now
    assert (d["action"], d["tier"], d["topup_price_per_credit"], d["break_even_demand"]) == ("switch-now", "B", None, None)
    assert d["annual_cost"] == {"A": None, "B": 54}
    assert text_of(site, "index.html", "verdict").startswith("Switch to B now: the required 228 credits a month")
    d = build(site, {"2026-01": 50, "2026-02": 50, "2026-03": 50}, "\n[plan]\nhorizon_months = 3\n")
    # required max(1.2 × 50, 50) = 60 ≤ 100: hold → stay
    assert (d["action"], d["tier"]) == ("stay", "A")


def test_the_observed_top_up_price_and_insufficient_history(site):
    extra = "\n[[topups]]\ndate = 2026-03-05\ncredits = 50\nprice = 4\n"
    d = build(site, {"2026-03": 60}, extra)
    # p = 4 / 50 = 0.08; one complete cycle: insufficient-history → stay; annual costs still shown:
    # average 60, no growth, 12 months: A 12 × 10 = 120, B 12 × 18 = 216
    assert (d["action"], d["tier"], d["topup_price_per_credit"]) == ("stay", "A", pytest.approx(0.08))
    assert d["annual_cost"] == pytest.approx({"A": 120.0, "B": 216.0})
    assert site.json("api/plan.json")["signal"] == "insufficient-history"


def test_break_even_is_null_outside_the_two_tiers_credits():
    a = Tier(name="A", monthly_credits=100, monthly_price=10)
    b = Tier(name="B", monthly_credits=200, monthly_price=40)
    # 100 + (40 − 10) / 0.1 = 400 > 200: B never pays off on top-ups alone → null
    assert break_even(a, b, 0.1) is None
    assert break_even(a, b, 0.5) == pytest.approx(160.0)  # 100 + 30 / 0.5
    assert break_even(b, a, 0.5) == pytest.approx(160.0)  # order does not matter
    assert break_even(a, b, None) is None


tiers = st.builds(lambda c, pr: Tier(name="T", monthly_credits=c, monthly_price=pr),
                  st.integers(1, 10_000), st.integers(0, 500))


@given(tier=tiers, p=st.one_of(st.none(), st.floats(0, 5)), avg=st.floats(0, 20_000), more=st.floats(0, 5_000),
       growth=st.floats(0, 1_000), months=st.integers(1, 24))
def test_annual_cost_never_falls_when_demand_rises(tier, p, avg, more, growth, months):
    low = [avg + growth * m for m in range(1, months + 1)]
    high = [avg + more + growth * m for m in range(1, months + 1)]
    lo, hi = annual_cost(tier, low, p), annual_cost(tier, high, p)
    if hi is not None:  # a tier that can serve the higher demand can serve the lower one, for no more
        assert lo is not None and lo <= hi + 1e-6
    assert monthly_cost(tier, 0, p) == float(tier.monthly_price)


# --- what to do now ----------------------------------------------------------------------------------


def now_site(site, rows: list[dict], as_of: str, price: str = "\n[plan]\ntopup_price_per_credit = 0.1\n"):
    site.config.write_text(TOML.format(extra=price, tier="A", site_extra=f"as_of = {as_of}\ncurrency = \"EUR\"\n"),
                           encoding="utf-8")
    site.write_export("usage.csv", csv_text(rows))
    r = site.build()
    assert r.returncode == 0, r.stderr
    return site.json("api/months/2026-04.json")


def days(first: int, last: int, credits: float) -> list[dict]:
    return [event(f"d{d}", f"2026-04-{d:02d}T12:00:00Z", credits, feature="chat", operation="response")
            for d in range(first, last + 1)]


def test_will_run_out_keep_to_a_daily_rate_or_buy(site):
    m = now_site(site, days(4, 10, 10), "2026-04-11T00:00:00Z")
    # used 70; burn (Apr 4, Apr 11] = 70 / 7 = 10 a day; days left Apr 11 → May 1 = 20; projected 70 + 200 = 270
    # sustainable = 30 / 20 = 1.5 a day; shortfall 270 − 100 = 170, × 0.1 = 17; unused 0; cost = A's 10
    assert (m["sustainable_daily_rate"], m["shortfall"], m["shortfall_cost"], m["projected_unused"], m["cost"]) == \
        (1.5, 170.0, pytest.approx(17.0), 0.0, 10)
    assert m["state"] == "will-run-out"
    # exhaustion: as_of + 30 / 10 = 3 days → Tue 14 Apr; 1.5 rounds to 2 credits a day on the page
    assert text_of(site, "index.html", "state").startswith(
        "April will run out of credits around Tue 14 Apr 2026: keep to 2 credits a day or less to last until the "
        "reset on Fri 1 May 2026, or buy about 170 credits (≈ €17).")
    html = (site.out / "index.html").read_text(encoding="utf-8")
    assert html.index('<section class="lead" id="lead"') < html.index('<p class="lede">')  # the lead comes first
    assert 'id="lead" aria-label="What to do now" data-state="critical">' in html  # chance ≈ 1 ≥ 90 %
    assert '<li class="alert alert-critical"' in html


def test_will_leave_credits_unused(site):
    m = now_site(site, days(10, 10, 7), "2026-04-11T00:00:00Z")
    # used 7, burn 7 / 7 = 1 a day, projected 7 + 20 = 27: unused 73 > 10 % of 100; shortfall 0 (cost 0)
    # sustainable = 93 / 20 = 4.65
    assert (m["projected_unused"], m["shortfall"], m["shortfall_cost"], m["sustainable_daily_rate"]) == \
        (73.0, 0.0, 0.0, pytest.approx(4.65))
    assert m["state"] == "will-leave-unused"
    assert text_of(site, "index.html", "state").startswith(
        "April will leave about 73 credits unused at the reset on Fri 1 May 2026: spend them on")


def test_on_track(site):
    m = now_site(site, [event("early", "2026-04-02T12:00:00Z", 61, feature="chat", operation="response"),
                        *days(14, 20, 2)], "2026-04-21T00:00:00Z")
    # used 61 + 14 = 75; burn 14 / 7 = 2; days left 10; projected 95: unused 5 ≤ 10 → on track
    # sustainable = 25 / 10 = 2.5 (shown as 2 after rounding half to even)
    assert (m["state"], m["projected_unused"], m["sustainable_daily_rate"]) == ("on-track", 5.0, 2.5)
    assert text_of(site, "index.html", "state") == (
        "April is on track: at 2 credits a day it will use about 95 of its 100 credits by the reset on "
        "Fri 1 May 2026; up to 2 a day would still last.")
    assert 'data-state="ok">' in (site.out / "index.html").read_text(encoding="utf-8")


def test_ran_out(site):
    m = now_site(site, [event("a", "2026-04-02T12:00:00Z", 95, feature="chat", operation="response"),
                        event("b", "2026-04-05T12:00:00Z", 10, feature="chat", operation="response")],
                 "2026-04-11T00:00:00Z", price="")
    # 105 ≥ 100 on Apr 5; burn 10 / 7; projected 105 + 10 / 7 × 20 = 133.57; shortfall 33.57, no price: cost null
    assert m["state"] == "ran-out" and m["shortfall_cost"] is None
    assert m["shortfall"] == pytest.approx(105 + 200 / 7 - 100)
    assert m["sustainable_daily_rate"] == 0.0  # max(0, −5) / 20
    assert text_of(site, "index.html", "state") == (
        "April ran out of credits on Sun 5 Apr 2026: nothing more can be used until the reset on Fri 1 May 2026 "
        "unless you buy about 33.6 credits to cover the rest of the cycle at the recent pace.")


# --- seasonal index ------------------------------------------------------------------------------------


def test_seasonal_index_with_13_complete_cycles(site):
    cycles = [f"2025-{m:02d}" for m in range(1, 13)] + ["2026-01"]
    rows = [event(f"s{i}", f"{c}-15T12:00:00Z", 150 if c.endswith("-01") else 100, feature="chat",
                  operation="response") for i, c in enumerate(cycles)]
    rows.append(event("now", "2026-02-02T12:00:00Z", 1, feature="chat", operation="response"))
    site.config.write_text(TOML.format(extra="", tier="B", site_extra=""), encoding="utf-8")
    site.write_export("usage.csv", csv_text(rows))
    assert site.build().returncode == 0
    index = site.json("api/plan.json")["seasonal_index"]
    # demand 150 at positions 0 and 12, 100 elsewhere: symmetric, so the line is flat at the mean
    # 1,400 / 13 = 107.69; January: 150 × 13 / 1,400 = 1.3929; every other month 100 × 13 / 1,400 = 0.9286
    assert index["01"] == pytest.approx(150 * 13 / 1400)
    assert index["07"] == pytest.approx(100 * 13 / 1400)
    assert sorted(index) == [f"{m:02d}" for m in range(1, 13)]
    html = (site.out / "months/2026-01/index.html").read_text(encoding="utf-8")
    assert "January usually runs +39.3% against the trend of demand (seasonal index 1.39)" in html
    assert "2025-01 a year earlier (150)" in html


def test_seasonal_index_needs_13_complete_cycles(site):
    build(site, {"2026-01": 50, "2026-02": 50, "2026-03": 50})
    assert site.json("api/plan.json")["seasonal_index"] is None
    # 3 complete cycles: 10 more are needed; April is the 4th, so the 13th completes with 2027-01
    html = (site.out / "plan/index.html").read_text(encoding="utf-8")
    assert "they appear after the 2027-01 cycle" in html


# --- words people use ------------------------------------------------------------------------------------


def test_money_formatting():
    assert (money(1788, "EUR"), money(21.914, "EUR"), money(17, "CHF"), money(-5.5, "USD"), money(2080.4)) == \
        ("€1,788", "€21.91", "17 CHF", "−$5.50", "2,080")
    assert (approx(8612.5), approx(195.26), approx(0.4567), approx(87.0)) == ("8,610", "195", "0.457", "87")


def test_display_names_on_pages_charts_and_feed_raw_names_in_json(site):
    extra = '\n[labels]\nteams = { rnd = "Research & Development" }\nfeatures = { chat = "Team Chat" }\n'
    rows = [event("a", "2026-01-10T12:00:00Z", 5, team="rnd", feature="chat", operation="response"),
            event("b", "2026-01-11T12:00:00Z", 5, team="rnd"), event("c", "2026-02-02T12:00:00Z", 1, team="rnd")]
    site.config.write_text(TOML.format(extra=extra, tier="A", site_extra='currency = "EUR"\n'), encoding="utf-8")
    site.write_export("usage.csv", csv_text(rows))
    assert site.build().returncode == 0
    team = (site.out / "teams/rnd/index.html").read_text(encoding="utf-8")
    assert "<title>Team Research &amp; Development" in team
    month = (site.out / "months/2026-01/index.html").read_text(encoding="utf-8")
    assert ">Image Generation Studio</a>" in month and ">Team Chat</a>" in month  # built-in and configured names
    assert "feature:image" not in month and "SPEC" not in month
    assert "<dt>Cost</dt><dd>€10" in month
    assert site.json("api/months/2026-01.json")["by_team"] == {"rnd": 10}  # JSON keeps raw names
    assert "Research &amp; Development" in (site.out / "charts/credits-by-feature.svg").read_text(encoding="utf-8") \
        or "Team Chat" in (site.out / "charts/credits-by-feature.svg").read_text(encoding="utf-8")
    assert "teams/rnd/" in (site.out / "api/site.json").read_text(encoding="utf-8")


def test_overview_alerts_read_in_order_and_budgets_collapse(site):
    extra = "\n[budgets]\nteams = { x = 10, y = 10 }\n"
    rows = [event("x1", "2026-04-02T12:00:00Z", 15, team="x", feature="chat", operation="response"),
            event("y1", "2026-04-03T12:00:00Z", 15, team="y", feature="chat", operation="response"),
            event("z", "2026-04-09T12:00:00Z", 1, team="x", feature="chat", operation="response")]
    now_site(site, rows, "2026-04-10T00:00:00Z", price=extra)
    html = (site.out / "index.html").read_text(encoding="utf-8")
    items = re.findall(r'<li class="alert alert-(\w+)" id="alert-([^"]+)">(.*?)</li>', html, re.S)
    levels = [level for level, _, _ in items]
    # critical first: both team budgets (10 each) went over (15 > 10): one line for the two
    assert levels == sorted(levels, key=["critical", "warning", "info"].index)
    titles = [re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", "", body))).strip() for _, _, body in items]
    assert any(t.startswith("critical 2 team budgets went over · first on Thu 2 Apr 2026") for t in titles), titles
    assert len(items) <= 5
    month = (site.out / "months/2026-04/index.html").read_text(encoding="utf-8")
    for ident in ("budget-overrun:2026-04:team-x:2026-04-02", "budget-overrun:2026-04:team-y:2026-04-03"):
        assert f'id="alert-{ident}"' in month  # the month page keeps every alert


def test_a_budget_projected_past_the_subscription_running_out_says_so(site):
    extra = "\n[budgets]\nteams = { x = 60 }\n"
    rows = [event(f"{t}{d}", f"2026-04-{d:02d}T12:00:00Z", 5, team=t, feature="chat", operation="response")
            for d in range(4, 11) for t in ("x", "y")]
    now_site(site, rows, "2026-04-11T00:00:00Z", price=extra)
    # used 70, burn 10 a day: the 30 left run out 3 days after as_of, Tue 14 Apr
    # team x: 35 used, 5 a day, 25 more to pass its 60: 5 days → Thu 16 Apr, after the credits run out
    a = next(a for a in site.json("api/alerts.json") if a["kind"] == "budget-overrun")
    assert (a["date"], a["figures"]["before_credits_run_out"]) == ("2026-04-16", True)
    month = (site.out / "months/2026-04/index.html").read_text(encoding="utf-8")
    assert "before credits run out on Tue 14 Apr 2026" in month


def test_decision_has_exactly_the_spec_fields_and_the_path_sits_beside_it(site):
    build(site, {"2026-01": 100, "2026-02": 130, "2026-03": 160}, P)
    plan = site.json("api/plan.json")
    assert set(plan["decision"]) == {"action", "tier", "switch_by", "break_even_demand", "topup_price_per_credit",
                                     "annual_cost"}
    path = plan["money_view"]["demand_path"]
    # D(m) = 130 + 30 m for m = 1 … 3, cycles May, June, July 2026; cheapest A, B, B
    assert [(m["cycle"], m["demand"], m["cheapest"]) for m in path] == [
        ("2026-05", 160.0, "A"), ("2026-06", 190.0, "B"), ("2026-07", 220.0, "B")]
