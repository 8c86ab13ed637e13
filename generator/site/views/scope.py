"""Feature and team pages: built from the same documents as api/features/<slug>.json and api/teams/<slug>.json.

Reading the API documents (site.api.scopes) guarantees that a number on a
feature or team page is the number in its JSON. The tables show the current cycle (named in each
caption), with the previous cycle beside it where a trend helps.
"""

from __future__ import annotations

from typing import Any

from generator.report.model import Report
from generator.site.tables import Cell, Link, Table, table
from generator.site.views.charts import scope_trend_chart
from generator.site.views.month import feature_link, share, team_link

# metric → (label, kind, which way is better); the figures are defined in efficiency.py and guides/glossary.
METRICS: dict[str, tuple[str, str, str]] = {
    "credits_per_event": ("Credits per event", "rate", "lower"),
    "image_credits_per_item": ("Credits per image generated", "rate", "lower"),
    "regeneration_share": ("Generations that were regenerations", "pct", "lower"),
    "edit_share": ("Fixes made as edits rather than regenerations", "pct", "higher"),
    "nonfinal_upscale_share": ("Upscales of images changed afterwards", "pct", "lower"),
    "batch_share": ("Images made in batches", "pct", "higher"),
    "enhances_per_document": ("Enhancements per document", "rate", "lower"),
    "chat_credits_per_response": ("Credits per chat response", "rate", "lower"),
    "responses_per_conversation": ("Responses per conversation", "rate", "higher"),
    "restart_share": ("Conversations restarted soon after", "pct", "lower"),
    "knowledge_share": ("Events with knowledge base integration", "pct", "—"),
}
FEATURE_METRICS = {
    "image": ("image_credits_per_item", "regeneration_share", "edit_share", "nonfinal_upscale_share", "batch_share"),
    "compose": ("credits_per_event", "enhances_per_document", "knowledge_share"),
    "chat": ("chat_credits_per_response", "responses_per_conversation", "restart_share", "knowledge_share"),
}
FEATURE_GUIDES = {
    "image": ("edit-vs-regenerate", "upscaling", "batch-generation", "choosing-models"),
    "compose": ("document-enhancements", "knowledge-base", "choosing-models"),
    "chat": ("chat-context", "knowledge-base", "choosing-models"),
}
GENERAL_GUIDES = ("reading-your-usage", "budgets-and-daily-targets")
TEAM_GUIDES = ("team-coordination", "budgets-and-daily-targets", "weekly-review")


def _scope_items(report: Report, scope: str) -> dict[str, Any]:
    a = report.analytics
    return {"alerts": [al for al in a.alerts if al.scope == scope],
            "recommendations": [r for r in a.recommendations if r.scope == scope]}


def _guide_links(slugs: tuple[str, ...], guides: dict[str, str]) -> list[Link]:
    return [Link(guides[s], f"guides/{s}/index.html") for s in slugs if s in guides]


# --- features -----------------------------------------------------------------------------------


def feature_context(report: Report, doc: dict[str, Any], guides: dict[str, str]) -> dict[str, Any]:
    """`doc`: the feature's api/features/<slug>.json document."""
    feature = doc["feature"]
    folder = f"features/{doc['slug']}"
    cur = doc["cycles"][-1]
    prev = doc["cycles"][-2] if len(doc["cycles"]) > 1 else None
    label = report.config.feature_label(feature)
    chart = scope_trend_chart("feature", doc, folder, "by_operation", "operation", "operation", name=label)
    tables = {
        "operations": _sums_table(f"{folder}/operations.csv", f"Operations in {cur['cycle']}", "operation", "Operation",
                                  cur["by_operation"]),
        "models": _sums_table(f"{folder}/models.csv", f"Models in {cur['cycle']}", "model", "Model", cur["by_model"]),
        "cost": cost_table(f"{folder}/cost-per-operation.csv", f"Cost per operation in {cur['cycle']}",
                           cur["cost_per_operation"], with_feature=False),
        "teams": table(f"{folder}/teams.csv", f"Teams using {label} in {cur['cycle']}",
                       [("team", "Team"), ("credits", "Credits", "credits"), ("share", "Share of the feature", "pct")],
                       [[team_link(report, t), v, share(v, cur["credits"])]
                        for t, v in sorted(cur["by_team"].items(), key=lambda kv: (-kv[1], kv[0]))]),
    }
    metrics = FEATURE_METRICS.get(feature, ("credits_per_event",))
    if cur["efficiency"] or (prev and prev["efficiency"]):
        tables["efficiency"] = trend_metrics_table(f"{folder}/efficiency.csv", f"Efficiency of {label}", metrics, cur, prev)
    extra = {"doc": doc, "cur": cur, "prev": prev, "charts": {"trend": chart},
             "tables": {k: t for k, t in tables.items() if t.rows},
             "guide_links": _guide_links(FEATURE_GUIDES.get(feature, GENERAL_GUIDES), guides)}
    return extra | _scope_items(report, f"feature:{feature}")


def _sums_table(path: str, caption: str, key: str, label: str, sums: dict[str, dict[str, Any]]) -> Table:
    total = sum(v["credits"] for v in sums.values())
    rows = [[name, v["events"], v["quantity"], v["credits"], share(v["credits"], total)]
            for name, v in sorted(sums.items(), key=lambda kv: (-kv[1]["credits"], kv[0]))]
    return table(path, caption, [(key, label), ("events", "Events", "int"), ("quantity", "Items", "int"),
                                 ("credits", "Credits", "credits"), ("share", "Share", "pct")], rows)


def cost_table(path: str, caption: str, lines: list[dict[str, Any]], with_feature: bool) -> Table:
    cols = [("feature", "Feature")] if with_feature else []
    cols += [("operation", "Operation"), ("model", "Model"), ("events", "Events", "int"), ("quantity", "Items", "int"),
             ("credits", "Credits", "credits"), ("credits_per_event", "Per event", "rate"),
             ("credits_per_item", "Per item", "rate"), ("previous_credits_per_item", "Per item, cycle before", "rate"),
             ("change", "Change per item", "signed_pct")]
    rows = [([x["feature"]] if with_feature else []) + [x["operation"], x["model"], x["events"], x["quantity"], x["credits"],
                                                        x["credits_per_event"], x["credits_per_item"],
                                                        x["previous_credits_per_item"], x["change"]] for x in lines]
    return table(path, caption, cols, rows, row_header=False,
                 note="Credits per event and per item; an item is one image of a batch.")


def _metric_cell(value: float | None, kind: str) -> Cell:
    return Cell(value, kind)


def trend_metrics_table(path: str, caption: str, metrics: tuple[str, ...], cur: dict, prev: dict | None) -> Table:
    rows = []
    for m in metrics:
        label, kind, better = METRICS[m]
        now = (cur["efficiency"] or {}).get("metrics", {}).get(m)
        before = ((prev or {}).get("efficiency") or {}).get("metrics", {}).get(m) if prev else None
        rows.append([label, _metric_cell(now, kind), _metric_cell(before, kind), better])
    cols = [("metric", "Figure"), ("current", cur["cycle"], "mixed"),
            ("previous", prev["cycle"] if prev else "cycle before", "mixed"), ("better", "Better when")]
    return table(path, caption, cols, rows, note="Definitions: see the glossary guide.")


# --- teams --------------------------------------------------------------------------------------


def team_context(report: Report, doc: dict[str, Any], guides: dict[str, str]) -> dict[str, Any]:
    """`doc`: the team's api/teams/<slug>.json document."""
    team = doc["team"]
    folder = f"teams/{doc['slug']}"
    cur = doc["cycles"][-1]
    prev = doc["cycles"][-2] if len(doc["cycles"]) > 1 else None
    label = report.config.team_label(team)
    chart = scope_trend_chart("team", doc, folder, "by_feature", "feature", "feature", name=label,
                              labels={f: report.config.feature_label(f) for f in report.features})
    tables = {
        "members": table(f"{folder}/members.csv", f"Members in {cur['cycle']}",
                         [("member", "Member"), ("credits", "Credits", "credits"), ("events", "Events", "int"),
                          ("share", "Share of the team", "pct")],
                         [[m["member"], m["credits"], m["events"], share(m["credits"], cur["credits"])]
                          for m in cur["members"]]),
        "features": table(f"{folder}/features.csv", f"Features in {cur['cycle']}",
                          [("feature", "Feature"), ("credits", "Credits", "credits"), ("share", "Share of the team", "pct")],
                          [[feature_link(report, f), v, share(v, cur["credits"])]
                           for f, v in sorted(cur["by_feature"].items(), key=lambda kv: (-kv[1], kv[0]))]),
        "compare": compare_table(f"{folder}/compared.csv", f"{label} compared with the other teams in {cur['cycle']}",
                                 cur["compared_with_median"]),
        "cost": cost_table(f"{folder}/cost-per-operation.csv", f"Cost per operation in {cur['cycle']}",
                           cur["cost_per_operation"], with_feature=True),
    }
    extra = {"doc": doc, "cur": cur, "prev": prev, "charts": {"trend": chart},
             "tables": {k: t for k, t in tables.items() if t.rows},
             "guide_links": _guide_links(TEAM_GUIDES, guides)}
    return extra | _scope_items(report, f"team:{team}")


def compare_table(path: str, caption: str, compared: dict[str, dict[str, Any]]) -> Table:
    rows = []
    for m, (label, kind, better) in METRICS.items():
        c = compared.get(m)
        if not c or c["value"] is None:
            continue
        diff_kind = "points" if kind == "pct" else "signed_rate"
        rows.append([label, Cell(c["value"], kind), Cell(c["median"], kind), Cell(c["difference"], diff_kind), better])
    return table(path, caption, [("metric", "Figure"), ("value", "This team", "mixed"),
                                 ("median", "Median of all teams", "mixed"), ("difference", "Difference", "mixed"),
                                 ("better", "Better when")], rows,
                 note="The median over the teams that have the figure this cycle; each figure is a ratio, so team size "
                      "does not matter.")


# --- the lists of features and teams ---------------------------------------------------------------


def index_table(report: Report, kind: str) -> Table:
    """Every feature (or team): this cycle's and the previous cycle's credits, and its budget."""
    cur = report.current
    prev, _ = report.neighbours(cur)
    a = report.analytics
    names = a.feature_slugs if kind == "feature" else a.team_slugs
    budgets = report.config.budgets.features if kind == "feature" else report.config.budgets.teams

    def sums(c):
        return (c.by_feature if kind == "feature" else c.by_team) if c else {}

    link = feature_link if kind == "feature" else team_link
    rows = [[link(report, n), sums(cur).get(n), share(sums(cur).get(n), cur.used), sums(prev).get(n) if prev else None,
             budgets.get(n)] for n in sorted(names, key=lambda n: (-(sums(cur).get(n) or 0), n))]
    plural = f"{kind}s"
    return table(f"{plural}/{plural}.csv", f"{plural.capitalize()}: credits in {cur.name} and {prev.name if prev else '—'}",
                 [(kind, kind.capitalize()), ("credits", f"{cur.name} (so far)", "credits"),
                  ("share_of_used", "Share", "pct"), ("previous", prev.name if prev else "cycle before", "credits"),
                  ("budget", "Budget per cycle", "credits")], rows)
