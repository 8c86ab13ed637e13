"""api/focus.csv: FOCUS 1.2 rows of the purchases and the usage, reconciled with the months' JSON.

The fixture (tiers S = 100 credits for 10, M = 200 for 18; subscription S):
- 2026-01: top-up of 50 credits for 6 on 2026-01-20 → allocation 150, cost 10 + 6 = 16,
  price per credit 16 / 150. Events: 01-05 image.generate m1 30 + 10 credits (quantity 2 + 1, ana/design:
  one row of 40 credits, 2 events, 3 items), 01-06 chat.response 20 (bob/sales, no model), 01-07 a refund
  of -5 (ana/design). used = 40 + 20 - 5 = 55, expired = 150 - 55 = 95.
- 2026-02 (current): compose.create 12 (ana/design) → allocation 100, cost 10, no unused row yet.
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from fractions import Fraction

import duckdb
from hypothesis import given
from hypothesis import strategies as st

from conftest import csv_text, event, run_cli
from generator.site.api.focus_columns import COLUMNS, Spread

# FOCUS 1.2, specification/columns/*.md: every column whose feature level is Mandatory, with its data type.
MANDATORY = {
    "BilledCost": "Decimal", "BillingAccountId": "String", "BillingAccountName": "String", "BillingCurrency": "String",
    "BillingPeriodEnd": "Date/Time", "BillingPeriodStart": "Date/Time", "ChargeCategory": "String",
    "ChargeClass": "String", "ChargeDescription": "String", "ChargePeriodEnd": "Date/Time",
    "ChargePeriodStart": "Date/Time", "ContractedCost": "Decimal", "EffectiveCost": "Decimal",
    "InvoiceIssuerName": "String", "ListCost": "Decimal", "PricingQuantity": "Decimal", "PricingUnit": "String",
    "ProviderName": "String", "PublisherName": "String", "ServiceCategory": "String", "ServiceName": "String",
    "ServiceSubcategory": "String",
}
# The conditional ones a provider of prepaid virtual-currency credits with sub accounts, tags and SKUs must add.
CONDITIONAL = {
    "ChargeFrequency": "String", "CommitmentDiscountCategory": "String", "CommitmentDiscountId": "String",
    "CommitmentDiscountName": "String", "CommitmentDiscountQuantity": "Decimal", "CommitmentDiscountStatus": "String",
    "CommitmentDiscountType": "String", "CommitmentDiscountUnit": "String", "ConsumedQuantity": "Decimal",
    "ConsumedUnit": "String", "ContractedUnitPrice": "Decimal", "ListUnitPrice": "Decimal", "PricingCategory": "String",
    "PricingCurrency": "String", "PricingCurrencyContractedUnitPrice": "Decimal",
    "PricingCurrencyEffectiveCost": "Decimal", "PricingCurrencyListUnitPrice": "Decimal", "SkuId": "String",
    "SkuMeter": "String", "SkuPriceId": "String", "SubAccountId": "String", "SubAccountName": "String",
    "Tags": "JSON",
}
NULLABLE = {"ChargeClass"}  # of the mandatory ones: null unless the row is a correction
ALLOWED = {
    "ChargeCategory": {"Usage", "Purchase", "Tax", "Credit", "Adjustment"},
    "ChargeClass": {"", "Correction"},
    "ChargeFrequency": {"One-Time", "Recurring", "Usage-Based"},
    "CommitmentDiscountCategory": {"Spend", "Usage"},
    "CommitmentDiscountStatus": {"", "Used", "Unused"},
    "PricingCategory": {"Standard", "Dynamic", "Committed", "Other"},
    "ServiceCategory": {"AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases",
                        "Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things",
                        "Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security",
                        "Storage", "Web", "Other"},
}
DUCK = {"Decimal": "DECIMAL(38,10)", "String": "VARCHAR", "Date/Time": "TIMESTAMPTZ", "JSON": "JSON"}
UTC_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")

TOPUP = """
[[topups]]
date = 2026-01-20
credits = 50
price = 6
"""


def _site(site):
    site.config.write_text(site.config.read_text(encoding="utf-8") + TOPUP, encoding="utf-8")
    site.write_export("e.csv", csv_text([
        event("a", "2026-01-05T09:00:00Z", 30, model="m1", quantity="2"),
        event("b", "2026-01-05T10:00:00Z", 10, model="m1"),
        event("c", "2026-01-06T10:00:00Z", 20, feature="chat", operation="response", member="bob", team="sales"),
        event("d", "2026-01-07T10:00:00Z", -5, operation="refund"),
        event("e", "2026-02-03T10:00:00Z", 12, feature="compose", operation="create"),
    ]))
    r = site.build()
    assert r.returncode == 0, r.stderr
    return site


def _rows(site) -> tuple[list[str], list[dict[str, str]]]:
    raw = (site.out / "api" / "focus.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # no BOM: finance tools read it as plain UTF-8 CSV
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8"), newline=""))
    return list(reader.fieldnames or []), list(reader)


def test_every_mandatory_column_with_its_type_and_allowed_values(site):
    header, rows = _rows(_site(site))
    assert set(MANDATORY) <= set(header) and set(CONDITIONAL) <= set(header)
    custom = [h for h in header if h.startswith("x_")]
    assert header[len(header) - len(custom):] == custom  # FOCUS columns first, then the x_ ones
    assert len(rows) == 2 + 3 + 1 + 1 + 1  # Jan: tier, top-up, 3 usage, unused; Feb: tier, 1 usage
    for row in rows:
        for name, kind in (MANDATORY | CONDITIONAL).items():
            value = row[name]
            if value == "":
                assert name not in MANDATORY or name in NULLABLE, (name, row)
                continue
            if kind == "Decimal":
                assert DECIMAL.match(value), (name, value)
            elif kind == "Date/Time":
                assert UTC_STAMP.match(value), (name, value)
            elif kind == "JSON":
                assert isinstance(json.loads(value), dict)
            if name in ALLOWED:
                assert value in ALLOWED[name], (name, value)
        if row["ChargeCategory"] == "Purchase":  # prepaid: the money is billed, its effective cost is spread
            assert row["EffectiveCost"] == "0" and row["PricingCurrencyEffectiveCost"] == "0"
            assert row["CommitmentDiscountStatus"] == "" and row["ConsumedQuantity"] == ""
            assert row["PricingCategory"] != "Committed"
        else:
            assert row["BilledCost"] == "0" and row["CommitmentDiscountStatus"] in ("Used", "Unused")
        if row["CommitmentDiscountStatus"] == "Unused":
            assert row["ConsumedQuantity"] == "" and row["ConsumedUnit"] == ""
        assert row["BillingPeriodStart"] <= row["ChargePeriodStart"] < row["ChargePeriodEnd"] <= row["BillingPeriodEnd"]


def test_rows_as_the_prepaid_commitment_scenario_reads(site):
    _, rows = _rows(_site(site))
    jan = [r for r in rows if r["x_Cycle"] == "2026-01"]
    cols = ("ChargeCategory", "BilledCost", "EffectiveCost", "PricingQuantity", "PricingCurrencyEffectiveCost",
            "CommitmentDiscountStatus", "ChargeClass")
    assert [tuple(r[c] for c in cols) for r in jan] == [
        ("Purchase", "10", "0", "100", "0", "", ""),  # the tier S
        ("Purchase", "6", "0", "50", "0", "", ""),  # the top-up
        # 40 × 16/150 = 4.2666…; cumulative rounding to a millionth: 4.266667, then 6.4 − 4.266667, …
        ("Usage", "0", "4.266667", "40", "40", "Used", ""),
        ("Usage", "0", "2.133333", "20", "20", "Used", ""),  # 60 × 16/150 = 6.4
        ("Usage", "0", "-0.533333", "-5", "-5", "Used", "Correction"),  # 55 × 16/150 = 5.866667
        ("Usage", "0", "10.133333", "95", "95", "Unused", ""),  # 150 × 16/150 = 16 − 5.866667
    ]
    image = jan[2]
    assert (image["ServiceName"], image["SkuMeter"], image["SubAccountId"], image["SubAccountName"]) == (
        "Image Generation Studio", "generate", "design", "design")
    assert json.loads(image["Tags"]) == {"member": "ana@example.com", "feature": "image", "model": "m1"}
    assert (image["ConsumedQuantity"], image["x_Events"]) == ("3", "2")
    assert (image["ChargePeriodStart"], image["ChargePeriodEnd"]) == ("2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z")
    assert json.loads(jan[3]["Tags"]) == {"member": "bob", "feature": "chat"}  # no model: no model tag
    assert jan[1]["ChargePeriodStart"] == "2026-01-20T00:00:00Z"  # a top-up covers the rest of its cycle
    assert {r["PricingCurrency"] for r in jan[2:]} == {"Credits"} and jan[0]["PricingCurrency"] == "XXX"


def test_sums_reconcile_with_the_months_and_duckdb_reads_every_row(site):
    _site(site)
    types = {name: DUCK[kind] for name, kind in (MANDATORY | CONDITIONAL).items()} | {"x_Cycle": "VARCHAR",
                                                                                       "x_Events": "BIGINT"}
    path = site.out / "api" / "focus.csv"
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert set(types) == set(header)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE f AS SELECT * FROM read_csv('{path}', header = true, auto_detect = false, "
                f"columns = {({h: types[h] for h in header})!r})")
    assert con.execute("SELECT count(*) FROM f").fetchone()[0] == 8
    sums = {row[0]: row[1:] for row in con.execute("""
        SELECT x_Cycle, sum(EffectiveCost), sum(BilledCost),
               sum(PricingCurrencyEffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Used'),
               sum(PricingCurrencyEffectiveCost) FILTER (WHERE ChargeCategory = 'Usage')
        FROM f GROUP BY 1""").fetchall()}
    jan, feb = site.json("api/months/2026-01.json"), site.json("api/months/2026-02.json")
    assert (jan["cost"], jan["used"], feb["cost"], feb["used"]) == (16, 55, 10, 12)
    # complete cycle: Σ EffectiveCost = cost = 16; Σ BilledCost = 10 + 6; Σ credits drawn = used; with the unused = 150
    assert sums["2026-01"] == (Decimal(16), Decimal(16), Decimal(55), Decimal(150))
    # current cycle: no unused row yet, Σ EffectiveCost = 12 × 10/100 = 1.2
    assert sums["2026-02"] == (Decimal("1.2"), Decimal(10), Decimal(12), Decimal(12))
    assert con.execute("SELECT min(ChargePeriodStart) FROM f").fetchone()[0].isoformat().startswith("2026-01-01T00:00:00")


def test_demo_site_reconciles_to_the_cent(tmp_path):
    out = tmp_path / "demo"
    r = run_cli("build", "-o", str(out), "-q")
    assert r.returncode == 0, r.stderr
    site = json.loads((out / "api" / "site.json").read_text(encoding="utf-8"))
    assert site["downloads"]["focus"] == "api/focus.csv"
    assert 'href="../api/focus.csv"' in (out / "data-quality" / "index.html").read_text(encoding="utf-8")
    con = duckdb.connect()
    types = {c.name: c.type for c in COLUMNS}
    rows = con.execute(f"""SELECT x_Cycle, sum(EffectiveCost), sum(BilledCost),
        sum(PricingCurrencyEffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Used')
        FROM read_csv('{out / "api" / "focus.csv"}', header = true, auto_detect = false, columns = {types!r})
        GROUP BY 1""").fetchall()
    checked = 0
    for cycle, effective, billed, drawn in rows:
        month = json.loads((out / "api" / "months" / f"{cycle}.json").read_text(encoding="utf-8"))
        assert round(billed, 2) == round(Decimal(str(month["cost"])), 2)
        assert drawn == Decimal(str(month["used"]))
        if month["complete"] and month["used"] <= month["allocation"]:
            assert round(effective, 2) == round(Decimal(str(month["cost"])), 2)
            checked += 1
    assert checked >= 4  # the demo's complete cycles that did not run out


@given(st.lists(st.decimals(min_value=-50, max_value=10_000, places=6, allow_nan=False), max_size=60),
       st.integers(1, 10_000), st.integers(1, 100_000))
def test_spread_shares_add_up_exactly_and_stay_within_a_millionth(credits, price_cents, allocation):
    rate = Fraction(price_cents, 100) / allocation
    spread = Spread(Decimal(price_cents) / 100, Decimal(allocation))
    shares = [spread.share(c) for c in credits]
    exact = sum((Fraction(c) * rate for c in credits), Fraction(0))
    total = Decimal(exact.numerator) / Decimal(exact.denominator)
    assert abs(sum(shares, Decimal(0)) - total) <= Decimal("0.0000005")
    if sum(credits, Decimal(0)) == allocation:  # the whole allocation: exactly the price
        assert sum(shares, Decimal(0)) == Decimal(price_cents) / 100
    for c, s in zip(credits, shares, strict=True):
        assert abs(Fraction(s) - Fraction(c) * rate) <= Fraction(1, 1_000_000)


# Names that need CSV quoting or JSON escaping, a model-less chat, fractional and negative credits: the rows
# DuckDB writes must be the bytes Python's csv module writes, and each cost the exact rounded share.
AWKWARD = [
    event("q1", "2026-01-05T09:00:00Z", "0.333333", model='m,1 "x"', team='R&D, "core"', member='zoë "z", jr'),
    event("q2", "2026-01-05T09:30:00Z", "2.5", model='m,1 "x"', team='R&D, "core"', member='zoë "z", jr'),
    event("q3", "2026-01-06T10:00:00Z", "7", feature="chat", operation="response", member="bob", team="sales"),
    event("q4", "2026-01-06T11:00:00Z", "-1.25", operation="refund", member="bob", team="sales"),
    event("q5", "2026-01-09T11:00:00Z", "11.000001", model="m2", member="ana@example.com", team="design"),
    event("q6", "2026-02-02T08:00:00Z", "3", feature="compose", operation="create", member="x;y", team="design"),
]


def _round_half_even(value: Fraction) -> Fraction:
    """To a millionth, ties to even (as Decimal.quantize with ROUND_HALF_EVEN)."""
    scaled = value * 1_000_000
    q, r = divmod(scaled.numerator, scaled.denominator)  # floor division: r ≥ 0
    if 2 * r > scaled.denominator or (2 * r == scaled.denominator and q % 2):
        q += 1
    return Fraction(q, 1_000_000)


def test_sql_rows_are_the_csv_modules_bytes_and_exact_shares(site):
    site.write_export("awkward.csv", csv_text(AWKWARD))
    r = site.build()
    assert r.returncode == 0, r.stderr
    raw = (site.out / "api" / "focus.csv").read_bytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    again = io.StringIO()
    csv.writer(again, lineterminator="\r\n").writerows(rows)
    assert again.getvalue() == raw  # minimal quoting, doubled quotes, CRLF: what csv.writer writes
    header, body = rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert header == [c.name for c in COLUMNS]
    used = [r for r in body if r["CommitmentDiscountStatus"] == "Used"]
    assert len(used) == 5  # q1 and q2 share a line (same day, item, team and member)
    first = used[0]
    assert (first["SubAccountName"], first["PricingQuantity"], first["ConsumedQuantity"], first["x_Events"]) == (
        'R&D, "core"', "2.833333", "2", "2")
    assert json.loads(first["Tags"]) == {"member": 'zoë "z", jr', "feature": "image", "model": 'm,1 "x"'}
    assert first["ChargeDescription"] == 'Image Generation Studio: generate with m,1 "x"'
    assert first["SkuPriceId"] == 'image.generate:m,1 "x"'
    for cycle in ("2026-01", "2026-02"):
        month = site.json(f"api/months/{cycle}.json")
        rate = Fraction(str(month["cost"])) / Fraction(str(month["allocation"]))
        so_far = Fraction(0)
        for line in (r for r in used if r["x_Cycle"] == cycle):
            before, so_far = so_far, so_far + Fraction(line["PricingQuantity"])
            expected = _round_half_even(so_far * rate) - _round_half_even(before * rate)
            assert Fraction(line["EffectiveCost"]) == expected, (cycle, line["PricingQuantity"])
            assert line["ChargeClass"] == ("Correction" if so_far < before else "")


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12))
def test_a_field_is_quoted_as_the_csv_module_quotes_it(text):
    from generator.site.api.focus_columns import csv_field

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([text, "x"])
    assert buf.getvalue() == csv_field(text) + ",x\r\n"


def test_a_complete_cycles_cached_part_follows_a_changed_label(site):
    """A complete cycle's part of the export is reused while its lines and what it shows are unchanged;
    a new display name for a feature is such a change."""
    _site(site)
    parts = site.root / ".creditwise" / "cache" / "focus"
    before = {p.name for p in parts.glob("*.csv")}
    site.config.write_text(site.config.read_text(encoding="utf-8") + '\n[labels]\nfeatures = { image = "Pictures" }\n',
                           encoding="utf-8")
    r = site.build()
    assert r.returncode == 0, r.stderr
    _, rows = _rows(site)
    image = [row for row in rows if row["SkuId"] == "image.generate"]
    assert image and {row["ServiceName"] for row in image} == {"Pictures"}
    assert image[0]["ChargeDescription"] == "Pictures: generate with m1"
    assert {p.name for p in parts.glob("*.csv")}.isdisjoint(before)  # both cycles written again, the old parts gone


# --- a changed cycle keeps the lines of its earlier part up to the first changed day -------------

def _cached_part(site, cycle: str):
    for meta in (site.root / ".creditwise" / "cache" / "focus").glob("*.json"):
        if json.loads(meta.read_text(encoding="utf-8"))["cycle"] == cycle:
            return meta.with_suffix(".csv")
    raise AssertionError(f"no cached part for {cycle}")


def _mark_first_line(site) -> None:
    """Mark January's first line (01-05, image.generate with m1) in the cached part, keeping its length: a
    part that keeps the earlier part's lines shows the mark, one written again does not."""
    part = _cached_part(site, "2026-01")
    raw = part.read_bytes()
    assert raw.count(b"image.generate:m1") == 1
    part.write_bytes(raw.replace(b"image.generate:m1", b"image.GENERATE:m1"))


def _january_usage(site) -> list[dict[str, str]]:
    _, rows = _rows(site)
    return [r for r in rows if r["x_Cycle"] == "2026-01" and r["ChargeCategory"] == "Usage"
            and r["CommitmentDiscountStatus"] == "Used"]


def _january_after_a_late_export(site, day: str) -> list[dict[str, str]]:
    """Build, mark the cached January part, add one credit of chat for ana/design on `day` of January, build
    again: January's usage rows."""
    _site(site)
    _mark_first_line(site)
    site.write_export("late.csv", csv_text([event("late", f"2026-01-{day}T12:00:00Z", 1, feature="chat",
                                                  operation="response")]))
    r = site.build()
    assert r.returncode == 0, r.stderr
    return _january_usage(site)


def test_a_late_export_rewrites_an_old_cycles_lines_from_its_day_on_and_keeps_the_rest(site):
    rows = _january_after_a_late_export(site, "06")
    # 01-05 kept from the earlier part (marked); 01-06 and 01-07 written again. In order: 01-05 image 40,
    # 01-06 chat ana/design 1 (design < sales), 01-06 chat bob/sales 20, 01-07 refund -5; running totals
    # 40, 41, 61, 56 credits at 16/150 a credit, each rounded to a millionth: 4.266667, 4.373333, 6.506667,
    # 5.973333. The shares are the differences; the rewritten lines start from the kept 40 credits (from 0
    # they would be 0.106667, 2.133333, -0.533333).
    assert [r["SkuPriceId"] for r in rows] == ["image.GENERATE:m1", "chat.response:", "chat.response:", "image.refund:"]
    assert [r["EffectiveCost"] for r in rows] == ["4.266667", "0.106666", "2.133334", "-0.533334"]


def test_a_change_on_a_cycles_first_day_rewrites_every_line(site):
    rows = _january_after_a_late_export(site, "05")
    assert [r["SkuPriceId"] for r in rows] == ["chat.response:", "image.generate:m1", "chat.response:", "image.refund:"]


def test_lines_are_not_kept_when_a_label_holds_a_line_break(site):
    """A display name with a line break is quoted into a line of the export, so lines can no longer be
    found by their ends: the part is written whole, and still exactly."""
    labels = '[labels]\nteams = { sales = "Sales\\nEMEA" }\n\n[[tiers]]'
    site.config.write_text(site.config.read_text(encoding="utf-8").replace("[[tiers]]", labels, 1), encoding="utf-8")
    rows = _january_after_a_late_export(site, "06")
    assert [r["SkuPriceId"] for r in rows] == ["image.generate:m1", "chat.response:", "chat.response:", "image.refund:"]
    assert [r["EffectiveCost"] for r in rows] == ["4.266667", "0.106666", "2.133334", "-0.533334"]
    assert rows[2]["SubAccountName"] == "Sales\nEMEA"


@given(st.lists(st.binary(max_size=7).map(lambda b: b.replace(b"\n", b"") + b"\r\n"), max_size=40),
       st.integers(0, 40), st.integers(1, 9))
def test_a_lines_end_is_found_from_either_end_of_the_file(tmp_path_factory, lines, k, block):
    from generator.site.api.focus_reuse import end_of_line

    k = min(k, len(lines))
    path = tmp_path_factory.mktemp("lines") / "part.csv"
    path.write_bytes(b"".join(lines))
    assert end_of_line(path, k, len(lines), block) == len(b"".join(lines[:k]))
    # Fewer lines than asked for, counted from the start or the end: no offset.
    assert end_of_line(path, len(lines) + 1, 2 * len(lines) + 2, block) is None
    assert end_of_line(path, 2 * len(lines) + 2, 3 * len(lines) + 3, block) is None
