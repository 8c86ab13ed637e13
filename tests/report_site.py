"""A small hostile site for the report-site tests: three cycles, names that are markup or formulas, two teams
that slugify alike, a refund, budgets, a top-up and one unreadable row (quarantined).

Hand-checkable figures (tier S: 100 credits a month; January has a 50-credit top-up):
- 2026-01: 30 (design) + 20 (Design) + 12 (<script>) + 8 (=HYPERLINK) + 10 (chat) − 2 (refund) = 78 of 150
- 2026-02: 60 (design) + 45 (Design) + 10 (chat) = 115 of 100 → ran out on 2026-02-20 (cumulative 60 + 45 = 105)
- 2026-03: 20 (design) + 3 (=HYPERLINK) + 5 (chat) = 28, current cycle (as_of 2026-03-10T12:00Z)
"""

from __future__ import annotations

from pathlib import Path

from conftest import TIERS_TOML, csv_text, event

BASE_URL = "https://intranet.example/reports/"
SCRIPT_TEAM = "<script>alert(1)</script>"
FORMULA_TEAM = '=HYPERLINK("http://evil.example","x")'
FORMULA_MEMBER = "@SUM(1+1)*cmd|' /C calc'!A0"
MARKUP_MODEL = "<img src=x onerror=alert(2)>"

TOML = f"""\
[site]
title = "Report <b>site</b> & co"
base_url = "{BASE_URL}"
timezone = "UTC"

[data]
exports = ["exports/*.csv"]
on_error = "quarantine"

{TIERS_TOML}
[[topups]]
date = 2026-01-15
credits = 50
price = 6

[budgets]
features = {{ image = 60 }}
teams = {{ design = 40 }}
"""


def rows() -> list[dict]:
    return [
        event("j1", "2026-01-05T10:00:00Z", 30, team="design", session_id="s1", model="aether-image-pro"),
        event("j2", "2026-01-06T10:00:00Z", 20, team="Design", member="bo@example.com", model=MARKUP_MODEL),
        event("j3", "2026-01-07T10:00:00Z", 12, team=SCRIPT_TEAM, member="eve@example.com"),
        event("j4", "2026-01-08T10:00:00Z", 8, team=FORMULA_TEAM, member=FORMULA_MEMBER),
        event("j5", "2026-01-09T10:00:00Z", 10, team="design", feature="chat", operation="response", model="aether-chat"),
        event("j6", "2026-01-10T10:00:00Z", -2, team="design", operation="refund"),
        event("f1", "2026-02-10T10:00:00Z", 60, team="design", session_id="s2", model="aether-image-pro"),
        event("f2", "2026-02-20T10:00:00Z", 45, team="Design", member="bo@example.com", model="aether-image-pro"),
        event("f3", "2026-02-21T10:00:00Z", 10, team="design", feature="chat", operation="response", model="aether-chat"),
        event("m1", "2026-03-02T10:00:00Z", 20, team="design", model="aether-image-pro"),
        event("m0", "2026-03-03T10:00:00Z", 3, team=FORMULA_TEAM, member=FORMULA_MEMBER, feature="chat", operation="response"),
        event("m2", "2026-03-10T12:00:00Z", 5, team="design", feature="chat", operation="response", model="aether-chat"),
    ]


def write_site(root: Path) -> Path:
    """site.toml and one export with one bad row; returns the site.toml path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.toml").write_text(TOML, encoding="utf-8")
    text = csv_text(rows())
    text += "bad1,2026-01-11T10:00:00Z,ana@example.com,design,image,generate,,abc,,,\n"
    (root / "exports").mkdir(exist_ok=True)
    (root / "exports" / "usage.csv").write_text(text, encoding="utf-8")
    return root / "site.toml"
