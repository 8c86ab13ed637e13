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

import bisect
import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from urllib.parse import urlsplit

from generator.analytics.slugs import slugify
from generator.model.cycle_report import CycleFigures
from generator.model.cycles import local_midnight
from generator.model.usage_lines import UsageLine
from generator.report.model import Report

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


def focus_rows(report: Report) -> list[dict[str, str]]:
    """Every row, cycle by cycle (oldest first): purchases, usage by day, then the unused credits."""
    by_cycle: dict[str, list[UsageLine]] = {c.name: [] for c in report.cycles}
    starts = [c.cycle.start_date for c in report.cycles]
    for line in report.usage_lines:
        i = bisect.bisect_right(starts, line.day) - 1
        if i >= 0 and report.cycles[i].cycle.holds(line.day):
            by_cycle[report.cycles[i].name].append(line)
    team_slugs = report.analytics.team_slugs
    out = []
    for c in report.cycles:
        out += _cycle_rows(report, c, by_cycle[c.name], team_slugs)
    return out


def _cycle_rows(report: Report, c: CycleFigures, lines: list[UsageLine],
                team_slugs: dict[str, str]) -> list[dict[str, str]]:
    currency = _currency(report)
    tz = report.config.tz
    spread = _Spread(c.price, c.allocation)
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
                             max(local_midnight(t.date, tz), c.cycle.start), t.credits, t.price))
    for u in lines:
        service = report.config.feature_label(u.feature)
        cost = spread.share(u.credits)
        tags = {"member": u.member, "feature": u.feature} | ({"model": u.model} if u.model is not None else {})
        rows.append(common | {
            "ChargeCategory": "Usage", "ChargeClass": "Correction" if u.credits < 0 else "",
            "ChargeDescription": f"{service}: {u.operation}" + (f" with {u.model}" if u.model else ""),
            "ChargeFrequency": "Usage-Based", "ChargePeriodStart": _utc(local_midnight(u.day, tz)),
            "ChargePeriodEnd": _utc(local_midnight(u.day + dt.timedelta(days=1), tz)),
            "CommitmentDiscountQuantity": _dec(u.credits), "CommitmentDiscountStatus": "Used",
            "ConsumedQuantity": _dec(u.quantity), "ConsumedUnit": "Items", "ContractedCost": _dec(cost),
            "ContractedUnitPrice": _dec(unit_price), "EffectiveCost": _dec(cost), "ListCost": _dec(cost),
            "ListUnitPrice": _dec(unit_price), "PricingCategory": "Committed", "PricingCurrency": CREDITS,
            "PricingCurrencyContractedUnitPrice": "1", "PricingCurrencyEffectiveCost": _dec(u.credits),
            "PricingCurrencyListUnitPrice": "1", "PricingQuantity": _dec(u.credits), "PricingUnit": CREDITS,
            "ServiceName": service, "SkuId": f"{u.feature}.{u.operation}", "SkuMeter": u.operation,
            "SkuPriceId": f"{u.feature}.{u.operation}:{u.model or ''}",
            "SubAccountId": team_slugs.get(u.team, slugify(u.team)), "SubAccountName": report.config.team_label(u.team),
            "Tags": json.dumps(tags, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
            "x_Events": str(u.events),
        })
    if c.expired:
        cost = spread.share(c.expired)
        rows.append(common | {
            "ChargeCategory": "Usage", "ChargeDescription": f"Unused credits of the cycle {c.name}, expired at the reset",
            "ChargeFrequency": "Usage-Based", "ChargePeriodStart": _utc(c.cycle.start), "ChargePeriodEnd": _utc(c.cycle.end),
            "CommitmentDiscountQuantity": _dec(c.expired), "CommitmentDiscountStatus": "Unused",
            "ContractedCost": _dec(cost), "ContractedUnitPrice": _dec(unit_price), "EffectiveCost": _dec(cost),
            "ListCost": _dec(cost), "ListUnitPrice": _dec(unit_price), "PricingCategory": "Committed",
            "PricingCurrency": CREDITS, "PricingCurrencyContractedUnitPrice": "1",
            "PricingCurrencyEffectiveCost": _dec(c.expired), "PricingCurrencyListUnitPrice": "1",
            "PricingQuantity": _dec(c.expired), "PricingUnit": CREDITS, "ServiceName": f"{PROVIDER} credits",
            "SkuId": "credits.unused", "SkuMeter": "Unused credits", "SkuPriceId": "credits.unused:", "x_Events": "0",
        })
    return rows


def focus_csv(report: Report) -> str:
    """RFC 4180 CSV (UTF-8 without a byte-order mark, CRLF, a header of FOCUS column ids), null as empty.

    Written for machines: no spreadsheet formula neutralising, which would change identifiers."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADER)
    w.writerows([row.get(h, "") for h in HEADER] for row in focus_rows(report))
    return buf.getvalue()
