"""Inputs that are valid but probably not what was meant: warned about (and fatal under --strict)."""

from __future__ import annotations

from generator.config import SiteConfig
from generator.model.cycle_report import CycleFigures

EMPTY_CYCLES_WARNED = 3  # trailing cycles without a single event before as_of is worth a word


def surprises(config: SiteConfig, cycles: list[CycleFigures]) -> list[str]:
    """Warnings for an as_of far past the data and for top-ups that fall in no reported cycle."""
    warnings = []
    name = config.path.name
    with_events = [c for c in cycles if c.events]
    if config.site.as_of is not None and with_events:
        empty = len(cycles) - 1 - cycles.index(with_events[-1])
        if empty >= EMPTY_CYCLES_WARNED:
            warnings.append(f"{name}: site.as_of: {config.site.as_of} lies {empty} cycles after the last cycle with "
                            f"events ({with_events[-1].name}); the site reports {empty} empty cycles up to it")
    first, last = cycles[0].cycle, cycles[-1].cycle
    for i, topup in enumerate(config.topups):
        if not first.start_date <= topup.date < last.end_date:
            warnings.append(f"{name}: topups[{i}]: the top-up of {topup.date} falls in no reported cycle "
                            f"({first.name} to {last.name}), so its {topup.credits} credits count nowhere")
    return warnings
