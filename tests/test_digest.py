"""`creditwise digest`: what changed since the live release, against a real published fixture site.

The site: tier S (100 credits for 10), published to a directory on this host. On 2026-02-01 40 credits are
used (40 % of 100: no threshold, but a pace far above the allocation, so a projected consumption warning
exists already). The day added on 2026-02-02 brings 15 more: 55 ≥ 0.5 × 100, so the 50 % threshold is
crossed on 2026-02-02 — the one new alert; the consumption warning keeps its id and is not new.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

from test_publish import sshd  # noqa: F401  (the fixture: a real sshd on a loopback port)

from conftest import ONE_TIER_TOML, REPO, csv_text, event

TOML = """\
[site]
title = "Digest site"
base_url = "https://intranet.example/r/"

[data]
exports = ["exports/*.csv"]

""" + ONE_TIER_TOML + """
[publish]
target = "target"
"""
NEW_ALERT = "threshold:2026-02:subscription:0.5:2026-02-02"
NEW_URL = f"https://intranet.example/r/months/2026-02/#alert-{NEW_ALERT}"


def cli(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", *args, "--config", str(root / "site.toml")],
                          cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


def setup(root: Path) -> None:
    (root / "exports").mkdir()
    (root / "site.toml").write_text(TOML, encoding="utf-8")
    (root / "exports" / "d1.csv").write_text(csv_text([event("a", "2026-02-01T09:00:00Z", 40)]), encoding="utf-8")


def add_day(root: Path) -> None:
    (root / "exports" / "d2.csv").write_text(csv_text([event("b", "2026-02-02T09:00:00Z", 15, member="bo")]),
                                             encoding="utf-8")


def digest_json(root: Path, *args: str) -> dict:
    r = cli(root, "digest", "--format", "json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_unchanged_data_gives_nothing_new(tmp_path):
    setup(tmp_path)
    assert cli(tmp_path, "publish").returncode == 0
    for fmt in ("text", "markdown"):
        r = cli(tmp_path, "digest", "--format", fmt)
        assert r.returncode == 0, r.stderr
        assert "Nothing new since release 0001-" in r.stdout
        assert len(r.stdout.splitlines()) == 2
    d = digest_json(tmp_path)
    assert d["nothing_new"] is True and d["new_alerts"] == [] and d["thresholds_crossed"] == []


def test_a_day_that_crosses_a_threshold_names_exactly_the_new_alert(tmp_path):
    setup(tmp_path)
    assert cli(tmp_path, "publish").returncode == 0
    before = json.loads((tmp_path / "public" / "api" / "alerts.json").read_text(encoding="utf-8"))
    assert any(a["kind"] == "consumption-warning" for a in before)  # already there: not news tomorrow
    add_day(tmp_path)
    d = digest_json(tmp_path)
    assert d["nothing_new"] is False
    assert [(a["id"], a["level"], a["url"]) for a in d["new_alerts"]] == [(NEW_ALERT, "info", NEW_URL)]
    assert d["thresholds_crossed"] == [{"cycle": "2026-02", "level": "0.5", "date": "2026-02-02",
                                        "url": "https://intranet.example/r/months/2026-02/"}]
    assert d["since"]["kind"] == "release" and d["since"]["release"].startswith("0001-")
    assert d["decision"]["changed"] is False
    # 55 used of 100, as the month document says
    assert (d["this_cycle"]["used"], d["this_cycle"]["allocation"]) == (55, 100)
    page = (tmp_path / "public" / "months" / "2026-02" / "index.html").read_text(encoding="utf-8")
    assert f'id="alert-{NEW_ALERT}"' in page  # the link lands on the alert

    text = cli(tmp_path, "digest").stdout
    assert "New alerts (1)" in text and NEW_URL in text and "Nothing new" not in text
    assert text == cli(tmp_path, "digest", "--format", "text").stdout  # deterministic, text by default
    md = cli(tmp_path, "digest", "--format", "markdown").stdout
    title = next(a["title"] for a in d["new_alerts"])
    assert f"- [Info: {title}]({NEW_URL})" in md
    assert len(md.splitlines()) < 30

    # Published: the live release now shows it, so nothing is new against it; against release 1 it still is.
    assert cli(tmp_path, "publish").returncode == 0
    assert digest_json(tmp_path)["nothing_new"] is True
    assert [a["id"] for a in digest_json(tmp_path, "--since", "1")["new_alerts"]] == [NEW_ALERT]
    # By date: what was raised on or after 2026-02-02 (the projected warning is re-raised each day).
    assert NEW_ALERT in [a["id"] for a in digest_json(tmp_path, "--since", "2026-02-02")["new_alerts"]]
    assert digest_json(tmp_path, "--since", "2026-02-03")["new_alerts"] == []


def test_unknown_release_and_no_target(tmp_path):
    setup(tmp_path)
    assert cli(tmp_path, "publish").returncode == 0
    r = cli(tmp_path, "digest", "--since", "7")
    assert r.returncode == 2
    assert "--since '7': no such release" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "site.toml").write_text(TOML.replace('[publish]\ntarget = "target"\n', ""), encoding="utf-8")
    d = digest_json(tmp_path)  # nothing published: the current cycle's alerts and crossings
    assert d["since"]["kind"] == "none" and d["nothing_new"] is False
    assert {a["cycle"] for a in d["new_alerts"]} == {"2026-02"}


def test_the_live_release_is_read_over_ssh(tmp_path, sshd):  # noqa: F811
    port, ssh = sshd
    setup(tmp_path)
    remote = tmp_path / "remote"
    toml = (tmp_path / "site.toml").read_text(encoding="utf-8")
    (tmp_path / "site.toml").write_text(toml.replace('target = "target"',
                                                     f'target = "ssh://{getpass.getuser()}@127.0.0.1:{port}{remote}"'),
                                        encoding="utf-8")
    env = {"CREDITWISE_SSH": ssh}
    assert cli(tmp_path, "publish", env=env).returncode == 0
    add_day(tmp_path)
    r = cli(tmp_path, "digest", "--format", "json", env=env)
    assert r.returncode == 0, r.stderr
    assert [a["id"] for a in json.loads(r.stdout)["new_alerts"]] == [NEW_ALERT]


def test_a_changed_decision_is_news_and_says_what_it_was():
    from generator.digest.baseline import Baseline
    from generator.digest.changes import digest
    from generator.digest.render import render

    site = {"title": "T", "base_url": "https://x.example/r/", "as_of": "2026-02-02T09:00:00+00:00",
            "current_cycle": "2026-02"}
    month = {"cycle": "2026-02", "used": 55, "allocation": 100, "remaining": 45, "utilization": 0.55,
             "thresholds": {"0.5": "2026-02-02"}}
    plan = {"current_tier": "S", "signal": "hold", "recommended_tier": "S",
            "decision": {"action": "stay", "tier": "S", "switch_by": None}}
    now = {"api/site.json": site, "api/months/2026-02.json": month, "api/alerts.json": [],
           "api/plan.json": plan | {"decision": {"action": "switch-by", "tier": "M", "switch_by": "2026-05"}}}
    before = Baseline("release", release="0001-x", docs={"api/site.json": site, "api/months/2026-02.json": month,
                                                         "api/alerts.json": [], "api/plan.json": plan})
    d = digest(now, before)
    assert d["nothing_new"] is False and d["decision"]["changed"] is True
    assert "- Changed: switch to M by 2026-05 (was: stay on S)" in render(d, "text")
    assert digest({**now, "api/plan.json": plan}, before)["nothing_new"] is True  # same decision, same crossings
