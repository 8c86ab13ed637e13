"""hypothesis: totals add up, and splitting, duplicating or reordering exports never changes a figure."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BASIC_TOML, csv_text
from generator.config import load_config
from generator.ingest.load import ingest
from generator.report.model import build_report
from generator.site.api.documents import month_json, plan_json
from generator.site.guides import guide_sources

TZ = "America/New_York"
START = dt.datetime(2026, 1, 1, 6, tzinfo=dt.UTC)  # 01:00 in New York: inside the first subscribed cycle
SPAN = 75 * 86400  # about two and a half cycles

event_rows = st.lists(
    st.fixed_dictionaries({
        "offset": st.integers(0, SPAN),
        "feature": st.sampled_from(["image", "compose", "chat", "video"]),
        "team": st.sampled_from(["design", "ops", ""]),
        "cents": st.integers(0, 5000),
        "refund": st.booleans(),
    }),
    min_size=1, max_size=40,
)


def to_csv_rows(raw: list[dict]) -> list[dict]:
    rows = []
    for i, r in enumerate(raw):
        refund = r["refund"] and r["cents"] > 0
        credits = Decimal(r["cents"]) / 100 * (-1 if refund else 1)
        ts = START + dt.timedelta(seconds=r["offset"])
        rows.append({"event_id": f"ev-{i}", "timestamp": ts.isoformat(), "member": f"m{i % 3}@example.com",
                     "team": r["team"], "feature": r["feature"], "operation": "refund" if refund else "generate",
                     "credits": str(credits)})
    return rows


def figures(rows_per_file: list[list[dict]]) -> tuple[dict, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "site.toml").write_text(BASIC_TOML.replace('timezone = "UTC"', f'timezone = "{TZ}"'))
        (root / "exports").mkdir()
        for i, rows in enumerate(rows_per_file):
            (root / "exports" / f"part-{i}.csv").write_text(csv_text(rows))
        config = load_config(root / "site.toml")
        report = build_report(config, ingest(config), set(guide_sources(config)))
        return {c.name: month_json(report, c) for c in report.cycles}, plan_json(report)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=event_rows, data=st.data())
def test_split_duplicated_shuffled_exports_give_the_same_figures(raw, data):
    rows = to_csv_rows(raw)
    clean_months, clean_plan = figures([rows])

    # Totals add up, and match a plain sum of the rows by local month.
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        expected[f"{dt.datetime.fromisoformat(r['timestamp']).astimezone(ZoneInfo(TZ)):%Y-%m}"] += Decimal(r["credits"])
    for name, m in clean_months.items():
        assert Decimal(str(m["used"])) == expected.get(name, Decimal(0))
        assert sum(Decimal(str(v)) for v in m["by_feature"].values()) == Decimal(str(m["used"]))
        assert sum(Decimal(str(v)) for v in m["by_team"].values()) == Decimal(str(m["used"]))
        assert sum(Decimal(str(d["credits"])) for d in m["daily"]) == Decimal(str(m["used"]))
        assert Decimal(str(m["remaining"])) == Decimal(str(m["allocation"])) - Decimal(str(m["used"]))

    # Split into files, with some rows repeated across files, each file shuffled.
    n_files = data.draw(st.integers(1, 4))
    files: list[list[dict]] = [[] for _ in range(n_files)]
    for r in rows:
        homes = data.draw(st.sets(st.integers(0, n_files - 1), min_size=1))
        for h in homes:
            files[h].append(r)
    files = [data.draw(st.permutations(f)) for f in files if f]
    months, plan = figures(files)
    assert months == clean_months
    assert plan == clean_plan
