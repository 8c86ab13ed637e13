"""The JSON API's published contract: one JSON Schema (draft 2020-12) per document of SPEC §4.

Each schema accepts the documents a build writes and rejects the same document with a field the spec
names removed, or with a value of the wrong type; the site ships the schemas under api/schema/ and
`creditwise check` applies them.
"""

from __future__ import annotations

import copy
import json
import shutil

import jsonschema
import pytest

from conftest import ONE_TIER_TOML, csv_text, event, run_cli
from generator.site.api.schema import PENDING, schema_name_for, schemas

# SPEC §4 field lists (and README "Readings of the spec" for `current`, `cost` being in §4's month list).
SPEC_FIELDS = {
    "site": ["as_of", "cycles", "features", "teams", "pages"],
    "month": ["cycle", "start", "end", "complete", "tier", "allocation", "used", "remaining", "utilization", "expired",
              "exhausted_on", "thresholds", "by_feature", "by_team", "daily", "cost"],
    "plan": ["current_tier", "recommended_tier", "signal", "baseline", "average", "peak", "growth_per_month",
             "projected", "required", "indicators", "exceeds_largest_tier", "decision", "seasonal_index"],
    "alerts": ["id", "kind", "level", "cycle", "date", "scope", "title", "detail"],
    "recommendations": ["id", "kind", "category", "title", "scope", "estimated_monthly_savings",
                        "estimated_monthly_savings_money", "credits_at_stake", "evidence"],
}
CURRENT_MONTH = ["burn_rate", "projected_used", "projected_exhaustion", "sustainable_daily_rate", "shortfall",
                 "shortfall_cost", "projected_unused"]
# A value of the wrong type for a field of each document.
# The tiny site makes no recommendation: a hand-written one, as SPEC §4 describes it, stands in.
RECOMMENDATION = {"id": "model-shift:subscription", "kind": "model-shift", "category": "practice", "title": "Match the model",
                  "scope": "subscription", "estimated_monthly_savings": 12.5, "estimated_monthly_savings_money": None,
                  "credits_at_stake": None, "evidence": {"rule": "…"}}
WRONG_TYPE = {"site": ("cycles", "2026-01"), "month": ("used", "55"), "plan": ("exceeds_largest_tier", "no"),
              "alerts": ("level", 3), "recommendations": ("title", None), "feature": ("cycles", {}),
              "team": ("slug", 7), "data-quality": ("counted", "all")}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("schema")
    (root / "site.toml").write_text("""\
[site]
title = "Schema"
base_url = "/r/"

[data]
exports = ["exports/*.csv"]

""" + ONE_TIER_TOML, encoding="utf-8")
    (root / "exports").mkdir()
    (root / "exports" / "e.csv").write_text(csv_text([
        event("a", "2026-01-05T09:00:00Z", 60), event("b", "2026-01-20T09:00:00Z", 30, team="sales"),
        event("c", "2026-02-02T09:00:00Z", 55, feature="chat", operation="response"),
    ]), encoding="utf-8")
    r = run_cli("build", "-c", str(root / "site.toml"), "-q")
    assert r.returncode == 0, r.stderr
    return root / "public"


def documents(out) -> dict[str, list]:
    docs: dict[str, list] = {}
    for path in sorted((out / "api").rglob("*.json")):
        name = schema_name_for(path.relative_to(out).as_posix())
        if name:
            docs.setdefault(name, []).append(json.loads(path.read_text(encoding="utf-8")))
    return docs


def validator(name: str):
    schema = schemas()[name]
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def item_of(name: str, doc):
    """The object a field lives in: list documents (alerts, recommendations) hold objects."""
    return doc[0] if isinstance(doc, list) else doc


def test_every_document_has_a_schema_and_is_valid(built):
    docs = documents(built)
    assert set(docs) == set(schemas())
    for name, found in docs.items():
        for doc in found:
            errors = list(validator(name).iter_errors(doc))
            assert not errors, (name, [e.message for e in errors[:3]])


def test_spec_fields_are_required_and_null_only_where_allowed():
    for name, fields in SPEC_FIELDS.items():
        schema = schemas()[name]
        body = schema["items"] if schema["type"] == "array" else schema
        assert set(fields) - set(PENDING.get(name, ())) <= set(body["required"]), name
        assert set(fields) <= set(body["properties"]), name
    month = schemas()["month"]
    assert set(CURRENT_MONTH) - set(PENDING.get("month", ())) <= set(month["then"]["required"])
    v = validator("month")
    ok = {"cycle": "2026-01", "start": "2026-01-01T00:00:00+00:00", "end": "2026-02-01T00:00:00+00:00",
          "complete": True, "current": False, "tier": "S", "allocation": 100, "used": 90, "remaining": 10,
          "utilization": 0.9, "expired": None, "exhausted_on": None, "thresholds": {"0.5": "2026-01-05", "1.0": None},
          "by_feature": {"image": 90}, "by_team": {"design": 90}, "daily": [{"date": "2026-01-01", "credits": 0}],
          "cost": 10}
    assert v.is_valid(ok)
    assert not v.is_valid(ok | {"thresholds": {"half": None}})  # levels are written as decimals
    assert not v.is_valid(ok | {"used": None})  # used is never null
    assert not v.is_valid(ok | {"current": True})  # the current cycle carries its pace
    plan = validator("plan")
    assert plan.is_valid({"seasonal_index": None, "decision": {"action": "stay"}}) is False  # decision needs its fields


@pytest.mark.parametrize("name", sorted(WRONG_TYPE))
def test_each_schema_rejects_a_removed_field_and_a_wrong_type(built, name):
    doc = documents(built)[name][0]
    if name == "recommendations" and not doc:
        doc = [RECOMMENDATION]
    v = validator(name)
    assert v.is_valid(doc)
    schema = schemas()[name]
    required = (schema["items"] if schema["type"] == "array" else schema)["required"]
    assert required
    for field in required:
        broken = copy.deepcopy(doc)
        item_of(name, broken).pop(field)
        assert not v.is_valid(broken), (name, field)
    field, value = WRONG_TYPE[name]
    broken = copy.deepcopy(doc)
    item_of(name, broken)[field] = value
    assert not v.is_valid(broken)


def test_the_site_ships_its_schemas_and_check_applies_them(built, tmp_path):
    site = json.loads((built / "api" / "site.json").read_text(encoding="utf-8"))
    for name, rel in site["schemas"].items():
        assert json.loads((built / rel).read_text(encoding="utf-8")) == schemas()[name]
    index = json.loads((built / "api" / "schema" / "index.json").read_text(encoding="utf-8"))
    assert {s["name"] for s in index["schemas"]} == set(schemas())
    assert run_cli("check", str(built)).returncode == 0
    copy_dir = tmp_path / "site"
    shutil.copytree(built, copy_dir)
    plan = json.loads((copy_dir / "api" / "plan.json").read_text(encoding="utf-8"))
    plan["signal"] = "sideways"
    (copy_dir / "api" / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    r = run_cli("check", str(copy_dir))
    assert r.returncode == 4
    assert "api/plan.json: signal: 'sideways' is not one of downgrade, hold, insufficient-history, upgrade" in r.stderr


def test_pending_fields_are_not_written_yet(built):
    """Once a build writes a field PENDING lists, it must become required: take it off PENDING."""
    docs = documents(built)
    written = set()
    for name, fields in PENDING.items():
        for doc in docs.get(name, []):
            for item in doc if isinstance(doc, list) else [doc]:
                written |= {(name, f) for f in fields if f in item}
    assert not written, f"written now, so required from now on: remove from PENDING {sorted(written)}"
