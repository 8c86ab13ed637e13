"""The published contract of the JSON API: a JSON Schema (draft 2020-12) for every document of SPEC §4.

Shipped in every site under `api/schema/<name>.schema.json` (listed in `api/schema/index.json` and in
`api/site.json` `schemas`), and used by `creditwise check` to validate each document of a built site.
Field names, types and nullability are the spec's; a field the spec names is required, and where the
spec or README's "Readings of the spec" allows none (e.g. `expired` of the current cycle) it may be
null. Additional properties are allowed everywhere: documents carry more than the spec names (the
forecast, the weekly review, …), and a newer Creditwise may add fields without breaking a reader.
"""

from __future__ import annotations

import re
from typing import Any

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:creditwise:api:1:"

# Fields SPEC §4 names that documents of this version do not carry yet: described (typed where present)
# but not required until they are written. Empty this list as they arrive.
PENDING: dict[str, tuple[str, ...]] = {}

ALERT_KINDS = ["threshold", "consumption-warning", "exhausted", "spike", "budget-overrun", "expiring-credits",
               "tier-switch-due"]
ALERT_LEVELS = ["info", "warning", "critical"]
SIGNALS = ["upgrade", "downgrade", "hold", "insufficient-history"]
ACTIONS = ["switch-now", "switch-by", "stay"]
CATEGORIES = ["practice", "plan", "timing"]

NUM: dict[str, Any] = {"type": "number"}
INT: dict[str, Any] = {"type": "integer"}
STR: dict[str, Any] = {"type": "string"}
BOOL: dict[str, Any] = {"type": "boolean"}
CYCLE: dict[str, Any] = {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$"}
DATE: dict[str, Any] = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
INSTANT: dict[str, Any] = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$"}
LEVEL_KEY = r"^\d+\.\d+$"  # notify levels as decimals: "0.5", "1.0"
MONTH_KEY = r"^(0[1-9]|1[0-2])$"


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Any], required: list[str] | None = None, name: str | None = None) -> dict[str, Any]:
    """An object with these properties, all required unless `required` says otherwise (minus pending ones)."""
    needed = list(properties) if required is None else required
    pending = PENDING.get(name or "", ())
    return {"type": "object", "properties": properties, "required": [k for k in needed if k not in pending]}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def credits_by(key_pattern: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "additionalProperties": NUM}
    if key_pattern:
        out["propertyNames"] = {"pattern": key_pattern}
    return out


SITE = obj({
    "api_version": INT, "generated_at": INSTANT, "title": STR, "base_url": STR, "timezone": STR,
    "as_of": INSTANT, "current_cycle": CYCLE, "cycles": array(CYCLE), "features": array(STR), "teams": array(STR),
    "events_counted": INT, "events_after_as_of": INT, "quarantined_rows": INT, "pages": array(STR),
    "downloads": {"type": "object", "properties": {"focus": STR}, "required": ["focus"]},
    "schemas": {"type": "object", "additionalProperties": STR},
}, required=["api_version", "generated_at", "as_of", "cycles", "features", "teams", "events_after_as_of", "pages",
             "downloads", "schemas"])

_CURRENT_MONTH = {
    "burn_rate": NUM, "projected_used": NUM, "projected_exhaustion": nullable(DATE),
    "sustainable_daily_rate": NUM, "shortfall": NUM, "shortfall_cost": nullable(NUM), "projected_unused": NUM,
}

MONTH: dict[str, Any] = obj({
    "cycle": CYCLE, "start": INSTANT, "end": INSTANT, "complete": BOOL, "tier": STR, "allocation": NUM, "used": NUM,
    "remaining": NUM, "utilization": NUM, "expired": nullable(NUM), "exhausted_on": nullable(DATE),
    "thresholds": {"type": "object", "additionalProperties": nullable(DATE), "propertyNames": {"pattern": LEVEL_KEY}},
    "by_feature": credits_by(), "by_team": credits_by(),
    "daily": array(obj({"date": DATE, "credits": NUM})), "cost": NUM,
    "current": BOOL,
}, name="month") | {
    # The current cycle also carries its pace and what to do now (SPEC §4, §3 "What to do now").
    "if": {"properties": {"current": {"const": True}}, "required": ["current"]},
    "then": {"required": [k for k in _CURRENT_MONTH if k not in PENDING.get("month", ())]},
}
MONTH["properties"] = MONTH["properties"] | _CURRENT_MONTH

DECISION = obj({
    "action": {"enum": ACTIONS}, "tier": STR, "switch_by": nullable(CYCLE), "break_even_demand": nullable(NUM),
    "topup_price_per_credit": nullable(NUM),
    "annual_cost": {"type": "object", "additionalProperties": nullable(NUM)},
})

PLAN = obj({
    "current_tier": STR, "recommended_tier": nullable(STR), "signal": {"enum": SIGNALS}, "baseline": array(CYCLE),
    "average": nullable(NUM), "peak": nullable(NUM), "growth_per_month": nullable(NUM), "projected": nullable(NUM),
    "required": nullable(NUM),
    "indicators": obj({"high_usage": BOOL, "ran_out": BOOL, "low_usage": BOOL}),
    "exceeds_largest_tier": BOOL, "decision": DECISION,
    "seasonal_index": nullable({"type": "object", "additionalProperties": NUM, "propertyNames": {"pattern": MONTH_KEY}}),
}, name="plan")

ALERTS = array(obj({
    "id": STR, "kind": {"enum": ALERT_KINDS}, "level": {"enum": ALERT_LEVELS}, "cycle": CYCLE, "date": nullable(DATE),
    "scope": STR, "title": STR, "detail": nullable(STR),
}))

RECOMMENDATIONS = array(obj({
    "id": STR, "kind": STR, "category": {"enum": CATEGORIES}, "title": STR, "scope": nullable(STR),
    "estimated_monthly_savings": nullable(NUM), "estimated_monthly_savings_money": nullable(NUM),
    "credits_at_stake": nullable(NUM), "evidence": {"type": ["object", "array", "string"]},
}, name="recommendations"))

_BUDGET = nullable(obj({"budget": NUM, "actual": NUM, "variance": NUM}, required=["budget", "actual", "variance"]))
_MEMBERS = array(obj({"member": STR, "team": STR, "credits": NUM, "events": INT}))
_COST_LINES = array(obj({"feature": STR, "operation": STR, "model": nullable(STR), "events": INT, "credits": NUM,
                         "credits_per_event": nullable(NUM), "credits_per_item": nullable(NUM)},
                        required=["feature", "operation", "model", "events", "credits", "credits_per_event",
                                  "credits_per_item"]))
_EFFICIENCY = nullable({"type": "object", "required": ["credits", "events", "metrics"],
                        "properties": {"credits": NUM, "events": INT, "metrics": {"type": "object"}}})
_SCOPE_CYCLE = {"cycle": CYCLE, "complete": BOOL, "current": BOOL, "credits": NUM, "events": INT,
                "share_of_used": nullable(NUM), "cost_per_operation": _COST_LINES, "efficiency": _EFFICIENCY,
                "budget": _BUDGET, "members": _MEMBERS}

FEATURE = obj({
    "feature": STR, "slug": STR, "url": STR, "budget": nullable(NUM),
    "cycles": array(obj(_SCOPE_CYCLE | {"by_operation": {"type": "object"}, "by_model": {"type": "object"},
                                        "by_team": credits_by()})),
    "alerts": array(STR), "recommendations": array(STR),
})

TEAM = obj({
    "team": STR, "slug": STR, "url": STR, "budget": nullable(NUM),
    "cycles": array(obj(_SCOPE_CYCLE | {"by_feature": credits_by()})),
    "alerts": array(STR), "recommendations": array(STR),
})

DATA_QUALITY = obj({
    "rows_read": INT, "counted": INT, "duplicates": INT, "quarantined": INT, "events_after_as_of": INT,
    "files": array(obj({"file": STR, "rows": INT, "counted": INT, "duplicate": INT, "quarantined": INT})),
    "quarantined_rows": array(obj({"file": STR, "column": STR, "reason": STR, "event_id": nullable(STR)})),
    "unknown_names": array(obj({"feature": STR, "operation": STR, "events": INT, "credits": NUM, "why": STR})),
    "missing_export_gaps": array(obj({"first": DATE, "last": DATE, "days": INT, "workdays": INT})),
})

_TITLES = {
    "site": ("api/site.json", "The site: as_of, cycles, features, teams and the URL of every page", SITE),
    "month": ("api/months/YYYY-MM.json", "One billing cycle", MONTH),
    "plan": ("api/plan.json", "The tier recommendation and the decision", PLAN),
    "alerts": ("api/alerts.json", "Every alert", ALERTS),
    "recommendations": ("api/recommendations.json", "Every optimization recommendation, ranked", RECOMMENDATIONS),
    "feature": ("api/features/<slug>.json", "The figures of one feature's page", FEATURE),
    "team": ("api/teams/<slug>.json", "The figures of one team's page", TEAM),
    "data-quality": ("api/data-quality.json", "Rows read, counted, merged and left out", DATA_QUALITY),
}


def schemas() -> dict[str, dict[str, Any]]:
    """Name → the complete schema document."""
    return {name: {"$schema": DIALECT, "$id": f"{ID_PREFIX}{name}", "title": title,
                   "description": f"{path}: {title.lower()}.", **body}
            for name, (path, title, body) in _TITLES.items()}


def schema_path(name: str) -> str:
    return f"api/schema/{name}.schema.json"


def schema_urls() -> dict[str, str]:
    """Name → path of its schema in the site, for api/site.json."""
    return {name: schema_path(name) for name in _TITLES}


def schema_index() -> dict[str, Any]:
    return {"dialect": DIALECT, "schemas": [{"name": name, "document": path, "schema": schema_path(name)}
                                            for name, (path, _, _) in _TITLES.items()]}


_DOCS = [
    (re.compile(r"^api/site\.json$"), "site"),
    (re.compile(r"^api/months/[^/]+\.json$"), "month"),
    (re.compile(r"^api/plan\.json$"), "plan"),
    (re.compile(r"^api/alerts\.json$"), "alerts"),
    (re.compile(r"^api/recommendations\.json$"), "recommendations"),
    (re.compile(r"^api/features/[^/]+\.json$"), "feature"),
    (re.compile(r"^api/teams/[^/]+\.json$"), "team"),
    (re.compile(r"^api/data-quality\.json$"), "data-quality"),
]


def schema_name_for(rel: str) -> str | None:
    """Which schema a file of the site (path relative to its root) must follow, if any."""
    return next((name for pattern, name in _DOCS if pattern.match(rel)), None)
