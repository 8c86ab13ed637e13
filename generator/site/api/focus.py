"""`api/focus.csv`, written: each cycle's part from the usage lines in DuckDB, cached, then assembled.

What the columns hold and why is in focus_columns.py. A cycle's part is its purchase rows, its usage
lines (one DuckDB COPY, cached under `.creditwise/cache/focus/` and keyed by a digest of the cycle's
lines and everything else the part shows) and its unused-credits row. Complete cycles whose lines did not
change keep their part; a cycle whose later days changed keeps its earlier part's lines up to the first
changed day (focus_reuse.py). The site file is assembled from the parts and never held in memory.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import duckdb

from generator.analytics.slugs import slugify
from generator.fileio import send_file, write_atomic
from generator.ingest.sql import quote_sql
from generator.model.cycle_report import CycleFigures
from generator.model.cycles import local_midnight
from generator.model.usage_lines import ORDER, TABLE, UsageDay
from generator.report.model import Report
from generator.resources import code_hash
from generator.site.api.focus_columns import (
    CREDITS,
    HEADER,
    PROVIDER,
    SERVICE_CATEGORY,
    SERVICE_SUBCATEGORY,
    Spread,
    account_id,
    csv_field,
    csv_rows,
    currency_of,
    plain,
    rounded_price,
    utc_text,
)
from generator.site.api.focus_reuse import EarlierPart, KeptLines, day_record, earlier_parts, kept_lines

SITE_PATH = "api/focus.csv"  # where the site holds the export


def _money_sql(micro: str) -> str:
    """A HUGEINT count of millionths as a plain decimal (what plain writes for a cost)."""
    a = f"abs({micro})"
    return (f"concat(CASE WHEN {micro} < 0 THEN '-' ELSE '' END, ({a} // 1000000)::VARCHAR, CASE WHEN {a} % 1000000 = 0 "
            f"THEN '' ELSE '.' || rtrim(lpad(({a} % 1000000)::VARCHAR, 6, '0'), '0') END)")


# Usage-row columns that vary by line, as SQL over the line `l` and the lookups d (day), i (item), t (team),
# g (tags); every other column is a constant of the cycle.
VARIABLE = {
    "ChargeClass": "CASE WHEN l.credits < 0 THEN 'Correction' ELSE '' END",
    "ChargeDescription": "i.descr", "ChargePeriodEnd": "d.stop", "ChargePeriodStart": "d.start",
    "CommitmentDiscountQuantity": "l.cr", "ConsumedQuantity": "l.quantity::VARCHAR",
    "ContractedCost": "l.cost", "EffectiveCost": "l.cost", "ListCost": "l.cost",
    "PricingCurrencyEffectiveCost": "l.cr", "PricingQuantity": "l.cr", "ServiceName": "i.service",
    "SkuId": "i.sku", "SkuMeter": "i.meter", "SkuPriceId": "i.price_id",
    "SubAccountId": "t.id", "SubAccountName": "t.name", "Tags": "g.tags", "x_Events": "l.events::VARCHAR",
}


@dataclass(frozen=True)
class _Cycle:
    """What a cycle's part is made of, before any line is read."""

    figures: CycleFigures
    head: str  # the purchase rows (CSV)
    constants: dict[str, str]  # the columns every usage line of the cycle shares
    unit_price: Decimal
    days: tuple[UsageDay, ...]  # its usage lines, a digest per day
    prefix: str  # the key of all but its lines and unused credits: parts that share it show their lines alike
    key: str
    one_line_each: bool  # no label or constant holds a line break, so a part's lines can be counted


def _cycle(report: Report, c: CycleFigures, code: str) -> _Cycle:
    currency = currency_of(report)
    unit_price = rounded_price(Fraction(c.price) / Fraction(c.allocation))
    commitment = f"{account_id(report)}:credits:{c.name}"
    common = {
        "BilledCost": "0", "BillingAccountId": account_id(report), "BillingAccountName": report.config.site.title,
        "BillingCurrency": currency, "BillingPeriodStart": utc_text(c.cycle.start), "BillingPeriodEnd": utc_text(c.cycle.end),
        "CommitmentDiscountCategory": "Usage", "CommitmentDiscountId": commitment,
        "CommitmentDiscountName": f"Credits of {c.name} ({c.tier.name} tier"
                                  + (f" and {len(c.topups)} top-up{'s' if len(c.topups) != 1 else ''})" if c.topups else ")"),
        "CommitmentDiscountType": "Prepaid credits", "CommitmentDiscountUnit": CREDITS,
        "InvoiceIssuerName": PROVIDER, "ProviderName": PROVIDER, "PublisherName": PROVIDER,
        "ServiceCategory": SERVICE_CATEGORY, "ServiceSubcategory": SERVICE_SUBCATEGORY, "x_Cycle": c.name,
    }

    def purchase(what: str, sku: str, price_id: str, frequency: str, start: dt.datetime, credits: Decimal,
                 price: Decimal) -> dict[str, str]:
        unit = rounded_price(Fraction(price) / Fraction(credits))
        return common | {
            "BilledCost": plain(price), "ChargeCategory": "Purchase", "ChargeDescription": what,
            "ChargeFrequency": frequency, "ChargePeriodStart": utc_text(start), "ChargePeriodEnd": utc_text(c.cycle.end),
            "CommitmentDiscountQuantity": plain(credits), "ContractedCost": plain(price), "ContractedUnitPrice": plain(unit),
            "EffectiveCost": "0", "ListCost": plain(price), "ListUnitPrice": plain(unit), "PricingCategory": "Standard",
            "PricingCurrency": currency, "PricingCurrencyContractedUnitPrice": plain(unit),
            "PricingCurrencyEffectiveCost": "0", "PricingCurrencyListUnitPrice": plain(unit),
            "PricingQuantity": plain(credits), "PricingUnit": CREDITS, "ServiceName": f"{PROVIDER} credits",
            "SkuId": sku, "SkuMeter": "Credits", "SkuPriceId": price_id, "x_Events": "0",
        }

    rows = [purchase(f"{c.tier.name} tier: {plain(c.tier.monthly_credits)} credits for the cycle {c.name}",
                     f"tier:{c.tier.name}", f"tier:{c.tier.name}:{plain(c.tier.monthly_price)}", "Recurring",
                     c.cycle.start, c.tier.monthly_credits, c.tier.monthly_price)]
    for t in sorted(c.topups, key=lambda t: (t.date, t.credits, t.price)):
        rows.append(purchase(f"Top-up of {plain(t.credits)} credits on {t.date.isoformat()}", "topup",
                             f"topup:{plain(t.credits)}:{plain(t.price)}", "One-Time",
                             max(local_midnight(t.date, report.config.tz), c.cycle.start), t.credits, t.price))
    constants = common | {
        "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based", "CommitmentDiscountStatus": "Used",
        "ConsumedUnit": "Items", "ContractedUnitPrice": plain(unit_price), "ListUnitPrice": plain(unit_price),
        "PricingCategory": "Committed", "PricingCurrency": CREDITS, "PricingCurrencyContractedUnitPrice": "1",
        "PricingCurrencyListUnitPrice": "1", "PricingUnit": CREDITS,
    }
    head = csv_rows(rows)
    # Everything the part is a function of: its lines (a digest per day), its unused credits, the cycle's
    # figures, the names shown for features and teams, the timezone and the code that writes it.
    labels = {
        "features": {f: report.config.feature_label(f) for f in report.features},
        "teams": {t: [_team_id(report, t), report.config.team_label(t)] for t in report.teams},
    }
    material = {
        "head": head, "constants": constants, "price": str(c.price), "allocation": str(c.allocation),
        "timezone": report.config.site.timezone, "code": code, "duckdb": duckdb.__version__, **labels,
    }
    prefix = _digest(material)
    days = report.usage_days.get(c.name, ())
    key = _digest({"prefix": prefix, "lines": day_record(days), "expired": str(c.expired)})
    texts = [*constants.values(), *labels["features"].values(), *(n for pair in labels["teams"].values() for n in pair)]
    one_line_each = not any("\n" in t or "\r" in t for t in texts)
    return _Cycle(c, head, constants, unit_price, days, prefix, key, one_line_each)


def _digest(material: dict) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FocusExport:
    """The export as the site writes it: the header, then per cycle its purchases, its usage lines (a file
    in the cache, which may be large) and its unused credits."""

    chunks: list[bytes | Path]


def _folder(report: Report) -> Path:
    folder = report.config.cache_dir / "focus"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only site folder: the parts live in a temporary folder for this process
        folder = Path(tempfile.mkdtemp(prefix="creditwise-focus-"))
        atexit.register(shutil.rmtree, folder, True)
    return folder


def focus_export(report: Report, con: duckdb.DuckDBPyConnection | None) -> FocusExport | None:
    """Every cycle's part from the cache, the missing ones written from the usage lines in DuckDB (`con`).

    None when a part is missing and there is no connection (the report came from its cache): the
    caller ingests again. Parts no cycle uses any more are removed."""
    folder = _folder(report)
    code = code_hash()
    parts: list[tuple[_Cycle, Path, Path]] = []
    tails: dict[Path, str] = {}
    for c in report.cycles:
        cycle = _cycle(report, c, code)
        usage, meta = folder / f"{cycle.key}.csv", folder / f"{cycle.key}.json"
        parts.append((cycle, usage, meta))
        with contextlib.suppress(OSError, ValueError, KeyError):
            if usage.is_file():
                tails[usage] = json.loads(meta.read_text(encoding="utf-8"))["tail"]
    missing = [(cycle, usage) for cycle, usage, _ in parts if usage not in tails]
    if missing:
        if con is None:
            return None
        earlier = earlier_parts(folder)
        tails |= _write_parts(report, con, [(cycle, usage, earlier.get((cycle.figures.name, cycle.prefix)))
                                            for cycle, usage in missing])
    written = {usage for _, usage in missing}
    chunks: list[bytes | Path] = [csv_rows([{h: h for h in HEADER}]).encode("utf-8")]
    used = set()
    for cycle, usage, meta in parts:
        if usage in written:
            with contextlib.suppress(OSError):
                write_atomic(meta, json.dumps({"tail": tails[usage], "cycle": cycle.figures.name,
                                               "prefix": cycle.prefix, "days": day_record(cycle.days)}))
        chunks += [cycle.head.encode("utf-8"), usage, tails[usage].encode("utf-8")]
        used |= {usage.name, meta.name}
    for entry in folder.iterdir():
        if entry.name not in used and not entry.name.startswith("."):
            entry.unlink(missing_ok=True)
    return FocusExport(chunks)


def _write_parts(report: Report, con: duckdb.DuckDBPyConnection,
                 missing: list[tuple[_Cycle, Path, EarlierPart | None]]) -> dict[Path, str]:
    """The missing parts (their tails, by file), two at a time on cursors of their own when there are
    several: a part is mostly one thread's work (a window over the cycle's lines in order), so a second
    one uses the other core (measured at 10 M events: 13 parts in 2.4 s against 4.0 s one after another)."""
    if len(missing) == 1:
        cycle, usage, earlier = missing[0]
        return {usage: _write_part(report, con, cycle, usage, earlier)}
    cursors = [con.cursor() for _ in range(2)]  # (temporary tables are a cursor's own: each has its lookups)

    def every_other(k: int) -> dict[Path, str]:
        return {usage: _write_part(report, cursors[k], cycle, usage, earlier) for cycle, usage, earlier in missing[k::2]}

    try:
        with concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="creditwise-focus") as pool:
            halves = list(pool.map(every_other, range(2)))
    finally:
        for cursor in cursors:
            cursor.close()
    return halves[0] | halves[1]


def _team_id(report: Report, team: str) -> str:
    return report.analytics.team_slugs.get(team, slugify(team))


def _lookups(report: Report, con: duckdb.DuckDBPyConnection, c: CycleFigures, where: str) -> None:
    """The text columns, computed once per distinct value in Python (labels, JSON, CSV quoting) for SQL to
    join; the distinct values come from one scan of the cycle's lines."""
    config = report.config
    seen = con.execute(f"SELECT DISTINCT feature, operation, model, team, member FROM {TABLE} WHERE {where}").fetchall()
    items = dict.fromkeys((f, o, m) for f, o, m, _, _ in seen)
    teams = list(dict.fromkeys(t for _, _, _, t, _ in seen))
    tagged = dict.fromkeys((member, f, m) for f, _, m, _, member in seen)
    cols: dict[str, list] = {"feature": [], "operation": [], "model": [], "descr": [], "service": [], "sku": [],
                             "meter": [], "price_id": []}
    for feature, operation, model in items:
        service = config.feature_label(feature)
        for name, value in (("feature", feature), ("operation", operation), ("model", model)):
            cols[name].append(value)
        cols["descr"].append(csv_field(f"{service}: {operation}" + (f" with {model}" if model else "")))
        cols["service"].append(csv_field(service))
        cols["sku"].append(csv_field(f"{feature}.{operation}"))
        cols["meter"].append(csv_field(operation))
        cols["price_id"].append(csv_field(f"{feature}.{operation}:{model or ''}"))
    _table(con, "cw_focus_items", cols)
    _table(con, "cw_focus_teams", {"team": teams, "id": [csv_field(_team_id(report, t)) for t in teams],
                                   "name": [csv_field(config.team_label(t)) for t in teams]})
    tags: dict[str, list] = {"member": [], "feature": [], "model": [], "tags": []}
    for member, feature, model in tagged:
        tag = {"member": member, "feature": feature} | ({"model": model} if model is not None else {})
        for name, value in (("member", member), ("feature", feature), ("model", model)):
            tags[name].append(value)
        tags["tags"].append(csv_field(json.dumps(tag, ensure_ascii=False, sort_keys=True, separators=(",", ":"))))
    _table(con, "cw_focus_tags", tags)
    days = c.cycle.dates()
    _table(con, "cw_focus_days", {"day": days,
                                  "start": [utc_text(local_midnight(d, config.tz)) for d in days],
                                  "stop": [utc_text(local_midnight(d + dt.timedelta(days=1), config.tz)) for d in days]})


def _table(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, list]) -> None:
    select = ", ".join(f"unnest(?::{'DATE' if col == 'day' else 'VARCHAR'}[]) AS {col}" for col in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select}", list(columns.values()))


def _keep_and_copy_lines(report: Report, con: duckdb.DuckDBPyConnection, cycle: _Cycle, where: str,
                         kept: KeptLines, tmp: Path) -> None:
    """The kept lines of the earlier part, then the lines from the first changed day on."""
    rest = tmp.with_name(tmp.name + ".rest")
    try:
        if kept.first_day is not None:
            _copy_lines(report, con, cycle, f"{where} AND day >= DATE '{kept.first_day}'", kept.micro, rest)
        with tmp.open("wb") as out:
            send_file(out, kept.source, kept.size)
            if kept.first_day is not None:
                send_file(out, rest)
    finally:
        rest.unlink(missing_ok=True)


def _copy_lines(report: Report, con: duckdb.DuckDBPyConnection, cycle: _Cycle, where: str, micro_before: int,
                target: Path) -> None:
    """The usage lines `where` selects, in order, into `target` (one COPY); `micro_before`: the credits of the
    cycle's lines before them, in millionths."""
    c = cycle.figures
    _lookups(report, con, c, where)
    rate = Fraction(c.price) / Fraction(c.allocation)  # also money millionths per millionth of a credit
    num, den = f"'{rate.numerator}'::HUGEINT", f"'{rate.denominator}'::HUGEINT"
    line: list[str] = []  # SQL pieces of one CSV line; runs of constant fields are one literal
    text = ""
    for i, name in enumerate(HEADER):
        if name in VARIABLE:
            line += [quote_sql(text), VARIABLE[name]] if text else [VARIABLE[name]]
            text = ""
        else:
            text += csv_field(cycle.constants.get(name, ""))
        text += "," if i + 1 < len(HEADER) else ""
    line += [quote_sql(text)] if text else []
    # Rounded running totals: sign × (q + 1 if the remainder is past half, or half with q odd), q = |n| // den.
    n, prev = f"abs(cum) * {num}", f"abs(cum - micro) * {num}"

    def rounded(x: str, sign: str) -> str:
        return (f"sign({sign}) * ({x} // {den} + CASE WHEN 2 * ({x} % {den}) > {den} "
                f"OR (2 * ({x} % {den}) = {den} AND ({x} // {den}) % 2 = 1) THEN 1 ELSE 0 END)")

    query = f"""
        WITH run AS (
            SELECT *, row_number() OVER w AS rn, sum(micro) OVER w + '{micro_before}'::HUGEINT AS cum
            FROM (SELECT *, (credits * 1000000)::HUGEINT AS micro FROM {TABLE} WHERE {where})
            WINDOW w AS (ORDER BY {ORDER} ROWS UNBOUNDED PRECEDING)
        ), shares AS (
            SELECT *, {rounded(n, "cum")} - {rounded(prev, "cum - micro")} AS share FROM run
        ), l AS (
            SELECT *, {_money_sql("share")} AS cost,
                   CASE WHEN contains(credits::VARCHAR, '.') THEN rtrim(rtrim(credits::VARCHAR, '0'), '.')
                        ELSE credits::VARCHAR END AS cr
            FROM shares
        )
        SELECT concat({", ".join(line)}) AS line
        FROM l JOIN cw_focus_days d ON d.day = l.day
             JOIN cw_focus_items i ON i.feature = l.feature AND i.operation = l.operation AND i.model IS NOT DISTINCT FROM l.model
             JOIN cw_focus_teams t ON t.team = l.team
             JOIN cw_focus_tags g ON g.member = l.member AND g.feature = l.feature AND g.model IS NOT DISTINCT FROM l.model
        ORDER BY l.rn"""
    con.execute(f"COPY ({query}) TO {quote_sql(str(target))} "
                f"(FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x1f', NEW_LINE '\r\n')")


def _write_part(report: Report, con: duckdb.DuckDBPyConnection, cycle: _Cycle, path: Path,
                earlier: EarlierPart | None = None) -> str:
    """The cycle's usage lines into `path`, and its unused-credits row (returned, as CSV).

    The lines are one DuckDB COPY, from the first day whose lines differ from `earlier`'s on (the lines
    before it are copied from `earlier`). Each line's cost is its share of the cycle's price as Spread
    computes it, in exact integer arithmetic: round-half-even(credits so far × price ÷ allocation, to a
    millionth) minus the same for the lines before."""
    c = cycle.figures
    where = f"day >= DATE '{c.cycle.start_date.isoformat()}' AND day < DATE '{c.cycle.end_date.isoformat()}'"
    kept = kept_lines(earlier, cycle.days) if earlier is not None and cycle.one_line_each else None
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if kept is None:
            _copy_lines(report, con, cycle, where, 0, tmp)
        else:
            _keep_and_copy_lines(report, con, cycle, where, kept, tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    if not c.expired:
        return ""
    spread = Spread(c.price, c.allocation)
    spread.share(sum((d.credits for d in cycle.days), Decimal(0)))  # the cycle's lines, from their day digests
    cost = spread.share(c.expired)
    return csv_rows([cycle.constants | {
        "ChargeCategory": "Usage", "ChargeDescription": f"Unused credits of the cycle {c.name}, expired at the reset",
        "ChargeFrequency": "Usage-Based", "ChargePeriodStart": utc_text(c.cycle.start), "ChargePeriodEnd": utc_text(c.cycle.end),
        "CommitmentDiscountQuantity": plain(c.expired), "CommitmentDiscountStatus": "Unused", "ConsumedUnit": "",
        "ContractedCost": plain(cost), "EffectiveCost": plain(cost), "ListCost": plain(cost),
        "PricingCurrencyEffectiveCost": plain(c.expired), "PricingQuantity": plain(c.expired),
        "ServiceName": f"{PROVIDER} credits", "SkuId": "credits.unused", "SkuMeter": "Unused credits",
        "SkuPriceId": "credits.unused:", "x_Events": "0",
    }])
