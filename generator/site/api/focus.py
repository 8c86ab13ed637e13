"""`api/focus.csv`: the usage and purchases as FOCUS 1.2 rows (FinOps Open Cost and Usage Specification).

Read from the specification's own repository (FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec, the 1.2
text of `specification/columns/*.md` and the appendix "Commitment Discounts"). What we follow:

- Columns: every column whose "Feature level" is Mandatory in 1.2, and the Conditional ones whose
  condition Aethera meets — it prices in a virtual currency (credits: `PricingCurrency`,
  `PricingCurrency*` prices and `PricingCurrencyEffectiveCost`), sells prepaid commitments (the
  `CommitmentDiscount*` columns), has sub accounts (teams: `SubAccountId`/`SubAccountName`), tags
  (`Tags`), SKUs (`SkuId`, `SkuMeter`, `SkuPriceId`) and measured usage (`ConsumedQuantity`/`Unit`).
  FOCUS columns come first, then our own `x_` columns ("Column Naming and Ordering").
- Prepaid commitment ("Commitment Discounts" appendix; `EffectiveCost`: "EffectiveCost MUST be 0 when
  ChargeCategory is 'Purchase' and the purchase is intended to cover future eligible charges"; "When
  CommitmentDiscountStatus is 'Unused', the EffectiveCost MUST be the total committed cost consumed for
  the given charge period minus related usage charges"; `PricingCurrencyEffectiveCost`: "MUST be 0 in the
  event of prepaid purchases"): each cycle's credits are one commitment. The tier and every top-up are
  `Purchase` rows carrying the money (`BilledCost`, `EffectiveCost` 0); each usage row draws credits from
  it (`BilledCost` 0, `EffectiveCost` = credits × the cycle's price per credit, status `Used`); a complete
  cycle's expired credits are one `Usage` row with status `Unused` carrying the rest of the cost, so a
  cycle's Σ EffectiveCost is its cost whenever used ≤ allocation.
- Date/Time Format: UTC, `YYYY-MM-DDTHH:mm:ssZ`; periods are [start, end), days and cycles being local
  days and cycles of the site timezone. Numeric Format: plain decimals, no exponent.
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from generator.analytics.slugs import slugify
from generator.fileio import write_atomic
from generator.model.cycle_report import CycleFigures
from generator.model.cycles import local_midnight
from generator.model.usage_lines import ORDER, TABLE
from generator.report.model import Report
from generator.resources import code_hash

PROVIDER = "Aethera"
CREDITS = "Credits"
NO_CURRENCY = "XXX"  # ISO 4217 "no currency": BillingCurrency may not be null, [site].currency may be unset
SERVICE_CATEGORY = "AI and Machine Learning"
SERVICE_SUBCATEGORY = "Generative AI"
MONEY_PLACES = Decimal("0.000001")  # costs to a millionth: sums stay exact to the cent and beyond
PRICE_PLACES = Decimal("0.0000000001")


@dataclass(frozen=True)
class FocusColumn:
    name: str
    type: str  # the DuckDB type the values read as (FOCUS: String, Decimal, Date/Time, JSON)
    level: str  # FOCUS 1.2 feature level: Mandatory, Recommended, Conditional; "Custom" for x_ columns
    allowed: tuple[str, ...] = ()  # FOCUS allowed values, where the column has a list


COLUMNS: tuple[FocusColumn, ...] = (
    FocusColumn("BilledCost", "DECIMAL(38,10)", "Mandatory"),
    FocusColumn("BillingAccountId", "VARCHAR", "Mandatory"),
    FocusColumn("BillingAccountName", "VARCHAR", "Mandatory"),
    FocusColumn("BillingCurrency", "VARCHAR", "Mandatory"),
    FocusColumn("BillingPeriodEnd", "TIMESTAMPTZ", "Mandatory"),
    FocusColumn("BillingPeriodStart", "TIMESTAMPTZ", "Mandatory"),
    FocusColumn("ChargeCategory", "VARCHAR", "Mandatory", ("Usage", "Purchase", "Tax", "Credit", "Adjustment")),
    FocusColumn("ChargeClass", "VARCHAR", "Mandatory", ("Correction",)),
    FocusColumn("ChargeDescription", "VARCHAR", "Mandatory"),
    FocusColumn("ChargeFrequency", "VARCHAR", "Recommended", ("One-Time", "Recurring", "Usage-Based")),
    FocusColumn("ChargePeriodEnd", "TIMESTAMPTZ", "Mandatory"),
    FocusColumn("ChargePeriodStart", "TIMESTAMPTZ", "Mandatory"),
    FocusColumn("CommitmentDiscountCategory", "VARCHAR", "Conditional", ("Spend", "Usage")),
    FocusColumn("CommitmentDiscountId", "VARCHAR", "Conditional"),
    FocusColumn("CommitmentDiscountName", "VARCHAR", "Conditional"),
    FocusColumn("CommitmentDiscountQuantity", "DECIMAL(38,10)", "Conditional"),
    FocusColumn("CommitmentDiscountStatus", "VARCHAR", "Conditional", ("Used", "Unused")),
    FocusColumn("CommitmentDiscountType", "VARCHAR", "Conditional"),
    FocusColumn("CommitmentDiscountUnit", "VARCHAR", "Conditional"),
    FocusColumn("ConsumedQuantity", "DECIMAL(38,10)", "Conditional"),
    FocusColumn("ConsumedUnit", "VARCHAR", "Conditional"),
    FocusColumn("ContractedCost", "DECIMAL(38,10)", "Mandatory"),
    FocusColumn("ContractedUnitPrice", "DECIMAL(38,10)", "Conditional"),
    FocusColumn("EffectiveCost", "DECIMAL(38,10)", "Mandatory"),
    FocusColumn("InvoiceIssuerName", "VARCHAR", "Mandatory"),
    FocusColumn("ListCost", "DECIMAL(38,10)", "Mandatory"),
    FocusColumn("ListUnitPrice", "DECIMAL(38,10)", "Conditional"),
    FocusColumn("PricingCategory", "VARCHAR", "Conditional", ("Standard", "Dynamic", "Committed", "Other")),
    FocusColumn("PricingCurrency", "VARCHAR", "Conditional"),
    FocusColumn("PricingCurrencyContractedUnitPrice", "DECIMAL(38,10)", "Conditional"),
    FocusColumn("PricingCurrencyEffectiveCost", "DECIMAL(38,10)", "Conditional"),
    FocusColumn("PricingCurrencyListUnitPrice", "DECIMAL(38,10)", "Conditional"),
    FocusColumn("PricingQuantity", "DECIMAL(38,10)", "Mandatory"),
    FocusColumn("PricingUnit", "VARCHAR", "Mandatory"),
    FocusColumn("ProviderName", "VARCHAR", "Mandatory"),
    FocusColumn("PublisherName", "VARCHAR", "Mandatory"),
    FocusColumn("ServiceCategory", "VARCHAR", "Mandatory", (SERVICE_CATEGORY,)),
    FocusColumn("ServiceName", "VARCHAR", "Mandatory"),
    FocusColumn("ServiceSubcategory", "VARCHAR", "Mandatory", (SERVICE_SUBCATEGORY,)),
    FocusColumn("SkuId", "VARCHAR", "Conditional"),
    FocusColumn("SkuMeter", "VARCHAR", "Conditional"),
    FocusColumn("SkuPriceId", "VARCHAR", "Conditional"),
    FocusColumn("SubAccountId", "VARCHAR", "Conditional"),
    FocusColumn("SubAccountName", "VARCHAR", "Conditional"),
    FocusColumn("Tags", "JSON", "Conditional"),
    FocusColumn("x_Cycle", "VARCHAR", "Custom"),
    FocusColumn("x_Events", "BIGINT", "Custom"),
)
HEADER = [c.name for c in COLUMNS]


def _utc(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dec(value: Decimal | int | None) -> str:
    """Numeric Format: a plain decimal (no exponent, no trailing zeros), empty for null."""
    if value is None:
        return ""
    d = Decimal(value)
    if d == d.to_integral_value():
        return str(d.quantize(Decimal(1)))
    return format(d.normalize(), "f")


def _price(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(PRICE_PLACES, ROUND_HALF_EVEN)


class _Spread:
    """Shares of a cycle's cost, rounded so that their sum is the rounded exact sum (no lost millionths).

    Each row gets round(cost × credits so far ÷ allocation) − the same for the rows before it: every row
    is within a millionth of its exact share, and all shares of a cycle add up to exactly its cost."""

    def __init__(self, price: Decimal, allocation: Decimal):
        self.price, self.allocation = price, allocation
        self.credits = Decimal(0)  # running total, exact
        self.written = Decimal(0)

    def share(self, credits: Decimal) -> Decimal:
        self.credits += credits
        with localcontext() as ctx:
            ctx.prec = 40
            total = (self.credits * self.price / self.allocation).quantize(MONEY_PLACES, ROUND_HALF_EVEN)
        out, self.written = total - self.written, total
        return out


def _currency(report: Report) -> str:
    return report.config.site.currency or NO_CURRENCY


def account_id(report: Report) -> str:
    """The subscription's id: the site's base_url without scheme, as a slug (as in the Atom ids)."""
    where = urlsplit(report.config.site.base_url)
    return f"aethera:{slugify(where.netloc + where.path)}"




def _csv_text(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([row.get(h, "") for h in HEADER] for row in rows)
    return buf.getvalue()


def _field(value: str) -> str:
    """One CSV field as csv.writer writes it (minimal quoting), for the fields SQL puts together."""
    return f'"{value.replace(chr(34), chr(34) * 2)}"' if any(ch in value for ch in ',"\r\n') else value


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _money_sql(micro: str) -> str:
    """A HUGEINT count of millionths as a plain decimal (what _dec writes for a cost)."""
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
    key: str


def _cycle(report: Report, c: CycleFigures, code: str) -> _Cycle:
    currency = _currency(report)
    unit_price = _price(Fraction(c.price) / Fraction(c.allocation))
    commitment = f"{account_id(report)}:credits:{c.name}"
    common = {
        "BilledCost": "0", "BillingAccountId": account_id(report), "BillingAccountName": report.config.site.title,
        "BillingCurrency": currency, "BillingPeriodStart": _utc(c.cycle.start), "BillingPeriodEnd": _utc(c.cycle.end),
        "CommitmentDiscountCategory": "Usage", "CommitmentDiscountId": commitment,
        "CommitmentDiscountName": f"Credits of {c.name} ({c.tier.name} tier"
                                  + (f" and {len(c.topups)} top-up{'s' if len(c.topups) != 1 else ''})" if c.topups else ")"),
        "CommitmentDiscountType": "Prepaid credits", "CommitmentDiscountUnit": CREDITS,
        "InvoiceIssuerName": PROVIDER, "ProviderName": PROVIDER, "PublisherName": PROVIDER,
        "ServiceCategory": SERVICE_CATEGORY, "ServiceSubcategory": SERVICE_SUBCATEGORY, "x_Cycle": c.name,
    }

    def purchase(what: str, sku: str, price_id: str, frequency: str, start: dt.datetime, credits: Decimal,
                 price: Decimal) -> dict[str, str]:
        unit = _price(Fraction(price) / Fraction(credits))
        return common | {
            "BilledCost": _dec(price), "ChargeCategory": "Purchase", "ChargeDescription": what,
            "ChargeFrequency": frequency, "ChargePeriodStart": _utc(start), "ChargePeriodEnd": _utc(c.cycle.end),
            "CommitmentDiscountQuantity": _dec(credits), "ContractedCost": _dec(price), "ContractedUnitPrice": _dec(unit),
            "EffectiveCost": "0", "ListCost": _dec(price), "ListUnitPrice": _dec(unit), "PricingCategory": "Standard",
            "PricingCurrency": currency, "PricingCurrencyContractedUnitPrice": _dec(unit),
            "PricingCurrencyEffectiveCost": "0", "PricingCurrencyListUnitPrice": _dec(unit),
            "PricingQuantity": _dec(credits), "PricingUnit": CREDITS, "ServiceName": f"{PROVIDER} credits",
            "SkuId": sku, "SkuMeter": "Credits", "SkuPriceId": price_id, "x_Events": "0",
        }

    rows = [purchase(f"{c.tier.name} tier: {_dec(c.tier.monthly_credits)} credits for the cycle {c.name}",
                     f"tier:{c.tier.name}", f"tier:{c.tier.name}:{_dec(c.tier.monthly_price)}", "Recurring",
                     c.cycle.start, c.tier.monthly_credits, c.tier.monthly_price)]
    for t in sorted(c.topups, key=lambda t: (t.date, t.credits, t.price)):
        rows.append(purchase(f"Top-up of {_dec(t.credits)} credits on {t.date.isoformat()}", "topup",
                             f"topup:{_dec(t.credits)}:{_dec(t.price)}", "One-Time",
                             max(local_midnight(t.date, report.config.tz), c.cycle.start), t.credits, t.price))
    constants = common | {
        "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based", "CommitmentDiscountStatus": "Used",
        "ConsumedUnit": "Items", "ContractedUnitPrice": _dec(unit_price), "ListUnitPrice": _dec(unit_price),
        "PricingCategory": "Committed", "PricingCurrency": CREDITS, "PricingCurrencyContractedUnitPrice": "1",
        "PricingCurrencyListUnitPrice": "1", "PricingUnit": CREDITS,
    }
    head = _csv_text(rows)
    # Everything the part is a function of: its lines (their fingerprint), the cycle's figures, the names
    # shown for features and teams, the timezone and the code that writes it.
    material = {
        "lines": report.usage_fingerprints.get(c.name, ""), "head": head, "constants": constants,
        "expired": str(c.expired), "price": str(c.price), "allocation": str(c.allocation),
        "timezone": report.config.site.timezone, "code": code, "duckdb": duckdb.__version__,
        "features": {f: report.config.feature_label(f) for f in report.features},
        "teams": {t: [report.analytics.team_slugs.get(t, slugify(t)), report.config.team_label(t)] for t in report.teams},
    }
    key = hashlib.sha256(json.dumps(material, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    return _Cycle(c, head, constants, unit_price, key)


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
    chunks: list[bytes | Path] = [_csv_text([{h: h for h in HEADER}]).encode("utf-8")]
    used = set()
    for c in report.cycles:
        cycle = _cycle(report, c, code)
        usage, meta = folder / f"{cycle.key}.csv", folder / f"{cycle.key}.json"
        try:
            tail = json.loads(meta.read_text(encoding="utf-8"))["tail"] if usage.is_file() else None
        except (OSError, ValueError, KeyError):
            tail = None
        if tail is None:
            if con is None:
                return None
            tail = _write_part(report, con, cycle, usage)
            with contextlib.suppress(OSError):
                write_atomic(meta, json.dumps({"tail": tail}))
        chunks += [cycle.head.encode("utf-8"), usage, tail.encode("utf-8")]
        used |= {usage.name, meta.name}
    for entry in folder.iterdir():
        if entry.name not in used and not entry.name.startswith("."):
            entry.unlink(missing_ok=True)
    return FocusExport(chunks)


def _lookups(report: Report, con: duckdb.DuckDBPyConnection, c: CycleFigures, where: str) -> None:
    """The text columns, computed once per distinct value in Python (labels, JSON, CSV quoting) for SQL to join."""
    config = report.config
    items = con.execute(f"SELECT DISTINCT feature, operation, model FROM {TABLE} WHERE {where}").fetchall()
    cols = {"feature": [], "operation": [], "model": [], "descr": [], "service": [], "sku": [], "meter": [],
            "price_id": []}
    for feature, operation, model in items:
        service = config.feature_label(feature)
        for name, value in (("feature", feature), ("operation", operation), ("model", model)):
            cols[name].append(value)
        cols["descr"].append(_field(f"{service}: {operation}" + (f" with {model}" if model else "")))
        cols["service"].append(_field(service))
        cols["sku"].append(_field(f"{feature}.{operation}"))
        cols["meter"].append(_field(operation))
        cols["price_id"].append(_field(f"{feature}.{operation}:{model or ''}"))
    _table(con, "cw_focus_items", cols)
    teams = [t for (t,) in con.execute(f"SELECT DISTINCT team FROM {TABLE} WHERE {where}").fetchall()]
    slugs = report.analytics.team_slugs
    _table(con, "cw_focus_teams", {"team": teams, "id": [_field(slugs.get(t, slugify(t))) for t in teams],
                                   "name": [_field(config.team_label(t)) for t in teams]})
    tags: dict[str, list] = {"member": [], "feature": [], "model": [], "tags": []}
    for member, feature, model in con.execute(f"SELECT DISTINCT member, feature, model FROM {TABLE} WHERE {where}").fetchall():
        tag = {"member": member, "feature": feature} | ({"model": model} if model is not None else {})
        for name, value in (("member", member), ("feature", feature), ("model", model)):
            tags[name].append(value)
        tags["tags"].append(_field(json.dumps(tag, ensure_ascii=False, sort_keys=True, separators=(",", ":"))))
    _table(con, "cw_focus_tags", tags)
    days = c.cycle.dates()
    _table(con, "cw_focus_days", {"day": days,
                                  "start": [_utc(local_midnight(d, config.tz)) for d in days],
                                  "stop": [_utc(local_midnight(d + dt.timedelta(days=1), config.tz)) for d in days]})


def _table(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, list]) -> None:
    select = ", ".join(f"unnest(?::{'DATE' if col == 'day' else 'VARCHAR'}[]) AS {col}" for col in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select}", list(columns.values()))


def _write_part(report: Report, con: duckdb.DuckDBPyConnection, cycle: _Cycle, path: Path) -> str:
    """The cycle's usage lines into `path` (one DuckDB COPY), and its unused-credits row (returned, as CSV).

    Each line's cost is its share of the cycle's price as _Spread computes it, in exact integer arithmetic:
    round-half-even(credits so far × price ÷ allocation, to a millionth) minus the same for the lines before."""
    c = cycle.figures
    where = f"day >= DATE '{c.cycle.start_date.isoformat()}' AND day < DATE '{c.cycle.end_date.isoformat()}'"
    _lookups(report, con, c, where)
    rate = Fraction(c.price) / Fraction(c.allocation)  # also money millionths per millionth of a credit
    num, den = f"'{rate.numerator}'::HUGEINT", f"'{rate.denominator}'::HUGEINT"
    line: list[str] = []  # SQL pieces of one CSV line; runs of constant fields are one literal
    text = ""
    for i, name in enumerate(HEADER):
        if name in VARIABLE:
            line += [_literal(text), VARIABLE[name]] if text else [VARIABLE[name]]
            text = ""
        else:
            text += _field(cycle.constants.get(name, ""))
        text += "," if i + 1 < len(HEADER) else ""
    line += [_literal(text)] if text else []
    # Rounded running totals: sign × (q + 1 if the remainder is past half, or half with q odd), q = |n| // den.
    n, prev = f"abs(cum) * {num}", f"abs(cum - micro) * {num}"

    def rounded(x: str, sign: str) -> str:
        return (f"sign({sign}) * ({x} // {den} + CASE WHEN 2 * ({x} % {den}) > {den} "
                f"OR (2 * ({x} % {den}) = {den} AND ({x} // {den}) % 2 = 1) THEN 1 ELSE 0 END)")

    query = f"""
        WITH run AS (
            SELECT *, row_number() OVER w AS rn, sum(micro) OVER w AS cum
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
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    con.execute(f"COPY ({query}) TO {_literal(str(tmp))} "
                f"(FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x1f', NEW_LINE '\r\n')")
    tmp.replace(path)
    if not c.expired:
        return ""
    total = con.execute(f"SELECT coalesce(sum(credits), 0) FROM {TABLE} WHERE {where}").fetchone()[0]
    spread = _Spread(c.price, c.allocation)
    spread.share(Decimal(total))
    cost = spread.share(c.expired)
    return _csv_text([cycle.constants | {
        "ChargeCategory": "Usage", "ChargeDescription": f"Unused credits of the cycle {c.name}, expired at the reset",
        "ChargeFrequency": "Usage-Based", "ChargePeriodStart": _utc(c.cycle.start), "ChargePeriodEnd": _utc(c.cycle.end),
        "CommitmentDiscountQuantity": _dec(c.expired), "CommitmentDiscountStatus": "Unused", "ConsumedUnit": "",
        "ContractedCost": _dec(cost), "EffectiveCost": _dec(cost), "ListCost": _dec(cost),
        "PricingCurrencyEffectiveCost": _dec(c.expired), "PricingQuantity": _dec(c.expired),
        "ServiceName": f"{PROVIDER} credits", "SkuId": "credits.unused", "SkuMeter": "Unused credits",
        "SkuPriceId": "credits.unused:", "x_Events": "0",
    }])
