"""The daily refresh: a site built day by day from its cache is byte for byte the site a cold build writes.

The events are made to stress what a reused result could get wrong: image and document sessions
and chat conversations that cross a cycle boundary, short chats restarted by the same member
within the restart window, and a late export that adds events to an old cycle (an event before a
session's first one, a conversation that turns an old short one into a restart, events after a
cycle had been reported complete).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

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
    assert january["used"] == json.loads(before["api/months/2026-01.json"])["used"] + 5.5


# --- the invariant, on random data: refreshed keyed tables are the cold ones ------------------

OPS = [("image", "generate"), ("image", "edit"), ("image", "upscale"), ("compose", "create"),
       ("compose", "enhance"), ("chat", "response")]
DAYS_OF = st.sampled_from([0, 1, 30, 31, 58, 59])  # a few days, on both sides of two cycle ends
raw_events = st.lists(
    # day, minute within the day's first hour (ties are common), member, operation, session, credits,
    # quantity, export
    st.tuples(DAYS_OF, st.integers(0, 60), st.integers(0, 3), st.integers(0, len(OPS) - 1),
              st.integers(0, 12), st.integers(1, 8), st.integers(1, 3), st.integers(0, 3)),
    min_size=1, max_size=40)
raw_chats = st.lists(  # conversations: day, start minute, member, responses (1–3), export (a few split over two)
    st.tuples(DAYS_OF, st.integers(0, 60), st.integers(0, 1), st.integers(1, 3), st.integers(0, 3), st.booleans()),
    min_size=2, max_size=25)


def _details(root: Path):
    from generator.config import load_config
    from generator.ingest.load import ingest
    from generator.report.model import build_report

    config = load_config(root / "site.toml")
    ingested = ingest(config)
    try:
        report = build_report(config, ingested, set())
        mode = ingested.writers[0].mode
        ingested.persist()
    finally:
        ingested.close()
    d = report.analytics.details
    return mode, (d.ops, d.members, d.sessions, d.batches, d.chats, [(c.name, c.used) for c in report.cycles])


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw_events, raw_chats, st.permutations(range(4)))
# A short chat, then (in the next export) the same member's next one 10 minutes later: the first becomes a restart.
@example([(0, 50, 1, 0, 3, 1, 1, 2)], [(0, 0, 0, 1, 0, False), (0, 10, 0, 1, 1, False)], [0, 1, 2, 3])
# A short chat of two responses, its second one in a later export; the same member's next chat, 10 minutes
# later, came with the first: that untouched next chat still makes the touched one a restart.
@example([(0, 50, 1, 0, 3, 1, 1, 2)], [(0, 0, 0, 2, 0, True), (0, 10, 0, 1, 0, False)], [0, 1, 2, 3])
def test_refreshed_model_state_equals_a_cold_one(raw, chats, order):
    """Exports added one at a time (in any order, so old cycles, sessions and conversations get late
    events) give exactly the keyed tables of a cold build. Minutes collide often: ties in a session's
    first event and in conversation order are exercised, and short chats restarted within 30 minutes."""
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    files: dict[int, list[dict]] = {i: [] for i in range(4)}
    for i, (day, minute, member, op, session, credits, qty, file) in enumerate(raw):
        feature, operation = OPS[op]
        ts = (start + dt.timedelta(days=day, minutes=minute)).isoformat()
        sid = f"{feature}-{session}" if session < 2 else f"{feature}-{day}-{session}"  # a few span many days
        files[file].append(event(f"e{i}", ts, credits, feature, operation, f"m{member}@x", f"t{member % 2}",
                                 session_id=sid, quantity=str(qty), model=f"k{qty % 2}"))
    for i, (day, minute, member, responses, file, split) in enumerate(chats):
        for k in range(responses):
            ts = (start + dt.timedelta(days=day, minutes=minute + 2 * k)).isoformat()
            where = (file + k) % 4 if split else file
            files[where].append(event(f"c{i}-{k}", ts, "0.5", "chat", "response", f"m{member}@x", "t0",
                                     session_id=f"conv-{i}", model="sage"))
    with tempfile.TemporaryDirectory() as tmp:
        warm, cold = Path(tmp) / "warm", Path(tmp) / "cold"
        for root in (warm, cold):
            (root / "exports").mkdir(parents=True)
            (root / "site.toml").write_text(BASIC_TOML)
        added = 0
        for k in order:
            if not files[k]:
                continue
            (warm / "exports" / f"f{k}.csv").write_text(csv_text(files[k]))
            (cold / "exports" / f"f{k}.csv").write_text(csv_text(files[k]))
            mode, got = _details(warm)
            assert mode == ("cold" if added == 0 else "refreshed")
            shutil.rmtree(cold / ".creditwise", ignore_errors=True)
            assert _details(cold) == ("cold", got)
            added += 1


def test_a_rebuilt_event_cache_still_refreshes_the_model_state(tmp_path):
    """Without events.duckdb the ingest reads every export again (numbering them), yet the model state
    of the exports it already knew is refreshed for the new one, as exactly as from the cache."""
    warm, cold = tmp_path / "warm", tmp_path / "cold"
    a = [event("a1", "2026-01-01T00:00:00+00:00", 1, "chat", "response", "m0@x", "t0", session_id="X"),
         event("a2", "2026-01-02T00:00:00+00:00", 3, session_id="img")]
    b = [event("b1", "2026-01-01T00:10:00+00:00", 1, "chat", "response", "m0@x", "t0", session_id="Y"),
         event("b2", "2026-01-03T00:00:00+00:00", 4, session_id="img")]
    for root in (warm, cold):
        (root / "exports").mkdir(parents=True)
        (root / "site.toml").write_text(BASIC_TOML)
        (root / "exports" / "a.csv").write_text(csv_text(a))
    assert _details(warm)[0] == "cold"
    (warm / ".creditwise" / "cache" / "events.duckdb").unlink()
    for root in (warm, cold):
        (root / "exports" / "b.csv").write_text(csv_text(b))
    mode, got = _details(warm)
    assert mode == "refreshed"
    assert _details(cold) == ("cold", got)
    # X (1 response) is followed 10 minutes later by the same member's Y: a restart, 1 credit.
    assert [(c.conversations, c.restarted, c.restarted_credits) for c in got[4]] == [(2, 1, 1)]


def test_a_new_export_with_a_quarantined_row_still_refreshes_exactly(tmp_path):
    """A bad row makes the ingest read every export again (to name its line); the model state is
    still refreshed from the new export's good rows only, and the quarantined row counts nowhere."""
    toml = BASIC_TOML.replace('exports = ["exports/*.csv"]', 'exports = ["exports/*.csv"]\non_error = "quarantine"')
    warm, cold = tmp_path / "warm", tmp_path / "cold"
    a = [event("a1", "2026-01-05T09:00:00+00:00", 2, "compose", "enhance", session_id="doc"),
         event("a2", "2026-01-05T10:00:00+00:00", 5, "compose", "create", session_id="doc")]
    b = [event("b1", "2026-01-05T08:00:00+00:00", 2, "compose", "enhance", session_id="doc"),
         event("b2", "2026-01-06T08:00:00+00:00", "lots", "compose", "enhance", session_id="doc")]
    for root in (warm, cold):
        (root / "exports").mkdir(parents=True)
        (root / "site.toml").write_text(toml)
        (root / "exports" / "a.csv").write_text(csv_text(a))
    assert _details(warm)[0] == "cold"
    for root in (warm, cold):
        (root / "exports" / "b.csv").write_text(csv_text(b))
    mode, got = _details(warm)
    assert mode == "refreshed"
    assert _details(cold) == ("cold", got)
    # Both enhancements (2 + 2 credits) came before the document's final create at 10:00; b2 is left out.
    (session,) = got[2]
    assert (session.enhances, session.enhances_before_final, session.enhances_before_final_credits) == (2, 2, 4)
