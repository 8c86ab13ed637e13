"""Read and validate `site.toml` (SPEC §2.1).

pydantic models with `extra="forbid"` hold the typed config; every problem is
collected and reported at once with its key path and its line in site.toml.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
import types
import typing
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from generator.errors import ConfigError, Problem

Credits = Annotated[Decimal, Field(ge=0, max_digits=24, decimal_places=6)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SiteSection(Section):
    title: str
    base_url: str
    timezone: str = "UTC"
    cycle_start_day: int = Field(1, ge=1, le=28)
    as_of: dt.datetime | None = None
    output_dir: str = "public"
    theme: str = "default"
    content_dir: str = "content"
    currency: str | None = None  # ISO 4217 code; unset: money is shown as plain numbers

    @field_validator("currency")
    @classmethod
    def _iso_code(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Z]{3}", v):
            raise ValueError("must be an ISO 4217 code of three capital letters, such as 'EUR' or 'USD'")
        return v

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as 'Europe/Berlin')") from None
        return v

    @field_validator("base_url")
    @classmethod
    def _trailing_slash(cls, v: str) -> str:
        if not (v.startswith("/") or re.match(r"^https?://", v)):
            raise ValueError("must be an absolute URL or path, e.g. '/reports/' or 'https://intranet.example/reports/'")
        return v if v.endswith("/") else v + "/"


MEMORY_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


class DataSection(Section):
    exports: list[str] = Field(min_length=1)
    on_error: Literal["fail", "quarantine"] = "fail"
    memory_limit: str | None = None  # the most memory DuckDB may use (e.g. "8GB"); unset: sized to the machine

    @field_validator("memory_limit")
    @classmethod
    def _memory_size(cls, v: str | None) -> str | None:
        if v is not None and not MEMORY_SIZE.match(v):
            raise ValueError("must be a size with a unit, e.g. '8GB', '512MB' or '2GiB'")
        return v.strip() if v is not None else None


class Tier(Section):
    name: str = Field(min_length=1)
    monthly_credits: Annotated[Decimal, Field(gt=0, decimal_places=6)]
    monthly_price: Credits


class SubscriptionEntry(Section):
    from_: dt.date = Field(alias="from")
    tier: str


class Topup(Section):
    date: dt.date
    credits: Annotated[Decimal, Field(gt=0, decimal_places=6)]
    price: Credits


# Upper bounds that no real site reaches but that keep every figure finite (a notify level of 1e308
# or a burn window of 10**12 days would overflow the arithmetic instead of meaning anything).
SHARE_MAX = 10.0  # 1,000 % of the allocation
CYCLES_MAX = 1200  # a hundred years of monthly cycles


class Thresholds(Section):
    notify: list[Annotated[float, Field(gt=0, le=SHARE_MAX)]] = [0.5, 0.8, 0.9, 1.0]
    upgrade_utilization: float = Field(0.8, gt=0, le=SHARE_MAX)
    downgrade_utilization: float = Field(0.6, gt=0, le=SHARE_MAX)
    target_buffer: tuple[Annotated[float, Field(gt=0, le=SHARE_MAX)], Annotated[float, Field(gt=0, le=SHARE_MAX)]] = \
        (1.2, 1.3)
    baseline_cycles: int = Field(3, ge=2, le=CYCLES_MAX)
    growth_horizon_months: int = Field(6, ge=0, le=CYCLES_MAX)
    burn_window_days: int = Field(7, ge=1, le=366)
    spike_factor: float = Field(3.0, gt=0, le=1e6)

    @field_validator("notify")
    @classmethod
    def _sorted_unique(cls, v: list[float]) -> list[float]:
        return sorted(set(v))


class Budgets(Section):
    features: dict[str, Credits] = {}
    teams: dict[str, Credits] = {}


class Roi(Section):
    hourly_rate: Credits
    minutes_saved: dict[str, Annotated[float, Field(ge=0)]] = {}


class RecommendationAssumptions(Section):
    """Every assumption behind a savings estimate, an alert rule or the forecast (guides/recommendations)."""

    model_shift_share: float = Field(0.25, ge=0, le=1)  # expensive-model use that could move to the cheapest model
    min_monthly_savings: Credits = Decimal(1)  # smaller estimates are not listed
    regenerate_to_edit_share: float = Field(0.5, ge=0, le=1)  # regenerations a 1-credit edit could have replaced
    upscale_avoidable_share: float = Field(1.0, ge=0, le=1)  # upscales changed afterwards that need not have happened
    batch_share: float = Field(0.5, ge=0, le=1)  # repeated single generations that could have been one batch
    knowledge_avoidable_share: float = Field(0.25, ge=0, le=1)  # knowledge-base premium spent where it was not needed
    enhance_avoidable_share: float = Field(1.0, ge=0, le=1)  # enhancements of drafts later replaced
    short_conversation_responses: int = Field(2, ge=1)  # a conversation this short (or shorter) is "short"
    restart_window_minutes: float = Field(30, gt=0)  # a new conversation this soon after a short one is a restart
    restart_waste_share: float = Field(0.5, ge=0, le=1)  # of a restarted short conversation's credits
    pacing_spike_share: float = Field(0.5, ge=0, le=1)  # of spike days' credits above the usual day
    expiring_share: float = Field(0.1, ge=0, le=1)  # unused share of the allocation worth an alert
    expiring_usable_share: float = Field(0.5, ge=0, le=1)  # of expiring credits that could be put to use
    team_practice_share: float = Field(0.5, ge=0, le=1)  # of the gap to the best team that is closable
    team_practice_min_items: int = Field(20, ge=1)  # items an operation needs in a cycle to be compared
    forecast_fallback_spread: float = Field(0.3, gt=0)  # log spread when past cycles cannot calibrate the forecast


DEFAULT_FEATURE_LABELS = {"image": "Image Generation Studio", "compose": "Compose Documents", "chat": "Chat"}


class Labels(Section):
    """Display names for pages, charts and the feed; URLs and JSON keep the raw names."""

    features: dict[str, Annotated[str, Field(min_length=1)]] = {}
    teams: dict[str, Annotated[str, Field(min_length=1)]] = {}


class PlanSection(Section):
    topup_price_per_credit: Annotated[Decimal, Field(ge=0, max_digits=24, decimal_places=9)] | None = None
    horizon_months: int = Field(12, ge=1, le=60)


class Publish(Section):
    target: str | None = None
    keep: int = Field(5, ge=1)


class SiteConfig(Section):
    site: SiteSection
    data: DataSection
    tiers: list[Tier] = Field(min_length=1)
    subscription: list[SubscriptionEntry] = Field(min_length=1)
    topups: list[Topup] = []
    thresholds: Thresholds = Thresholds()
    budgets: Budgets = Budgets()
    teams: dict[str, str] = {}
    labels: Labels = Labels()
    plan: PlanSection = PlanSection()
    roi: Roi | None = None
    recommendations: RecommendationAssumptions = RecommendationAssumptions()
    publish: Publish = Publish()

    _path: Path = PrivateAttr(default=Path("site.toml"))

    @property
    def path(self) -> Path:
        return self._path

    @property
    def root(self) -> Path:
        """Directory that relative paths in site.toml are resolved against."""
        return self._path.parent

    @property
    def cache_dir(self) -> Path:
        """Where builds keep what they can reuse (`.creditwise/cache/` beside site.toml); safe to delete."""
        return self.root / ".creditwise" / "cache"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.site.timezone)

    @property
    def as_of_override(self) -> dt.datetime | None:
        """`[site].as_of` as an aware instant; a naive value is read in the site timezone."""
        a = self.site.as_of
        if a is None:
            return None
        return a.replace(tzinfo=self.tz) if a.tzinfo is None else a

    def feature_label(self, name: str) -> str:
        """The display name of a feature: `[labels].features`, else the built-in one, else the raw name."""
        return self.labels.features.get(name) or DEFAULT_FEATURE_LABELS.get(name, name)

    def team_label(self, name: str) -> str:
        return self.labels.teams.get(name, name)

    def scope_label(self, scope: str) -> str:
        """"feature:image" → "Image Generation Studio"; "team:rnd" → its label; "subscription" → "Subscription"."""
        kind, _, name = scope.partition(":")
        if kind == "feature":
            return self.feature_label(name)
        if kind == "team":
            return self.team_label(name)
        return "Whole subscription" if scope == "subscription" else scope

    def tier(self, name: str) -> Tier:
        return next(t for t in self.tiers if t.name == name)

    def output_path(self, override: str | Path | None = None) -> Path:
        return self.root / (override if override is not None else self.site.output_dir)


# --- loading -----------------------------------------------------------------------------


def load_config(path: str | Path) -> SiteConfig:
    """Read, parse and validate site.toml; raise ConfigError listing every problem."""
    path = Path(path)
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        hint = "no such file (pass --config PATH, or run from the site's folder)"
        raise ConfigError([Problem(shown, None, "", hint)]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(shown, None, "", f"cannot read: {exc}")]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line = int(m.group(1)) if m else None
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError([Problem(shown, line, "", f"not valid TOML: {reason}")]) from None

    lines = key_lines(text)
    try:
        config = SiteConfig.model_validate(raw)
    except ValidationError as exc:
        problems = [_problem_from_pydantic(err, shown, lines) for err in exc.errors()]
        raise ConfigError(problems) from None
    problems = [Problem(shown, _line_for(key, lines), key, reason) for key, reason in cross_reference_problems(config)]
    if problems:
        raise ConfigError(problems)
    config._path = path.resolve()
    return config


def cross_reference_problems(config: SiteConfig) -> list[tuple[str, str]]:
    """Checks that span keys: names that must exist, histories that must be ordered."""
    out: list[tuple[str, str]] = []
    names = [t.name for t in config.tiers]
    for i, name in enumerate(names):
        if name in names[:i]:
            out.append((f"tiers[{i}].name", f"tier {name!r} is defined twice"))
    for i, entry in enumerate(config.subscription):
        if entry.tier not in names:
            hint = _did_you_mean(entry.tier, names)
            out.append((f"subscription[{i}].tier", f"unknown tier {entry.tier!r}{hint}; tiers are {', '.join(map(repr, names))}"))
        if i and entry.from_ <= config.subscription[i - 1].from_:
            prev = config.subscription[i - 1].from_
            what = "overlaps" if entry.from_ == prev else "is earlier than"
            reason = f"{entry.from_} {what} the previous entry ({prev}); list the tier history oldest first, one entry per date"
            out.append((f"subscription[{i}].from", reason))
    lo, hi = config.thresholds.target_buffer
    if lo > hi:
        out.append(("thresholds.target_buffer", f"lower bound {lo} is above upper bound {hi}"))
    if config.thresholds.downgrade_utilization > config.thresholds.upgrade_utilization:
        out.append(("thresholds.downgrade_utilization", "must not exceed thresholds.upgrade_utilization"))
    return out


def _problem_from_pydantic(err: dict, file: str, lines: dict[str, int]) -> Problem:
    loc = tuple(err["loc"])
    key = _key_path(loc)
    kind = err["type"]
    if kind == "missing":
        reason = "required key is missing"
    elif kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        reason = f"unknown key{_did_you_mean(str(loc[-1]), allowed)}"
    else:
        reason = err["msg"].removeprefix("Value error, ")
        if "input" in err and not isinstance(err["input"], (dict, list)):
            reason += f" (got {err['input']!r})"
    return Problem(file, _line_for(key, lines), key, reason)


def _key_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _allowed_keys(loc: tuple) -> list[str]:
    """Field names (by alias) of the model found at `loc` below SiteConfig."""
    tp: typing.Any = SiteConfig
    for part in loc:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part)) or next((f for f in tp.model_fields.values() if f.alias == part), None)
            if field is None:
                return []
            tp = field.annotation
        else:
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[-1] if args else None
        while typing.get_origin(tp) in (typing.Union, types.UnionType):
            tp = next(a for a in typing.get_args(tp) if a is not type(None))
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or n for n, f in tp.model_fields.items()]
    return []


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- line numbers ------------------------------------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
_KEY = re.compile(r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*=""")


def key_lines(text: str) -> dict[str, int]:
    """Map key paths (`tiers[1].name`, `site.title`) to their 1-based line in site.toml.

    tomllib keeps no positions, so we walk the lines ourselves: headers set the current table
    (array-of-tables headers count their entries), `key =` lines add a path under it.
    """
    paths: dict[str, int] = {}
    counts: dict[str, int] = {}
    table = ""
    in_multiline = False
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            in_multiline = line.count('"""') % 2 == 0 and line.count("'''") % 2 == 0
            continue
        m = _HEADER.match(line)
        if m and not _KEY.match(line):
            name = _unquote_dotted(m.group(2))
            if m.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
                table = f"{name}[{counts[name]}]"
            else:
                table = name
            paths.setdefault(table, number)
            continue
        k = _KEY.match(line)
        if k:
            key = _unquote_dotted(k.group(1))
            paths.setdefault(f"{table}.{key}" if table else key, number)
            rest = line[k.end():]
            if rest.count('"""') % 2 or rest.count("'''") % 2:
                in_multiline = True
    return paths


def _unquote_dotted(dotted: str) -> str:
    parts = re.findall(r""""[^"]*"|'[^']*'|[^.\s]+""", dotted)
    return ".".join(p.strip("\"'") for p in parts)


def _line_for(key: str, lines: dict[str, int]) -> int | None:
    """The line of `key`, or of the nearest enclosing key or table that has one."""
    probe = key
    while probe:
        if probe in lines:
            return lines[probe]
        probe = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", probe) if re.search(r"(\.[^.\[]*|\[\d+\])$", probe) else ""
    return None
