"""Efficiency, value and planning figures: cost per operation, workflows, knowledge premium, team medians,
chargeback, ROI, weekly review, growth, budgets, forecast, tier replay, slugs — each against a hand-worked fixture,
built through the CLI and read from the JSON documents users read (the shape invariant over random rows reads
the same documents built in-process).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BASIC_TOML, ApiDocs, api_in_process, api_of, event
from generator.analytics.slugs import assign_slugs, slugify
from generator.model.cycles import cycle_of
from generator.model.details import cycle_sql


def report_of(root: Path, rows: list[dict], toml: str = BASIC_TOML) -> ApiDocs:
    """Built through the CLI: the JSON documents users read."""
    return api_of(root, rows, toml)


def month_of(docs: ApiDocs, cycle: str) -> dict:
    return docs[f"api/months/{cycle}.json"]


def cycle_in(doc: dict, cycle: str) -> dict:
    return next(c for c in doc["cycles"] if c["cycle"] == cycle)


def at(day: int, minute: int = 0, month: int = 1) -> str:
    return f"2026-{month:02d}-{day:02d}T10:{minute:02d}:00Z"


def test_cost_per_operation_and_month_over_month(tmp_path):
    rows = [event("a", at(5), 4, model="m", quantity="2"), event("b", at(6), 2, model="m", quantity="1"),
            event("c", at(5, month=2), 3, model="m", quantity="1")]
    r = report_of(tmp_path, rows)
    jan = month_of(r, "2026-01")["efficiency"]["cost_per_operation"]
    feb = month_of(r, "2026-02")["efficiency"]["cost_per_operation"]
    # January: 2 events, 6 credits, 3 images → 3 per event, 2 per image
    assert [(c["events"], c["credits"], c["quantity"], c["credits_per_event"], c["credits_per_item"]) for c in jan] == [
        (2, 6.0, 3, 3.0, 2.0)]
    # February: 3 per image against January's 2 → +50 %
    assert feb[0]["previous_credits_per_item"] == 2.0 and feb[0]["change"] == pytest.approx(0.5)
    # the feature's document carries the same lines
    assert cycle_in(r["api/features/image.json"], "2026-01")["cost_per_operation"] == jan


def test_image_compose_and_chat_workflows(tmp_path):
    s = "session_id"
    rows = [
        # image session i1: generate ×3 (one batch of 4), edit, upscale then edit (non-final), upscale (final)
        event("g1", at(5, 0), 4, **{s: "i1"}), event("g2", at(5, 1), 8, quantity="4", **{s: "i1"}),
        event("g3", at(5, 2), 4, **{s: "i1"}), event("e1", at(5, 3), 1, operation="edit", **{s: "i1"}),
        event("u1", at(5, 4), 2, operation="upscale", **{s: "i1"}), event("e2", at(5, 5), 1, operation="edit", **{s: "i1"}),
        event("u2", at(5, 6), 2, operation="upscale", **{s: "i1"}),
        # document d1: create, enhance ×3, of which one came before the second create
        event("c1", at(6, 0), 3, "compose", "create", **{s: "d1"}), event("n1", at(6, 1), 1, "compose", "enhance", **{s: "d1"}),
        event("c2", at(6, 2), 3, "compose", "create", **{s: "d1"}), event("n2", at(6, 3), 1, "compose", "enhance", **{s: "d1"}),
        event("n3", at(6, 4), 1, "compose", "enhance", **{s: "d1"}),
        # chats: k1 (1 response) restarted by k2 five minutes later (4 responses)
        event("r1", at(7, 0), 1, "chat", "response", **{s: "k1"}),
        *[event(f"r{i}", at(7, 5 + i), 1, "chat", "response", **{s: "k2"}) for i in range(2, 6)],
        event("z", at(2, month=2), 1),
    ]
    e = month_of(report_of(tmp_path, rows), "2026-01")["efficiency"]
    i = e["image"]
    # 3 generates, 1 + 4 + 1 = 6 images, 4 from a batch; regenerations 2 of 3 session generates
    assert (i["generates"], i["generated_items"], i["batch_items"], i["regenerations"]) == (3, 6, 4, 2)
    assert i["batch_share"] == pytest.approx(4 / 6) and i["regeneration_share"] == pytest.approx(2 / 3)
    assert i["edit_share"] == pytest.approx(2 / 4)  # 2 edits ÷ (2 edits + 2 regenerations)
    assert (i["upscales"], i["nonfinal_upscales"], i["nonfinal_upscale_credits"]) == (2, 1, 2.0)
    assert i["regeneration_credits"] == 12.0  # 4 + 8 + 4 − the first 4
    d = e["compose"]
    assert (d["documents"], d["creates"], d["enhances"], d["enhances_before_final"]) == (1, 2, 3, 1)
    assert d["enhances_per_document"] == 3.0
    c = e["chat"]
    assert (c["conversations"], c["responses"], c["short"], c["restarted"]) == (2, 5, 1, 1)
    assert c["responses_per_conversation"] == 2.5 and c["restarted_credits"] == 1.0


def test_knowledge_premium_and_team_medians(tmp_path):
    rows = [event(f"n{i}", at(5, i), 1, "chat", "response", team="a", model="lite") for i in range(4)]
    rows += [event(f"k{i}", at(6, i), 4, "chat", "response", team="b", model="lite", knowledge="true") for i in range(2)]
    rows += [event(f"c{i}", at(7, i), 2, "chat", "response", team="c", model="lite") for i in range(2)]
    rows += [event("z", at(2, month=2), 1)]
    docs = report_of(tmp_path, rows)
    k = month_of(docs, "2026-01")["efficiency"]["knowledge"]
    # without knowledge: 8 credits / 6 events = 1.333…; with: 4 each → premium 2.667 × 2 events
    assert (k["events"], k["credits"]) == (2, 8.0)
    assert k["premium_credits"] == pytest.approx(2 * (4 - 8 / 6))
    assert k["share"] == pytest.approx(2 / 8)
    # credits per event: a 1, b 4, c 2 → the organisation median over teams is 2, beside each team's own value
    medians = {t: cycle_in(docs[f"api/teams/{t}.json"], "2026-01")["compared_with_median"]["chat_credits_per_response"]
               for t in ("a", "b", "c")}
    assert medians["b"] == {"value": 4.0, "median": 2.0, "difference": 2.0}
    assert (medians["a"]["value"], medians["a"]["median"], medians["c"]["difference"]) == (1.0, 2.0, 0.0)


ROI = "\n[roi]\nhourly_rate = 60\nminutes_saved = { \"image.generate\" = 30 }\n"


def test_chargeback_and_roi(tmp_path):
    rows = [event("a", at(5), 60, team="a"), event("b", at(6), 20, team="b", operation="edit"),
            event("z", at(2, month=2), 1, team="a")]
    jan = month_of(report_of(tmp_path, rows, BASIC_TOML + ROI), "2026-01")
    charge = {t["team"]: t for t in jan["chargeback"]}
    # January: used 80 of 100 at 10 → a 75 % (7.50), b 25 % (2.50); 20 expired → a 15, b 5 at 0.10 a credit
    assert (charge["a"]["share"], charge["a"]["cost"], charge["a"]["expired_credits"]) == (0.75, 7.5, 15.0)
    assert charge["b"]["cost"] == 2.5 and charge["b"]["expired_cost"] == pytest.approx(0.5)
    roi = jan["roi"]
    # 1 image.generate event × 30 min ÷ 60 × 60 = 30; cost = the cycle's full price 10 (expired credits
    # included), cost of the credits used 80 × 0.10 = 8; net 30 − 10 = 20; return 30 ÷ 10 = 3×
    assert (roi["value"], roi["cost"], roi["cost_of_used"], roi["net"], roi["ratio"]) == (30.0, 10.0, 8.0, 20.0, 3.0)


def test_weekly_review_weeks_targets_and_alerts(tmp_path):
    rows = [event("a", at(1), 10, team="a"), event("b", at(2), 5, feature="chat", operation="response", team="b"),
            event("c", at(6), 45, team="b"), event("z", at(2, month=2), 1)]
    weeks = month_of(report_of(tmp_path, rows), "2026-01")["weekly"]
    # 1 Jan 2026 is a Thursday: ISO week 1 runs Mon 29 Dec – Sun 4 Jan; the cycle holds Jan 1–4 of it
    w1 = weeks[0]
    assert (w1["year"], w1["week"], w1["first"], w1["last"], w1["days"]) == (2026, 1, "2026-01-01", "2026-01-04", 4)
    assert w1["credits"] == 15 and w1["target"] == pytest.approx(100 / 31 * 4)
    assert (w1["top_feature"], w1["top_team"]) == ("image", "a")
    assert len(weeks) == 5  # weeks 1–5: Jan 5–11, 12–18, 19–25, 26–31
    # the 0.5 level is crossed on Jan 6 (cumulative 60): listed in week 2
    assert weeks[1]["alerts"] == ["threshold:2026-01:subscription:0.5:2026-01-06"]


def test_growth_month_over_month_and_same_month_last_year(tmp_path):
    toml = BASIC_TOML.replace("from = 2026-01-01", "from = 2025-01-01")
    rows = [event("a", "2025-01-10T10:00:00Z", 10), event("b", "2025-12-10T10:00:00Z", 12),
            event("c", "2026-01-10T10:00:00Z", 15), event("z", "2026-02-02T10:00:00Z", 1)]
    g = month_of(report_of(tmp_path, rows, toml), "2026-01")["growth"]
    # 15 vs December's 12: +3 (+25 %); vs January 2025's 10: +5 (+50 %)
    assert (g["previous_cycle"], g["change"], g["change_ratio"]) == ("2025-12", 3.0, 0.25)
    assert (g["same_month_last_year"], g["last_year_change"], g["last_year_ratio"]) == ("2025-01", 5.0, 0.5)


def test_budget_vs_actual_with_pace(tmp_path):
    toml = BASIC_TOML.replace('timezone = "UTC"', 'timezone = "UTC"\nas_of = 2026-01-11T00:00:00Z')
    toml += "\n[budgets]\nteams = { design = 60 }\n"
    rows = [event(f"d{d}", f"2026-01-{d:02d}T12:00:00Z", 2) for d in range(1, 11)]
    [line] = month_of(report_of(tmp_path, rows, toml), "2026-01")["budgets"]
    # actual 20, variance −40; burn = Jan 4..10 = 14 / 7 days = 2 a day; 21 days left → 20 + 42 = 62 > 60
    # projected to go over at as_of + (60 − 20) / 2 = 20 days → Jan 31
    assert (line["actual"], line["variance"], line["burn_rate"], line["projected"]) == (20.0, -40.0, 2.0, 62.0)
    assert line["projected_over_on"] == "2026-01-31" and line["over_on"] is None


def test_forecast_interval_without_history_uses_the_fallback_spread(tmp_path):
    toml = BASIC_TOML.replace('timezone = "UTC"', 'timezone = "UTC"\nas_of = 2026-01-11T00:00:00Z')
    rows = [event(f"d{d}", f"2026-01-{d:02d}T12:00:00Z", 7) for d in range(1, 11)]
    jan = month_of(report_of(tmp_path, rows, toml), "2026-01")
    f = jan["forecast"]
    # rest = 7 a day × 21 days = 147; spread = the fallback 0.3 (no past cycle)
    z = 1.2815515655446004
    assert f["spread"] == pytest.approx(0.3) and f["reference_cycles"] == []
    assert f["low"] == pytest.approx(70 + 147 * math.exp(-z * 0.3)) == jan["projected_used_low"]
    assert f["high"] == pytest.approx(70 + 147 * math.exp(z * 0.3)) == jan["projected_used_high"]
    # P(rest ≥ 30 left) = 1 − Φ(ln(30 / 147) / 0.3)
    assert f["chance_of_running_out"] == pytest.approx(1 - 0.5 * (1 + math.erf(math.log(30 / 147) / 0.3 / math.sqrt(2))))
    assert f["projected_used"] == pytest.approx(217.0) == jan["projected_used"]
    assert f["low"] < f["projected_used"] < f["high"]


def test_forecast_calibrated_by_a_steady_past_cycle(tmp_path):
    toml = (BASIC_TOML.replace('timezone = "UTC"', 'timezone = "UTC"\nas_of = 2026-02-11T00:00:00Z')
            .replace("monthly_credits = 100\n", "monthly_credits = 1000\n"))
    rows = [event(f"j{d}", f"2026-01-{d:02d}T00:00:00Z", 10) for d in range(1, 32)]
    rows += [event(f"f{d}", f"2026-02-{d:02d}T12:00:00Z", 10) for d in range(1, 11)]
    feb = month_of(report_of(tmp_path, rows, toml), "2026-02")
    f = feb["forecast"]
    # January spent evenly: the projection at the same point was exact, log error 0
    # spread = √((0² + 2 × 0.3²) / (1 + 2)) = √0.06
    assert [r["cycle"] for r in f["reference_cycles"]] == ["2026-01"]
    assert f["reference_cycles"][0]["log_error"] == pytest.approx(0.0, abs=1e-9)
    assert f["spread"] == pytest.approx(math.sqrt(0.06))
    assert feb["projected_used_low"] == pytest.approx(f["low"]) and feb["chance_of_running_out"] == pytest.approx(0.0, abs=1e-6)


def test_tier_replay_per_tier(tmp_path):
    toml = BASIC_TOML + "\n[[topups]]\ndate = 2026-02-05\ncredits = 50\nprice = 5\n"
    rows = [event("a", "2026-01-10T12:00:00Z", 150), event("b", "2026-02-10T12:00:00Z", 60),
            event("z", "2026-03-02T12:00:00Z", 1)]
    plan = report_of(tmp_path, rows, toml)["api/plan.json"]["tier_replay"]
    s, m = plan["tiers"]
    # January ran out on Jan 10 (150 ≥ 100): demand = 150 × 31 / 10 = 465; February: 60
    # S (100): both cycles? 465 > 100 runs out, 60 does not → 1; top-ups 365 at 5 / 50 = 0.1 → 36.5
    assert plan["cycles"] == ["2026-01", "2026-02"] and plan["topup_price_per_credit"] == 0.1
    assert (s["cycles_ran_out"], s["topup_credits"], s["expired"]) == (1, 365.0, 40.0)
    assert s["annual_cost"] == pytest.approx((2 * 10 + 36.5) * 6)  # 12 ÷ 2 cycles
    # M (200): 465 − 200 = 265 top-up credits; expired 200 − 60 = 140
    assert (m["cycles_ran_out"], m["topup_credits"], m["expired"]) == (1, 265.0, 140.0)
    assert m["annual_cost"] == pytest.approx((2 * 18 + 26.5) * 6)


def test_slugs_are_readable_distinct_and_order_free():
    assert slugify("Legal, Risk & Compliance") == "legal-risk-compliance" and slugify("Équipe") == "equipe"
    assert slugify("???") == "unnamed"
    one = assign_slugs(["Design", "design", "Research & Dev"])
    assert one == assign_slugs(["Research & Dev", "design", "Design"])
    assert one["design"] == "design" and one["Design"].startswith("design-") and len(set(one.values())) == 3


@pytest.mark.parametrize("start_day", [1, 15, 28])
def test_cycle_sql_matches_the_python_cycles(start_day):
    con = duckdb.connect()
    days = [dt.date(2025, 12, 20) + dt.timedelta(days=i) for i in range(80)]
    con.execute("CREATE TABLE d (day DATE)")
    con.executemany("INSERT INTO d VALUES (?)", [(d,) for d in days])

    class Cfg:  # only what cycle_sql reads
        class site:
            cycle_start_day = start_day

    got = dict(con.execute(f"SELECT day, {cycle_sql(Cfg)} FROM d").fetchall())
    for d in days:
        assert got[d] == cycle_of(d, start_day, ZoneInfo("UTC")).name


def test_feature_and_team_documents(tmp_path):
    toml = BASIC_TOML + "\n[budgets]\nfeatures = { image = 50 }\nteams = { \"Design & Brand\" = 40 }\n"
    rows = [event("a", at(5), 30, team="Design & Brand", member="ana@example.com"),
            event("b", at(6), 10, feature="chat", operation="response", team="ops", member="ben@example.com"),
            event("z", at(2, month=2), 1, team="ops")]
    docs = report_of(tmp_path, rows, toml)
    assert docs["api/site.json"]["slugs"]["teams"] == {"Design & Brand": "design-brand", "ops": "ops"}
    team = docs["api/teams/design-brand.json"]
    jan = team["cycles"][0]
    assert (team["team"], team["budget"], jan["credits"], jan["by_feature"]) == ("Design & Brand", 40, 30, {"image": 30})
    assert jan["members"] == [{"member": "ana@example.com", "team": "Design & Brand", "credits": 30, "events": 1}]
    assert jan["budget"]["variance"] == -10 and jan["chargeback"]["share"] == 0.75
    image = docs["api/features/image.json"]
    assert image["cycles"][0]["cost_per_operation"][0]["credits_per_item"] == 30.0
    assert image["cycles"][0]["budget"]["actual"] == 30
    for key in ("weekly", "budgets", "chargeback", "efficiency", "growth", "alerts", "recommendations"):
        assert key in docs["api/months/2026-01.json"]


def test_a_session_belongs_to_its_first_day_and_first_team(tmp_path):
    s = "session_id"
    rows = [event("a", "2026-01-31T23:00:00Z", 4, team="x", **{s: "i1"}),
            event("b", "2026-02-01T01:00:00Z", 4, team="y", **{s: "i1"}),
            event("z", "2026-02-03T01:00:00Z", 1, team="y")]
    docs = report_of(tmp_path, rows)
    # one image session starting on Jan 31 for team x: its Feb 1 regeneration counts in January, for x
    assert cycle_in(docs["api/teams/x.json"], "2026-01")["efficiency"]["image"]["regenerations"] == 1
    assert month_of(docs, "2026-01")["efficiency"]["image"]["regenerations"] == 1
    assert month_of(docs, "2026-02")["efficiency"]["image"]["regenerations"] == 0


def test_weekly_review_of_the_current_cycle_stops_at_as_of_and_growth_uses_the_projection(tmp_path):
    toml = BASIC_TOML.replace('timezone = "UTC"', 'timezone = "UTC"\nas_of = 2026-02-11T00:00:00Z')
    rows = [event("j", "2026-01-10T12:00:00Z", 50)] + [event(f"f{d}", f"2026-02-{d:02d}T12:00:00Z", 2) for d in range(4, 11)]
    feb = month_of(report_of(tmp_path, rows, toml), "2026-02")
    # Feb 2026 starts on a Sunday: week 5 (Feb 1), week 6 (Feb 2–8), week 7 up to as_of's day (Feb 9–11)
    assert [(w["week"], w["first"], w["last"]) for w in feb["weekly"]] == [
        (5, "2026-02-01", "2026-02-01"), (6, "2026-02-02", "2026-02-08"), (7, "2026-02-09", "2026-02-11")]
    g = feb["growth"]
    # used 14, burn 2 a day, 18 days left → projected 50, equal to January's 50
    assert (g["basis"], g["value"], g["change"]) == ("projected_used", 50.0, 0.0)


def test_tier_replay_without_an_observed_topup_price(tmp_path):
    rows = [event("a", "2026-01-10T12:00:00Z", 150), event("z", "2026-02-02T12:00:00Z", 1)]
    s = report_of(tmp_path, rows)["api/plan.json"]["tier_replay"]["tiers"][0]
    # January ran out on Jan 10: demand 150 × 31 / 10 = 465 → 365 short on S, counted, not priced
    assert (s["name"], s["topup_credits"], s["topups_priced"], s["annual_cost"]) == ("S", 365.0, False, 120.0)


any_rows = st.lists(st.fixed_dictionaries({
    "offset": st.integers(0, 75 * 86400), "feature": st.sampled_from(["image", "compose", "chat", "video"]),
    "operation": st.sampled_from(["generate", "edit", "upscale", "create", "enhance", "response", "refund"]),
    "team": st.sampled_from(["design", "ops", ""]), "model": st.sampled_from(["a", "b", ""]),
    "session": st.sampled_from(["", "s1", "s2"]), "cents": st.integers(0, 4000), "quantity": st.sampled_from(["", "1", "3"]),
    "knowledge": st.sampled_from(["", "true", "false"]),
}), min_size=1, max_size=30)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=any_rows, budgets=st.booleans())
def test_the_analytics_documents_keep_their_shape_on_any_input(raw, budgets):
    start = dt.datetime(2026, 1, 1, 6, tzinfo=dt.UTC)
    rows = []
    for i, r in enumerate(raw):
        refund = r["operation"] == "refund"
        credits = Decimal(r["cents"]) / 100 * (-1 if refund else 1)
        rows.append(event(f"e{i}", (start + dt.timedelta(seconds=r["offset"])).isoformat(), str(credits), r["feature"],
                          r["operation"], team=r["team"], model=r["model"], session_id=r["session"],
                          quantity=r["quantity"], knowledge=r["knowledge"]))
    toml = BASIC_TOML + ROI + ("\n[budgets]\nfeatures = { image = 5 }\nteams = { ops = 3, ghosts = 1 }\n" if budgets else "")
    with tempfile.TemporaryDirectory() as tmp:
        docs = api_in_process(Path(tmp), rows, toml)  # in-process: a build per example would be too slow
    for a in docs["api/alerts.json"]:
        assert {"id", "kind", "level", "cycle", "date", "scope", "title", "detail"} <= set(a)
    for r in docs["api/recommendations.json"]:
        figure = {"practice": r["estimated_monthly_savings"], "plan": r["estimated_monthly_savings_money"],
                  "timing": r["credits_at_stake"]}[r["category"]]
        assert figure > 0 and isinstance(r["evidence"], dict)
        assert (r["estimated_monthly_savings"] is None) == (r["category"] != "practice")
    current = next(m for k, m in docs.items() if k.startswith("api/months/") and m["current"])
    assert current["projected_used_low"] <= current["projected_used_high"]
    assert 0 <= current["chance_of_running_out"] <= 1
    for name, slug in docs["api/site.json"]["slugs"]["teams"].items():
        assert docs[f"api/teams/{slug}.json"]["team"] == name
    json.dumps(docs, allow_nan=False)  # plain JSON: no NaN or infinity anywhere
