"""Deterministic demo usage exports (behind ``creditwise demo-data``).

The data tells a story against the demo ``site.toml``: Northwind Studio is on the
Team tier (5,000 credits) from October 2025, quiet over the December holidays,
grows steadily, runs out on 2026-08-27 (a campaign month, with a spike on
2026-08-12), upgrades to Business (7,500) on 2026-09-01, buys a 1,000-credit
top-up on 2026-10-27 and is on pace to exceed its allocation in the current
November cycle, whose data ends on 2026-11-20 mid-afternoon. The default 14
cycles give 13 complete ones: enough for the seasonal index and for comparing
November with the November a year earlier.

Only the standard library is used and nothing depends on today's date: every
month draws from its own ``random.Random`` seeded with (seed, month), so the same
arguments always give byte-identical files.
"""

from __future__ import annotations

import csv
import pathlib
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from generator.ingest.exports import COLUMNS

TZ = ZoneInfo("Europe/Berlin")  # must match [site].timezone of the demo site.toml
LAST_MONTH = (2026, 11)
CUTOFF = datetime(2026, 11, 20, 15, 40, tzinfo=TZ)  # the export was pulled then
SPIKE_DAY = date(2026, 8, 12)  # campaign render day: shows up as a spike alert
HEADER = list(COLUMNS)  # the native export schema, in its usual column order

# (member, team, activity weight). olga is a freelancer whose rows never carry a
# team and noor's rows sometimes lack one; both are mapped in [teams] of site.toml.
MEMBERS = [
    ("ana@example.com", "design", 9),
    ("ben@example.com", "design", 7),
    ("chloe@example.com", "design", 6),
    ("dario@example.com", "design", 4),
    ("emma@example.com", "marketing", 8),
    ("farid@example.com", "marketing", 5),
    ("greta@example.com", "marketing", 4),
    ("hana@example.com", "product", 7),
    ("ivan@example.com", "product", 5),
    ("julia@example.com", "product", 4),
    ("kofi@example.com", "product", 3),
    ("lena@example.com", "support", 7),
    ("mats@example.com", "support", 5),
    ("noor@example.com", "support", 4),
    ("olga@freelance.example", "", 3),
]
UNMAPPED_SHARE = {"noor@example.com": 0.3}  # share of sessions exported without a team
# Feature mix per team (image, compose, chat); olga works for design.
MIX = {"design": (75, 8, 17), "marketing": (45, 35, 20), "product": (10, 35, 55), "support": (3, 15, 82), "": (80, 10, 10)}

# Costs in credits. Image generate is per image (× quantity); edit and upscale are
# flat per SPEC §1; knowledge base integration adds KNOWLEDGE_EXTRA per event.
IMAGE_MODELS = {"aether-image-fast": 2, "aether-image-pro": 6, "aether-image-ultra": 12}
CHAT_MODELS = {"aether-chat-lite": 1, "aether-chat-max": 5}
COMPOSE_MODELS = {"aether-write": (3, 1.5), "aether-write-pro": (8, 4)}  # (create, enhance)
KNOWLEDGE_EXTRA = 2

# Mean events per weekday, by cycles back from November 2026: steady growth with
# an August campaign bump (that cycle runs out). Older cycles keep shrinking.
LEVELS = {0: 92, 1: 88, 2: 70, 3: 57, 4: 45, 5: 42, 6: 40}
# Seasonal factors on the older cycles (calendar month → factor): the studio slows
# down over the December holidays and picks up in January.
SEASON = {12: 0.7, 1: 0.9}
DEFAULT_MONTHS = 14
MAX_MONTHS = 24  # the demo tier history starts in December 2024


def allocation(day: date) -> float:
    """Credits available on ``day``; mirrors [[subscription]]/[[topups]] of site.toml."""
    base = 5000 if day < date(2026, 9, 1) else 7500
    return base + (1000 if date(2026, 10, 27) <= day < date(2026, 11, 1) else 0)


def fmt_credits(value: float) -> str:
    """Plain decimal, no exponent: 4 -> '4', 1.5 -> '1.5', -12 -> '-12'."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def image_session(rng: random.Random, team: str) -> list[tuple]:
    # Designers reach for the expensive models more often than everyone else.
    weights = (40, 45, 15) if team in ("design", "") else (70, 25, 5)
    model = rng.choices(list(IMAGE_MODELS), weights)[0]
    events = []
    for _ in range(rng.choices((1, 2, 3, 4), (50, 30, 14, 6))[0]):
        qty = rng.choices((1, 2, 4), (55, 25, 20))[0]
        events.append(("image", "generate", model, IMAGE_MODELS[model] * qty, qty, False))
    for _ in range(rng.choices((0, 1, 2, 3, 4), (30, 30, 20, 12, 8))[0]):
        events.append(("image", "edit", model, 1, 1, False))
    if rng.random() < 0.35:  # final images get upscaled
        events.append(("image", "upscale", model, 2, 1, False))
    return events


def compose_session(rng: random.Random, team: str) -> list[tuple]:
    model = rng.choices(list(COMPOSE_MODELS), (65, 35))[0]
    knowledge = rng.random() < (0.35 if team == "product" else 0.2)
    extra = KNOWLEDGE_EXTRA if knowledge else 0
    create, enhance = COMPOSE_MODELS[model]
    events = [("compose", "create", model, create + extra, 1, knowledge)]
    for _ in range(rng.choices((0, 1, 2, 3, 4), (20, 30, 25, 15, 10))[0]):
        events.append(("compose", "enhance", model, enhance + extra, 1, knowledge))
    return events


def chat_session(rng: random.Random, team: str) -> list[tuple]:
    model = rng.choices(list(CHAT_MODELS), (70, 30))[0]
    knowledge = rng.random() < (0.55 if team == "support" else 0.12)
    cost = CHAT_MODELS[model] + (KNOWLEDGE_EXTRA if knowledge else 0)
    turns = rng.choices(range(1, 11), (20, 18, 15, 12, 10, 8, 6, 5, 3, 3))[0]
    return [("chat", "response", model, cost, 1, knowledge)] * turns


SESSIONS = {"image": ("img", image_session), "compose": ("doc", compose_session), "chat": ("chat", chat_session)}
HOURS = list(range(8, 19))
HOUR_WEIGHTS = (2, 6, 9, 9, 5, 6, 9, 9, 8, 5, 2)  # working hours, lunch dip


def day_events(rng: random.Random, day: date, level: float) -> list[dict]:
    """Sessions of one day until the day's event count is reached."""
    factor = (1.0, 1.0, 1.0, 1.0, 0.95, 0.12, 0.06)[day.weekday()]  # quiet weekends
    target = round(level * factor * rng.uniform(0.8, 1.2))
    if day == SPIKE_DAY:
        target = round(target * 3.5)
    events: list[dict] = []
    while len(events) < target:
        member, team, _ = rng.choices(MEMBERS, [m[2] for m in MEMBERS])[0]
        feature = rng.choices(list(SESSIONS), MIX[team])[0]
        prefix, make = SESSIONS[feature]
        session = f"{prefix}-{day:%Y%m%d}-{len(events):03d}"
        row_team = "" if rng.random() < UNMAPPED_SHARE.get(member, 0) else team
        start = datetime.combine(day, time(rng.choices(HOURS, HOUR_WEIGHTS)[0], rng.randrange(60), rng.randrange(60)), TZ)
        for feat, op, model, credits, qty, knowledge in make(rng, team):
            events.append(
                {
                    "at": start,
                    "member": member,
                    "team": row_team,
                    "feature": feat,
                    "operation": op,
                    "model": model,
                    "credits": credits,
                    "quantity": qty,
                    "session": session,
                    "knowledge": knowledge,
                }
            )
            start += timedelta(seconds=rng.randint(20, 300))  # think time between requests
    return events


def add_refund(rng: random.Random, events: list[dict]) -> None:
    """One failed batch per month is refunded (negative credits, same session)."""
    batches = [e for e in events if e["operation"] == "generate" and e["quantity"] > 1 and e["at"].day < 20]
    if batches:
        failed = rng.choice(batches)
        events.append(
            {
                **failed,
                "operation": "refund",
                "credits": -failed["credits"],
                "quantity": 1,
                "at": failed["at"] + timedelta(minutes=2),
            }
        )


def month_events(seed: int, year: int, month: int, level: float) -> list[dict]:
    # A string seed is hashed with SHA-512, so it is stable across runs and
    # independent of PYTHONHASHSEED; each month is independent of `months`.
    rng = random.Random(f"creditwise-demo:{seed}:{year:04d}-{month:02d}")
    day = date(year, month, 1)
    events: list[dict] = []
    while day.month == month and datetime.combine(day, time(), TZ) < CUTOFF:
        events.extend(day_events(rng, day, level))
        day += timedelta(days=1)
    add_refund(rng, events)
    events = sorted((e for e in events if e["at"] < CUTOFF), key=lambda e: e["at"])
    for e in events:  # a few rows written with Z or with no offset at all
        r = rng.random()
        e["style"] = "z" if r < 0.0015 else "naive" if r < 0.003 else "offset"
    # The platform refuses requests once the cycle's credits are used up: keep the
    # request that crossed the line, drop everything after it.
    used = 0.0
    for i, e in enumerate(events):
        used += e["credits"]
        if used >= allocation(e["at"].date()):
            return events[: i + 1]
    return events


def fmt_timestamp(at: datetime, style: str) -> str:
    if style == "z":
        return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "naive":
        return at.replace(tzinfo=None).isoformat(timespec="seconds")
    return at.isoformat(timespec="seconds")


def cycle_months(months: int) -> list[tuple[int, int]]:
    """The `months` months ending with November 2026, oldest first."""
    year, month = LAST_MONTH
    result = []
    for _ in range(months):
        result.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return result[::-1]


def write_csv(path: pathlib.Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)


def write_demo_exports(out_dir: pathlib.Path, months: int = DEFAULT_MONTHS, seed: int = 7) -> list[pathlib.Path]:
    """Write deterministic demo exports into out_dir; return the paths written, sorted."""
    if months < 1:
        raise ValueError("months must be at least 1")
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    by_month: dict[tuple[int, int], list[dict]] = {}
    counter = 0
    for back, (year, month) in enumerate(reversed(cycle_months(months))):
        level = LEVELS.get(back, LEVELS[6] * 0.92 ** (back - 6) * SEASON.get(month, 1.0))
        by_month[(year, month)] = month_events(seed, year, month, level)
    rows_by_month: dict[tuple[int, int], list[list[str]]] = {}
    for key in sorted(by_month):  # ids are assigned in chronological order
        rows = []
        for e in by_month[key]:
            counter += 1
            rows.append(
                [
                    f"ev-{counter:06d}",
                    fmt_timestamp(e["at"], e["style"]),
                    e["member"],
                    e["team"],
                    e["feature"],
                    e["operation"],
                    e["model"],
                    fmt_credits(e["credits"]),
                    str(e["quantity"]),
                    e["session"],
                    "true" if e["knowledge"] else "false",
                ]
            )
        rows_by_month[key] = rows
    written = []
    for (year, month), rows in rows_by_month.items():
        path = out_dir / f"usage-{year:04d}-{month:02d}.csv"
        write_csv(path, rows)
        written.append(path)
    # A quarterly export overlapping the monthly ones: the reader must count each row once.
    quarter = [key for key in ((2026, 7), (2026, 8), (2026, 9)) if key in rows_by_month]
    if quarter:
        path = out_dir / "usage-2026-Q3.csv"
        write_csv(path, [row for key in quarter for row in rows_by_month[key]])
        written.append(path)
    return sorted(written)
