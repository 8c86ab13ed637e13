"""Cycle boundaries and elapsed time in a DST timezone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from generator.model.cycles import cycle_of, cycles_between, elapsed_days

BERLIN = ZoneInfo("Europe/Berlin")


def test_cycle_of_uses_the_start_day():
    c = cycle_of(dt.date(2026, 3, 14), 15, BERLIN)
    assert (c.name, c.start_date, c.end_date, c.days) == ("2026-02", dt.date(2026, 2, 15), dt.date(2026, 3, 15), 28)
    c = cycle_of(dt.date(2026, 12, 20), 15, BERLIN)
    assert (c.name, c.end_date) == ("2026-12", dt.date(2027, 1, 15))


def test_boundaries_are_local_midnights_across_dst():
    c = cycle_of(dt.date(2026, 3, 20), 15, BERLIN)
    assert c.start.isoformat() == "2026-03-15T00:00:00+01:00"
    assert c.end.isoformat() == "2026-04-15T00:00:00+02:00"
    # 31 calendar days, but the clocks went forward on 29 March: 31 days less one hour elapsed.
    assert elapsed_days(c.start, c.end) == 31 - 1 / 24


def test_cycles_between_includes_empty_cycles():
    names = [c.name for c in cycles_between(dt.date(2026, 1, 20), dt.date(2026, 4, 2), 1, BERLIN)]
    assert names == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert [c.name for c in cycles_between(dt.date(2026, 1, 20), dt.date(2026, 1, 20), 1, BERLIN)] == ["2026-01"]
