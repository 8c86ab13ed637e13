"""The daily refresh: a site built day by day from its cache is byte for byte the site a cold build writes.

The events are made to stress what a reused result could get wrong: image and document sessions
and chat conversations that cross a cycle boundary, short chats restarted by the same member
within the restart window, and a late export that adds events to an old cycle (an event before a
session's first one, a conversation that turns an old short one into a restart, events after a
cycle had been reported complete).
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

from conftest import BASIC_TOML, Site, csv_text, event, tree_bytes

START = dt.date(2026, 1, 1)
DAYS = 75  # 2026-01-01 … 2026-03-16: two complete cycles and the current one
MEMBERS = [("ana@example.com", "design"), ("bo@example.com", "design"), ("cy@example.com", "rnd"),
           ("di@example.com", "rnd"), ("ed@example.com", "")]  # ed: no team in the exports → Unassigned


def _day_events(day: dt.date, rng: random.Random) -> list[dict]:
    out = []
    for i in range(rng.randint(3, 9)):
        member, team = rng.choice(MEMBERS)
        hour, minute = rng.randint(7, 23), rng.randint(0, 59)
        ts = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)
        eid = f"{day:%m%d}-{i}"
        kind = rng.random()
        if kind < 0.4:  # an image session: generate, maybe regenerate, upscale, then change it again
            sid = f"img-{day:%m%d}-{i}"
            steps = [("generate", 4), ("upscale", 2), ("generate", 4), ("edit", 1), ("upscale", 2)][:rng.randint(1, 5)]
            for k, (op, credits) in enumerate(steps):
                t = ts + dt.timedelta(minutes=50 * k)  # late sessions run past midnight (and past a cycle end)
                out.append(event(f"{eid}-{k}", t.isoformat(), credits, "image", op, member, team, session_id=sid,
                                 model=rng.choice(["lumen-fast", "lumen-xl"]), quantity=str(rng.choice([1, 1, 4]))))
        elif kind < 0.65:  # a document: enhance before the final create
            sid = f"doc-{day:%m%d}-{i}"
            for k, op in enumerate(["enhance", "create", "enhance", "create"][:rng.randint(1, 4)]):
                t = ts + dt.timedelta(minutes=70 * k)
                out.append(event(f"{eid}-{k}", t.isoformat(), "1.5", "compose", op, member, team, session_id=sid,
                                 knowledge=rng.choice(["true", "false"])))
        else:  # a short chat, sometimes restarted soon after
            for c in range(rng.randint(1, 2)):
                sid = f"chat-{day:%m%d}-{i}-{c}"
                for k in range(rng.randint(1, 3)):
                    t = ts + dt.timedelta(minutes=10 * c + 2 * k)
                    out.append(event(f"{eid}-{c}-{k}", t.isoformat(), "0.5", "chat", "response", member, team,
                                     session_id=sid, model="sage"))
    return out


def _late_export() -> list[dict]:
    """Arrives after the March builds, all of it in January (a complete cycle)."""
    return [
        # Before the first event of a January session: the session's first day, team and regenerations move.
        event("late-1", "2026-01-09T06:00:00+00:00", 4, "image", "generate", "cy@example.com", "rnd",
              session_id="img-0109-0", model="lumen-xl", quantity="1"),
        # A conversation 10 minutes after ana's short one at 23:45 (Berlin) on the 31st: that one is now a
        # restart, and this one crosses into February's first day.
        event("late-2", "2026-01-31T22:55:00+00:00", "0.5", "chat", "response", "ana@example.com", "design",
              session_id="late-chat", model="sage"),
        event("late-3", "2026-01-31T23:03:00+00:00", "0.5", "chat", "response", "ana@example.com", "design",
              session_id="late-chat", model="sage"),
        # A refund and a brand-new feature name in the old cycle.
        event("late-4", "2026-01-20T12:00:00+00:00", -2, "image", "refund", "bo@example.com", "design"),
        event("late-5", "2026-01-21T12:00:00+00:00", 3, "video", "render", "di@example.com", "rnd"),
    ]


def _site(root: Path) -> Site:
    root.mkdir(parents=True)
    s = Site(root)
    s.config.write_text(BASIC_TOML.replace('timezone = "UTC"', 'timezone = "Europe/Berlin"')
                        + '\n[[subscription]]\nfrom = 2026-02-01\ntier = "M"\n', encoding="utf-8")
    return s


def _exports() -> dict[str, str]:
    rng = random.Random(14)
    files = {}
    for n in range(DAYS):
        day = START + dt.timedelta(days=n)
        rows = _day_events(day, rng)
        if day == dt.date(2026, 1, 31):  # a short chat at 23:45 in Berlin that the late export restarts
            rows.append(event("jan31-chat", "2026-01-31T22:45:00+00:00", "0.5", "chat", "response",
                              "ana@example.com", "design", session_id="jan31-chat", model="sage"))
        files[f"day-{day}.csv"] = csv_text(rows)
    return files


def _cold(tmp_path: Path, name: str, files: dict[str, str]) -> dict[str, bytes]:
    cold = _site(tmp_path / name)
    for file, text in files.items():
        cold.write_export(file, text)
    run = cold.build()
    assert run.returncode == 0, run.stderr
    return tree_bytes(cold.out)


def _differences(a: dict[str, bytes], b: dict[str, bytes]) -> list[str]:
    return sorted(p for p in a.keys() | b.keys() if a.get(p) != b.get(p))


def test_day_by_day_and_a_late_export_give_the_cold_build_byte_for_byte(tmp_path):
    files = _exports()
    names = sorted(files)
    warm = _site(tmp_path / "warm")
    for name in names[:-4]:
        warm.write_export(name, files[name])
    assert warm.build().returncode == 0
    for name in names[-4:]:  # one day's export at a time, each build reusing the cache of the one before
        warm.write_export(name, files[name])
        run = warm.build()
        assert run.returncode == 0, run.stderr
        assert "up to date" not in run.stdout
    assert _differences(tree_bytes(warm.out), _cold(tmp_path, "cold-days", files)) == []

    late = csv_text(_late_export())
    warm.write_export("late-january.csv", late)
    assert warm.build().returncode == 0
    expected = _cold(tmp_path, "cold-late", {**files, "late-january.csv": late})
    assert _differences(tree_bytes(warm.out), expected) == []
    # The late export really changed the old cycle (a test that cannot fail proves nothing):
    # January's used grew by 4 + 0.5 − 2 + 3 = 5.5 (late-3, 00:03 in Berlin, falls on 1 February).
    january = warm.json("api/months/2026-01.json")
    shutil.rmtree(warm.out)
    before = _cold(tmp_path, "cold-before", files)
    import json

    assert january["used"] == json.loads(before["api/months/2026-01.json"])["used"] + 5.5
