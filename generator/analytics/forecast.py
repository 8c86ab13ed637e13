"""How the current cycle will end: SPEC §3's projected used, with an 80 % interval and the chance of running out.

Method (also printed on the month page, `Forecast.method`):
- The point forecast is SPEC §3's `projected_used` = used + burn rate × days left; call the second
  term the projected *rest*.
- Each previous complete cycle that did not run out (the last 12) is replayed at the same point:
  the same share of the cycle elapsed, the same burn window. Its error is ln(actual rest ÷ projected
  rest). These errors carry the cycles' day-by-day shape (quiet weekends, month-end rushes, a slow
  first week), so they say how far the projection usually misses at this point of a cycle.
- The spread s is the root-mean-square of those errors, blended with `forecast_fallback_spread` as if
  that were two more past cycles: while there is little history, the fallback dominates.
- 80 % interval of the rest: projected rest × e^(±1.2816 s); the bounds add the credits used so far.
- Chance of running out before the reset: P(used + rest ≥ allocation) with ln(rest) normal around
  ln(projected rest) with spread s; 1 when the cycle already ran out, 0 when nothing is being spent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from generator.config import SiteConfig
from generator.model.cycle_report import CycleFigures
from generator.model.cycles import elapsed_days

INTERVAL = 0.8
Z = 1.2815515655446004  # standard normal quantile of 0.9: the two-sided 80 % interval
REFERENCE_CYCLES = 12
PRIOR_WEIGHT = 2  # the fallback spread counts as this many past cycles

METHOD = ("Point forecast: used + burn rate × days left. The interval comes from how far that same "
          "projection missed, at the same point of the cycle, in previous complete cycles that did not run out "
          "(the last 12): the spread is the root-mean-square of ln(actual rest ÷ projected rest), blended with "
          "a fallback spread counted as two extra cycles. 80 % interval: projected rest × e^(±1.2816 × spread). "
          "Chance of running out: the probability that the rest reaches the credits remaining, with the rest "
          "log-normal around the projection.")


@dataclass(frozen=True)
class ReferenceError:
    cycle: str
    projected_rest: float
    actual_rest: float

    @property
    def log_error(self) -> float:
        return math.log(self.actual_rest / self.projected_rest)


@dataclass(frozen=True)
class Forecast:
    interval: float
    projected_used: float
    low: float
    high: float
    chance_of_running_out: float
    spread: float
    fallback_spread: float
    references: list[ReferenceError]
    method: str = METHOD


def cumulative_at(c: CycleFigures, x: float) -> float:
    """Credits used in the first x days of a cycle, spreading each day's credits evenly over the day."""
    x = min(max(x, 0.0), c.cycle.days)
    whole = int(x)
    total = sum(float(v) for _, v in c.daily[:whole])
    if whole < c.cycle.days:
        total += float(c.daily[whole][1]) * (x - whole)
    return total


def replay_error(c: CycleFigures, share: float, window_days: int) -> ReferenceError | None:
    """The SPEC projection made at `share` of cycle c, against what c really used afterwards."""
    x = share * c.cycle.days
    lo = max(0.0, x - window_days)
    if x <= lo:
        return None
    burn = (cumulative_at(c, x) - cumulative_at(c, lo)) / (x - lo)
    projected = burn * (c.cycle.days - x)
    actual = float(c.used) - cumulative_at(c, x)
    if projected <= 0 or actual <= 0:
        return None
    return ReferenceError(c.name, projected, actual)


def normal_cdf(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def forecast(config: SiteConfig, cycles: list[CycleFigures]) -> Forecast | None:
    current = next((c for c in cycles if c.current), None)
    if current is None or current.pace is None:
        return None
    pace = current.pace
    elapsed = elapsed_days(current.cycle.start, current.cycle.end) - pace.days_left
    share = elapsed / elapsed_days(current.cycle.start, current.cycle.end)
    past = [c for c in cycles if c.complete and c.exhausted_on is None and c.cycle < current.cycle][-REFERENCE_CYCLES:]
    refs = [e for c in past if (e := replay_error(c, share, config.thresholds.burn_window_days)) is not None]
    fallback = config.recommendations.forecast_fallback_spread
    spread = math.sqrt((sum(r.log_error ** 2 for r in refs) + PRIOR_WEIGHT * fallback ** 2) / (len(refs) + PRIOR_WEIGHT))
    used = float(current.used)
    rest = pace.burn_rate * pace.days_left
    ends = (used + rest * math.exp(-Z * spread), used + rest * math.exp(Z * spread))
    low, high = min(ends), max(ends)  # a negative rest (refunds outpacing use) flips them
    left = float(current.allocation) - used
    if left <= 0:
        chance = 1.0
    elif rest <= 0:
        chance = 0.0
    else:
        chance = 1 - normal_cdf(math.log(left / rest) / spread)
    return Forecast(INTERVAL, pace.projected_used, low, high, chance, spread, fallback, refs)
