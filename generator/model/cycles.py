"""Billing cycles in the site timezone (SPEC §3 "cycle").

A cycle runs from local midnight on `cycle_start_day` to the same point of the next month and
is named by its start month. Boundaries are local midnights, so an event's cycle follows from
its local calendar date alone; elapsed time is always measured in UTC so DST days count as
the 23 or 25 hours they really are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from zoneinfo import ZoneInfo

UTC = dt.UTC


@dataclass(frozen=True, order=True)
class Cycle:
    start_date: dt.date  # first local day
    end_date: dt.date  # first local day of the next cycle (exclusive)
    tz: ZoneInfo

    @cached_property  # asked for once per row when the pages filter by cycle
    def name(self) -> str:
        return f"{self.start_date:%Y-%m}"

    @property
    def start(self) -> dt.datetime:
        return local_midnight(self.start_date, self.tz)

    @property
    def end(self) -> dt.datetime:
        return local_midnight(self.end_date, self.tz)

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days

    def dates(self) -> list[dt.date]:
        return [self.start_date + dt.timedelta(days=i) for i in range(self.days)]

    def holds(self, day: dt.date) -> bool:
        return self.start_date <= day < self.end_date


def local_midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=tz)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)  # day ≤ 28, always valid


def cycle_of(day: dt.date, start_day: int, tz: ZoneInfo) -> Cycle:
    """The cycle holding local date `day`."""
    start = day.replace(day=start_day)
    if day.day < start_day:
        start = add_months(start, -1)
    return Cycle(start, add_months(start, 1), tz)


def cycles_between(first: dt.date, last: dt.date, start_day: int, tz: ZoneInfo) -> list[Cycle]:
    """Every cycle from the one holding `first` through the one holding `last`, empty ones included."""
    cycle = cycle_of(first, start_day, tz)
    out = [cycle]
    while not cycle.holds(last) and cycle.end_date <= last:
        cycle = Cycle(cycle.end_date, add_months(cycle.end_date, 1), tz)
        out.append(cycle)
    return out


def elapsed_days(start: dt.datetime, end: dt.datetime) -> float:
    """Fractional days of real elapsed time between two aware instants."""
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 86400


def local_date(instant: dt.datetime, tz: ZoneInfo) -> dt.date:
    return instant.astimezone(tz).date()
