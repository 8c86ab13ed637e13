"""Recommendations (api/recommendations.json): each kind on a small fixture with its saving worked out by hand.

Unless a test says otherwise, the fixtures use one complete cycle (January 2026) as the baseline, with
one tiny February event to make January complete, so "per month" is January's own figure.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BASIC_TOML, api_in_process, api_of, event
from generator.analytics.recommendations import KINDS

MARKER = event("feb", "2026-02-02T10:00:00Z", 0, feature="chat", operation="response")
BIG = BASIC_TOML.replace('monthly_credits = 100\n', 'monthly_credits = 1000\n')  # tier S: 1,000 credits, no run-out


def docs_of(root: Path, rows: list[dict], extra: str = "", toml: str = BIG):
    """Built through the CLI: the JSON documents users read."""
    return api_of(root, [*rows, MARKER], toml + extra)


def recs_of(root: Path, rows: list[dict], extra: str = "", toml: str = BIG) -> dict[str, dict]:
    return {r["id"]: r for r in docs_of(root, rows, extra, toml)["api/recommendations.json"]}


def ev(eid, minute, credits, feature="image", operation="generate", session="s1", **kw):
    """An event on 2026-01-15 at 10:<minute>."""
    return event(eid, f"2026-01-15T10:{minute:02d}:00Z", credits, feature, operation, session_id=session, **kw)


def test_edit_instead_of_regenerate(tmp_path):
    rows = [ev("a", 0, 4), ev("b", 5, 4), ev("c", 10, 6), ev("d", 15, 1, operation="edit"),
            ev("e", 20, 2, session="s2"), ev("f", 25, 1, operation="edit", session="s2")]
    r = recs_of(tmp_path, rows)["edit-instead-of-regenerate:feature-image"]
    # s1 regenerates twice: 4 + 6 = 10 credits (14 − the first 4); an edit costs 2 credits / 2 edits = 1
    # excess = 10 − 2 × 1 = 8; saving = regenerate_to_edit_share 0.5 × 8 = 4
    assert r["estimated_monthly_savings"] == pytest.approx(4.0)
    assert r["evidence"]["per_cycle"]["2026-01"]["regenerations"] == 2
    assert r["evidence"]["cited_credits_per_month"] == 10
    assert r["evidence"]["assumptions"] == {"regenerate_to_edit_share": 0.5}
    assert r["guide"] == "guides/edit-vs-regenerate/"  # the practice's own guide ships with Creditwise


def test_upscale_final_only(tmp_path):
    rows = [ev("a", 0, 4), ev("b", 5, 2, operation="upscale"), ev("c", 10, 1, operation="edit"),
            ev("d", 15, 2, operation="upscale"),
            ev("e", 20, 4, session="s2"), ev("f", 25, 2, operation="upscale", session="s2")]
    r = recs_of(tmp_path, rows)["upscale-final-only:feature-image"]
    # only s1's 10:05 upscale is followed by a change (the 10:10 edit): 2 credits × share 1.0
    assert r["estimated_monthly_savings"] == pytest.approx(2.0)
    assert r["evidence"]["per_cycle"]["2026-01"]["nonfinal_upscales"] == 1


def test_batch_generation(tmp_path):
    rows = [ev("a", 0, 3, model="m"), ev("b", 5, 3, model="m"), ev("c", 10, 3, model="m"),
            ev("d", 20, 8, model="m", quantity="4", session="s2")]
    r = recs_of(tmp_path, rows)["batch-generation:feature-image"]
    # single images cost 9 / 3 = 3, batch images 8 / 4 = 2: 1 credit less each
    # s1 made 3 singles (9 credits): could save min(9, 3 × 1) = 3; × batch_share 0.5 = 1.5
    assert r["estimated_monthly_savings"] == pytest.approx(1.5)
    assert r["evidence"]["per_cycle"]["2026-01"]["models"]["m"]["batch_price"] == 2.0


def test_no_batch_recommendation_without_a_batch_discount(tmp_path):
    rows = [ev("a", 0, 3, model="m"), ev("b", 5, 3, model="m"), ev("d", 20, 12, model="m", quantity="4", session="s2")]
    assert not [k for k in recs_of(tmp_path, rows) if k.startswith("batch-generation")]


def test_model_choice_and_the_listing_minimum(tmp_path):
    rows = [ev(f"l{i}", i, 1, "chat", "response", f"c{i}", model="lite") for i in range(10)]
    rows += [ev(f"x{i}", 20 + i, 5, "chat", "response", f"d{i}", model="max") for i in range(4)]
    rows += [ev("g1", 40, 2, model="a", session="i1"), ev("g2", 41, 2, model="a", session="i2"),
             ev("g3", 42, 6, model="b", quantity="2", session="i3")]
    recs = recs_of(tmp_path, rows)
    chat = recs["model-choice:feature-chat"]
    # max: 4 responses, 20 credits; at lite's 1 credit per item: 4 → excess 16; × model_shift_share 0.25 = 4
    assert chat["estimated_monthly_savings"] == pytest.approx(4.0)
    assert chat["evidence"]["cited_credits_per_month"] == 20
    assert chat["evidence"]["per_cycle"]["2026-01"]["lines"][0]["cheapest_model"] == "lite"
    # image: b costs 3 per item vs a's 2: excess 6 − 2 × 2 = 2; × 0.25 = 0.5 < min_monthly_savings 1: not listed
    assert "model-choice:feature-image" not in recs


def test_knowledge_deliberate(tmp_path):
    rows = [ev(f"n{i}", i, 1, "chat", "response", f"c{i}", model="lite") for i in range(4)]
    rows += [ev(f"k{i}", 10 + i, 3, "chat", "response", f"k{i}", model="lite", knowledge="true") for i in range(2)]
    r = recs_of(tmp_path, rows)["knowledge-deliberate:feature-chat"]
    # premium per event 3 − 1 = 2; 2 knowledge events → 4; × knowledge_avoidable_share 0.25 = 1
    assert r["estimated_monthly_savings"] == pytest.approx(1.0)
    assert r["evidence"]["per_cycle"]["2026-01"]["premium_credits"] == 4


def test_enhance_final_only(tmp_path):
    rows = [ev("c1", 0, 3, "compose", "create", "d1"), ev("e1", 5, 1.5, "compose", "enhance", "d1"),
            ev("e2", 6, 1.5, "compose", "enhance", "d1"), ev("c2", 10, 3, "compose", "create", "d1"),
            ev("e3", 15, 1.5, "compose", "enhance", "d1")]
    r = recs_of(tmp_path, rows)["enhance-final-only:feature-compose"]
    # the two enhancements before the 10:10 create (3 credits) were of a draft; × share 1.0 = 3
    assert r["estimated_monthly_savings"] == pytest.approx(3.0)
    assert r["evidence"]["per_cycle"]["2026-01"]["enhances_before_final"] == 2


def test_chat_context(tmp_path):
    rows = [ev("a1", 0, 1, "chat", "response", "c1"), ev("a2", 2, 1, "chat", "response", "c1")]
    rows += [ev(f"b{i}", 20 + i, 1, "chat", "response", "c2") for i in range(5)]
    rows += [event("c1", "2026-01-15T15:00:00Z", 1, "chat", "response", session_id="c3")]
    r = recs_of(tmp_path, rows)["chat-context:feature-chat"]
    # c1 (2 responses, short) is followed by c2 18 minutes after its last response: a restart, 2 credits
    # c3 is short but nothing follows within 30 minutes; × restart_waste_share 0.5 = 1
    assert r["estimated_monthly_savings"] == pytest.approx(1.0)
    cycle = r["evidence"]["per_cycle"]["2026-01"]
    assert (cycle["conversations"], cycle["short"], cycle["restarted_conversations"]) == (3, 2, 1)


def test_daily_pacing(tmp_path):
    rows = [event(f"d{d}", f"2026-01-{d:02d}T12:00:00Z", 5) for d in range(1, 11)]
    rows += [event("spike", "2026-01-11T12:00:00Z", 20)]
    r = recs_of(tmp_path, rows)["daily-pacing:subscription"]
    # Jan 11: 20 credits against a median of 5: 15 above the usual day. Spreading work saves nothing:
    # a timing item, with those 15 credits at stake (× pacing_spike_share 0.5 = 7.5 stays in the evidence)
    assert (r["category"], r["estimated_monthly_savings"], r["estimated_monthly_savings_money"]) == ("timing", None, None)
    assert r["credits_at_stake"] == pytest.approx(15.0)
    assert r["evidence"]["usable_credits_per_month"] == pytest.approx(7.5)


def test_expiring_credits(tmp_path):
    rows = [event("a", "2026-01-10T12:00:00Z", 50)]
    r = recs_of(tmp_path, rows, toml=BASIC_TOML)["expiring-credits:subscription"]
    # 100 − 50 = 50 expired > 10 % of 100: 50 credits at stake, nothing saved (× expiring_usable_share 0.5 = 25
    # of them could be put to use)
    assert (r["category"], r["estimated_monthly_savings"], r["credits_at_stake"]) == ("timing", None, 50.0)
    assert r["evidence"]["usable_credits_per_month"] == pytest.approx(25.0)
    assert r["evidence"]["assumptions"] == {"expiring_share": 0.1, "expiring_usable_share": 0.5}


def test_team_practice(tmp_path):
    rows = [ev(f"a{i}", i, 2, team="a", session=f"a{i}") for i in range(4)]
    rows += [ev(f"b{i}", 10 + i, 4, team="b", session=f"b{i}") for i in range(4)]
    r = recs_of(tmp_path, rows, "\n[recommendations]\nteam_practice_min_items = 2\n")["team-practice:team-b"]
    # b pays 4 per image, a 2: gap (4 − 2) × 4 images = 8; × team_practice_share 0.5 = 4
    assert r["estimated_monthly_savings"] == pytest.approx(4.0)
    assert r["scope"] == "team:b"
    assert r["evidence"]["per_cycle"]["2026-01"]["lines"][0]["best_team"] == "a"


DOWNGRADE = BASIC_TOML.replace('tier = "S"', 'tier = "M"')  # on the 200-credit tier


def test_tier_change_comes_from_the_decision_in_money(tmp_path):
    rows = [event(f"m{m}", f"2026-{m:02d}-10T12:00:00Z", 50, feature="chat", operation="response") for m in (1, 2, 3)]
    rows += [event("apr", "2026-04-02T12:00:00Z", 1, feature="chat", operation="response")]
    r = recs_of(tmp_path, rows, "\n[plan]\ntopup_price_per_credit = 0.1\n", toml=DOWNGRADE)["tier-change:s"]
    # demand 50 a month, no growth; on M (200 credits, 18), 25 % < 60 % in every cycle: signal downgrade, so S
    # (100 credits, 10) is a candidate; it covers 50: 10 a month against 18 → switch-now to S
    # over the 12-month horizon: M 12 × 18 = 216, S 12 × 10 = 120 → 96 ÷ 12 = 8 a month, in money only
    assert (r["category"], r["estimated_monthly_savings"], r["credits_at_stake"]) == ("plan", None, None)
    assert r["estimated_monthly_savings_money"] == pytest.approx(8.0)
    assert r["title"] == "Move from M to S"


TOPUPS = BASIC_TOML + """
[[topups]]
date = 2026-01-05
credits = 100
price = 20

[[topups]]
date = 2026-02-05
credits = 100
price = 20
"""


def test_topups_vs_upgrade(tmp_path):
    rows = [event(f"m{m}", f"2026-{m:02d}-10T12:00:00Z", 190, feature="chat", operation="response") for m in (1, 2)]
    rows += [event("mar", "2026-03-02T12:00:00Z", 1, feature="chat", operation="response")]
    recs = recs_of(tmp_path, rows, "\n[plan]\nhorizon_months = 3\n", toml=TOPUPS)
    r = recs["topups-vs-upgrade:m"]
    # top-up price (observed) 40 / 200 = 0.2 a credit; demand 190 a month (2 cycles: no growth)
    # S: 10 + 90 × 0.2 = 28 a month, M: 18 → switch-now to M; over 3 months 84 against 54: 10 a month
    assert r["category"] == "plan" and r["estimated_monthly_savings_money"] == pytest.approx(10.0)
    assert r["evidence"]["current_cost"] == pytest.approx(84.0) and r["evidence"]["tier_cost"] == pytest.approx(54.0)
    assert "tier-change:m" not in recs  # one verdict, one plan recommendation


def test_an_upgrade_that_costs_more_is_not_a_saving(tmp_path):
    rows = [event(f"m{m}", f"2026-{m:02d}-10T12:00:00Z", 95, feature="chat", operation="response") for m in (1, 2, 3)]
    rows += [event("apr", "2026-04-02T12:00:00Z", 1, feature="chat", operation="response")]
    docs = docs_of(tmp_path / "x", rows, "\n[plan]\ntopup_price_per_credit = 0.1\n", toml=BASIC_TOML)
    # required 1.2 × 95 = 114 > 100: the sizing rule says upgrade to M, but demand 95 fits S (10 a month)
    # against M's 18: the decision stays, and no plan recommendation is made
    assert docs["api/plan.json"]["signal"] == "upgrade" and docs["api/plan.json"]["decision"]["action"] == "stay"
    assert not [r for r in docs["api/recommendations.json"] if r["category"] == "plan"]


def test_practice_savings_show_money_only_where_they_avoid_top_ups(tmp_path):
    rows = [ev("a", 0, 4), ev("b", 5, 4), ev("c", 10, 6), event("big", "2026-01-31T12:00:00Z", 136)]
    extra = "\n[plan]\ntopup_price_per_credit = 0.1\n"
    r = recs_of(tmp_path, rows, extra, toml=BASIC_TOML)["edit-instead-of-regenerate:feature-image"]
    # January used 150 on S (100 credits), running out on its last day: demand 150 × 31 / 31 = 150
    # next cycle's expected demand 150 (one complete cycle: no growth) − 100 = 50 top-up credits a month
    # saving 0.5 × (10 − 2 × 1) = 4 credits ≤ 50: all of it avoids top-ups → 4 × 0.1 = 0.4 a month
    assert r["category"] == "practice" and r["estimated_monthly_savings"] == pytest.approx(4.0)
    assert r["estimated_monthly_savings_money"] == pytest.approx(0.4)
    (tmp_path / "big").mkdir()
    big = recs_of(tmp_path / "big", [ev("a", 0, 4), ev("b", 5, 4), ev("c", 10, 6)], extra)
    # on a 1,000-credit tier nothing is bought: a credit saved would only expire, so no money is shown
    assert big["edit-instead-of-regenerate:feature-image"]["estimated_monthly_savings_money"] is None


def test_team_practice_names_the_team_to_learn_from(tmp_path):
    rows = [ev(f"a{i}", i, 2, team="a", session=f"a{i}") for i in range(4)]
    rows += [ev(f"b{i}", 10 + i, 4, team="b", session=f"b{i}") for i in range(4)]
    extra = '\n[recommendations]\nteam_practice_min_items = 2\n[labels]\nteams = { a = "Alpha", b = "Beta" }\n'
    r = recs_of(tmp_path, rows, extra)["team-practice:team-b"]
    # Alpha: 8 credits / 4 images = 2 per image; Beta: 16 / 4 = 4
    assert r["title"] == "Team Beta: learn from team Alpha's image generation"
    assert r["summary"].startswith("Alpha: 2 credits per image vs Beta's 4.")


def test_follow_up_of_advice_in_the_cycle_after(tmp_path):
    jan = [ev("a", 0, 4), ev("b", 5, 4), ev("c", 10, 6)]
    feb = [event(f"f{i}", f"2026-02-10T10:0{i}:00Z", 4, session_id="t1") for i in range(2)]
    mar = [event("mar", "2026-03-02T10:00:00Z", 0, feature="chat", operation="response")]
    r = recs_of(tmp_path, jan + feb + mar)["edit-instead-of-regenerate:feature-image"]
    # advised for January (saving 0.5 × (10 − 2) = 4 ≥ 1): regenerations cost 4 + 6 = 10 credits
    # February, the cycle after: one regeneration of 4 credits → 10 → 4, −6, −60 %
    f = r["evidence"]["follow_up"]
    assert (f["advised_in"], f["followed_in"], f["what"]) == ("2026-01", "2026-02", "regenerations")
    assert (f["cited_credits_before"], f["cited_credits_after"], f["change"]) == (10.0, 4.0, -6.0)
    assert f["change_ratio"] == pytest.approx(-0.6)


def test_every_kind_is_documented_and_listed_in_order(tmp_path):
    guide = (Path(__file__).resolve().parents[1] / "content/guides/recommendations.md").read_text(encoding="utf-8")
    for kind in KINDS:
        assert f"{{ #{kind} }}" in guide or f"{{#{kind}}}" in guide, kind
    rows = [ev("a", 0, 4), ev("b", 5, 4), ev("c", 10, 6), event("s", "2026-01-20T12:00:00Z", 300)]
    recs = docs_of(tmp_path, rows)["api/recommendations.json"]
    practice = [r["estimated_monthly_savings"] for r in recs if r["category"] == "practice"]
    assert practice == sorted(practice, reverse=True)
    order = ["practice", "plan", "timing"]
    assert [order.index(r["category"]) for r in recs] == sorted(order.index(r["category"]) for r in recs)
    assert [r["rank"] for r in recs] == list(range(1, len(recs) + 1))
    for r in recs:
        assert list(r)[:9] == ["id", "kind", "category", "title", "scope", "estimated_monthly_savings",
                               "estimated_monthly_savings_money", "credits_at_stake", "evidence"]


ops = st.sampled_from([("image", "generate"), ("image", "edit"), ("image", "upscale"), ("compose", "create"),
                       ("compose", "enhance"), ("chat", "response")])
raw_rows = st.lists(st.fixed_dictionaries({
    "minute": st.integers(0, 60 * 24 * 70), "op": ops, "model": st.sampled_from(["a", "b", ""]),
    "team": st.sampled_from(["x", "y"]), "member": st.sampled_from(["m1", "m2"]), "session": st.integers(0, 6),
    "credits": st.integers(0, 40), "quantity": st.sampled_from([1, 1, 2, 4]), "knowledge": st.booleans(),
}), min_size=1, max_size=40)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=raw_rows)
def test_savings_never_exceed_the_credits_they_cite(raw):
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = [event(f"e{i}", (start + dt.timedelta(minutes=r["minute"])).isoformat(), r["credits"] / 2, r["op"][0],
                  r["op"][1], member=r["member"], team=r["team"], model=r["model"], quantity=str(r["quantity"]),
                  session_id=f"s{r['session']}", knowledge=str(r["knowledge"]).lower())
            for i, r in enumerate(raw)]
    extra = "\n[recommendations]\nteam_practice_min_items = 1\nmin_monthly_savings = 0\n"
    with tempfile.TemporaryDirectory() as tmp:
        docs = api_in_process(Path(tmp), [*rows, MARKER], BIG + extra)  # in-process: a build per example is too slow
    recs = docs["api/recommendations.json"]
    practice = [r for r in recs if r["category"] == "practice"]
    for r in practice:
        cited = r["evidence"]["cited_credits_per_month"]
        assert 0 < r["estimated_monthly_savings"] <= cited + 1e-9, r["id"]
    # Σ savings of practice items never exceeds the credits they cite
    assert sum(r["estimated_monthly_savings"] for r in practice) <= sum(
        r["evidence"]["cited_credits_per_month"] for r in practice) + 1e-9
    for r in recs:
        if r["category"] != "practice":
            assert r["estimated_monthly_savings"] is None
    for cycle in docs["api/site.json"]["cycles"]:  # every cycle's findings, listed on its month
        for f in docs[f"api/months/{cycle}.json"]["recommendations"]:
            assert 0 < f["savings"] <= f["cited_credits"] + 1e-9


def test_without_a_complete_cycle_the_current_one_is_scaled_to_a_month(tmp_path):
    toml = BIG.replace('timezone = "UTC"', 'timezone = "UTC"\nas_of = 2026-01-16T12:00:00Z')
    rows = [ev("a", 0, 4), ev("b", 5, 4), ev("c", 10, 6), ev("d", 15, 1, operation="edit")]
    recs = {r["id"]: r for r in api_of(tmp_path, rows, toml)["api/recommendations.json"]}
    r = recs["edit-instead-of-regenerate:feature-image"]
    # 15.5 of January's 31 days have passed: half a cycle; the 4 credits found so far are 8 a month
    assert r["evidence"]["baseline"] == ["2026-01"] and r["evidence"]["baseline_months"] == pytest.approx(0.5)
    assert r["estimated_monthly_savings"] == pytest.approx(8.0)


def test_without_a_top_up_price_an_upgrade_that_costs_more_is_not_a_saving(tmp_path):
    rows = [event(f"m{m}", f"2026-{m:02d}-10T12:00:00Z", 95, feature="chat", operation="response") for m in (1, 2, 3)]
    rows += [event("apr", "2026-04-02T12:00:00Z", 1, feature="chat", operation="response")]
    docs = docs_of(tmp_path / "x", rows, toml=BASIC_TOML)
    # required 1.2 × 95 = 114 > 100: the plan says upgrade to M; with no top-up price the decision follows it
    # (switch-now to M), but S serves 95 for 120 a year against M's 216: no money saved, no plan item
    assert docs["api/plan.json"]["signal"] == "upgrade" and docs["api/plan.json"]["decision"]["action"] == "switch-now"
    assert not [r for r in docs["api/recommendations.json"] if r["kind"] == "tier-change"]


def test_follow_up_of_expiring_credits_shows_what_expired_after(tmp_path):
    rows = [event("j1", "2026-01-10T12:00:00Z", 50), event("f1", "2026-02-10T12:00:00Z", 95),
            event("m1", "2026-03-02T12:00:00Z", 1)]
    r = recs_of(tmp_path, rows, toml=BASIC_TOML)["expiring-credits:subscription"]
    # January expired 100 − 50 = 50 (> 10 %: the rule finds it, 0.5 × 50 = 25 ≥ 1); February expired 5, below
    # the rule's 10 %, so it finds nothing, yet 5 credits did expire: the follow-up says 50 → 5, not 50 → 0
    f = r["evidence"]["follow_up"]
    assert (f["cited_credits_before"], f["cited_credits_after"], f["change_ratio"]) == (50.0, 5.0, -0.9)
