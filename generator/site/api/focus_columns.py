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

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from urllib.parse import urlsplit

from generator.analytics.slugs import slugify
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


def utc_text(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plain(value: Decimal | int | None) -> str:
    """Numeric Format: a plain decimal (no exponent, no trailing zeros), empty for null."""
    if value is None:
        return ""
    d = Decimal(value)
    if d == d.to_integral_value():
        return str(d.quantize(Decimal(1)))
    return format(d.normalize(), "f")


def rounded_price(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(PRICE_PLACES, ROUND_HALF_EVEN)


class Spread:
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


def currency_of(report: Report) -> str:
    return report.config.site.currency or NO_CURRENCY


def account_id(report: Report) -> str:
    """The subscription's id: the site's base_url without scheme, as a slug (as in the Atom ids)."""
    where = urlsplit(report.config.site.base_url)
    return f"aethera:{slugify(where.netloc + where.path)}"


def csv_rows(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([row.get(h, "") for h in HEADER] for row in rows)
    return buf.getvalue()


def csv_field(value: str) -> str:
    """One CSV field as csv.writer writes it (minimal quoting), for the fields SQL puts together."""
    return f'"{value.replace(chr(34), chr(34) * 2)}"' if any(ch in value for ch in ',"\r\n') else value
