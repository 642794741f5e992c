"""What a viewer can ask for: the one definition of the filters, their URL names, formats and choices.

``Filters`` is the query a dashboard session, a link, ``flowmon export`` and a notebook all speak. Its field
table (``FIELDS``) is the only list of filter names: the URL, the widgets, the CLI options and the exports
derive from it.

The query space is bounded on purpose (see the README's privacy section): a period is one calendar month,
quarter, half-year or year, never an arbitrary range of months, and office, state, nationality, sex, age
group, crossing point and direction are each one value or all. Any two allowed views then differ by whole
calendar periods or whole groups, so averaging many differences cannot wear the protection's noise away (a
month could otherwise be isolated by dozens of pairs of ranges, a nationality by "all" minus "all but one").
Old links with ``start``/``end`` or several values are mapped to the nearest allowed view, with a notice
that says so (``resolve``).

Cross-border movements (``stream=crossing``, ``flowmon.crossings``) are a stream a viewer opts into: "all
streams" (no ``stream``) stays the case streams and displacement, as every link made before crossings
existed meant. ``point`` and ``direction`` select crossings only, so they are kept only when crossings are
shown.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from flowmon import schema

PeriodKind = Literal["month", "quarter", "half", "year"]
PERIOD_KINDS: tuple[PeriodKind, ...] = ("month", "quarter", "half", "year")
GRANULARITIES = {"month": "M", "quarter": "Q", "year": "Y"}
INDICATOR_STREAM = {
    "caseload": "caseload",
    "return": "return",
    "referral": "referral",
    "displacement_in": "displacement",
    "displacement_out": "displacement",
    "crossing": schema.CROSSING,
}
INDICATORS = tuple(INDICATOR_STREAM)
# Every stream a view may select; "all" (none selected) is ``schema.ALL_STREAMS``, without crossings.
STREAM_CHOICES = (*schema.ALL_STREAMS, schema.CROSSING)
# Filters of the crossings table only (``flowmon.crossings``), not of events or flows.
CROSSING_NAMES = ("point", "direction")

_PERIOD_TEXT = {
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "half": re.compile(r"^(\d{4})-H([12])$"),
    "year": re.compile(r"^(\d{4})$"),
}


@dataclass(frozen=True)
class Field:
    """One filter: its URL/attribute name, the events column it selects, whether it takes several values."""

    name: str
    column: str | None
    several: bool = False
    help: str = ""


FIELDS: tuple[Field, ...] = (
    Field("period", None, help="a month (2025-07), quarter (2025-Q3), half-year (2025-H1) or year (2025)"),
    Field("office", "office", help="one office code (KRT) or all"),
    Field(
        "stream",
        "stream",
        several=True,
        help="streams, comma-separated (return,referral; crossing: cross-border movements) or all",
    ),
    Field("state", "state_pcode", help="one state pcode (SD01) or all"),
    Field("nationality", "nationality", help="one nationality (ISO3: ERI) or all"),
    Field("sex", "sex", help="female, male, unknown or all"),
    Field("age_group", "age_group", help="0-17, 18-59, 60+, unknown or all"),
    Field("point", "point", help="one crossing point code (ARG) or all; with stream=crossing"),
    Field("direction", "direction", help="in, out, transit or all; with stream=crossing"),
    Field("granularity", None, help="the trend by month, quarter or year"),
    Field("indicator", None, help="what the map shows: " + ", ".join(INDICATORS)),
)
NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
# Not filters, but URL state of the page itself.
PAGE_NAMES = ("present", "lang")
# Old links (before periods were calendar periods) still open, mapped to the nearest allowed view.
LEGACY_NAMES = ("start", "end")


# ------------------------------------------------------------------------------------------------ periods


def period_kind(token: str) -> PeriodKind:
    """``"2025-Q3"`` -> ``"quarter"``; ValueError naming the format when the text is no calendar period."""
    for kind, pattern in _PERIOD_TEXT.items():
        if pattern.match(token):
            return kind
    raise ValueError(
        f"period: {token!r} is not a calendar period (a month 2025-07, quarter 2025-Q3, half-year 2025-H1 "
        "or year 2025)"
    )


def period_span(token: str) -> tuple[pd.Period, pd.Period]:
    """The first and last month of a calendar period."""
    kind = period_kind(token)
    match = _PERIOD_TEXT[kind].match(token)
    year = int(match.group(1))
    if kind == "month":
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"period: {token!r} has no month {month}")
        first = last = month
    elif kind == "quarter":
        first = 3 * int(match.group(2)) - 2
        last = first + 2
    elif kind == "half":
        first = 6 * int(match.group(2)) - 5
        last = first + 5
    else:
        first, last = 1, 12
    return pd.Period(year=year, month=first, freq="M"), pd.Period(year=year, month=last, freq="M")


def period_of(kind: PeriodKind, month: pd.Period) -> str:
    """The calendar period of ``kind`` that holds ``month``."""
    if kind == "month":
        return str(month)
    if kind == "quarter":
        return f"{month.year}-Q{(month.month - 1) // 3 + 1}"
    if kind == "half":
        return f"{month.year}-H{(month.month - 1) // 6 + 1}"
    return str(month.year)


def previous_period(token: str) -> str:
    """The period of the same kind just before: 2025-Q1 -> 2024-Q4, 2025 -> 2024."""
    start, _ = period_span(token)
    return period_of(period_kind(token), start - 1)


def periods(months: Iterable[str]) -> dict[PeriodKind, list[str]]:
    """Every calendar period that holds at least one of ``months`` (``"YYYY-MM"``), oldest first, per kind."""
    months = [pd.Period(m, "M") for m in months]
    return {kind: list(dict.fromkeys(period_of(kind, m) for m in months)) for kind in PERIOD_KINDS}


def enclosing_period(start: pd.Period, end: pd.Period) -> str:
    """The smallest calendar period holding both months (the year of ``end`` when they span two years)."""
    for kind in PERIOD_KINDS:
        if period_of(kind, start) == period_of(kind, end):
            return period_of(kind, end)
    return str(end.year)


# ------------------------------------------------------------------------------------------------ Filters


@dataclass(frozen=True)
class Filters:
    """One view's query. ``None`` (or an empty ``stream``) means all; values are checked on construction.

    ``period`` None means the dataset's default (its latest year), filled in by ``resolve``.
    """

    period: str | None = None
    office: str | None = None
    stream: tuple[str, ...] = ()
    state: str | None = None
    nationality: str | None = None
    sex: str | None = None
    age_group: str | None = None
    point: str | None = None
    direction: str | None = None
    granularity: str = "month"
    indicator: str = "caseload"

    def __post_init__(self) -> None:
        if self.period is not None:
            period_span(self.period)  # raises on a malformed period
        streams = (self.stream,) if isinstance(self.stream, str) else tuple(self.stream or ())
        _check("stream", streams, STREAM_CHOICES)
        object.__setattr__(self, "stream", tuple(s for s in STREAM_CHOICES if s in streams))
        for f in FIELDS:
            if f.column and not f.several:
                value = getattr(self, f.name)
                if value is not None:
                    _check(f.name, (value,), _vocabulary(f.column))
        _check("granularity", (self.granularity,), tuple(GRANULARITIES))
        _check("indicator", (self.indicator,), INDICATORS)

    # --- the URL ------------------------------------------------------------------------------------
    def to_query(self) -> dict[str, str]:
        """URL names and values; what is left at its default is omitted."""
        default = Filters()
        query = {}
        for name in NAMES:
            value = getattr(self, name)
            if value != getattr(default, name):
                query[name] = ",".join(value) if isinstance(value, tuple) else str(value)
        return query

    @classmethod
    def from_query(cls, query: Mapping[str, str | Iterable[str]]) -> Filters:
        """Strictly from URL names: one value where one is allowed (ValueError naming the filter otherwise).

        ``resolve`` is the lenient path for links, which maps old or over-wide links to an allowed view.
        """
        unknown = sorted(set(query) - set(NAMES) - set(PAGE_NAMES))
        if unknown:
            raise ValueError(f"unknown filter {unknown[0]!r} (expected {', '.join(NAMES)})")
        values = {}
        for f in FIELDS:
            parts = _split(query.get(f.name))
            if not parts:
                continue
            if f.several:
                values[f.name] = parts
            elif len(parts) > 1:
                raise ValueError(f"{f.name}: one value or all ({', '.join(parts)} given)")
            else:
                values[f.name] = parts[0]
        return cls(**values)

    def replace(self, **changes) -> Filters:
        return dataclasses.replace(self, **changes)

    # --- what it selects ------------------------------------------------------------------------------
    @property
    def map_stream(self) -> str:
        return INDICATOR_STREAM[self.indicator]

    @property
    def freq(self) -> str:
        return GRANULARITIES[self.granularity]

    def streams(self) -> tuple[str, ...]:
        """The selected streams (all but crossings when none is), in canonical order; crossings also when
        the map shows them."""
        chosen = self.stream or schema.ALL_STREAMS
        if self.map_stream == schema.CROSSING and schema.CROSSING not in chosen:
            chosen = (*chosen, schema.CROSSING)
        return chosen

    @property
    def crossings(self) -> bool:
        """Whether the view shows cross-border movements."""
        return schema.CROSSING in self.streams()

    def case_streams(self) -> tuple[str, ...]:
        """The streams of events and flows the view selects (``flowmon.aggregate``'s), crossings apart."""
        return tuple(s for s in self.streams() if s != schema.CROSSING)


def _vocabulary(column: str) -> tuple[str, ...]:
    return STREAM_CHOICES if column == "stream" else schema.vocabulary(column)


def _check(name: str, values: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        shown = ", ".join(allowed) if len(allowed) <= 20 else f"{len(allowed)} known codes"
        raise ValueError(f"{name}: unknown value {unknown[0]!r} (expected {shown})")


def _split(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    # A URL's query may arrive parsed (Panel reads ``period=2024`` as the number 2024).
    parts = list(value) if isinstance(value, list | tuple | set) else [value]
    return tuple(dict.fromkeys(p.strip() for part in parts for p in str(part).split(",") if p.strip()))


def parse_query(text: str) -> dict[str, str]:
    """``"office=KRT&period=2024"`` (or a whole URL, or ``?...``) as ``{"office": "KRT", ...}``.

    A name given twice keeps its values joined by commas. Page settings (``present``, ``lang``) are kept;
    an unknown name is an error, so that a typo is not ignored.
    """
    text = text.strip()
    if "://" in text or text.startswith("/"):
        text = urlsplit(text).query
    parsed = parse_qs(text.lstrip("?"), keep_blank_values=False)
    known = set(NAMES) | set(PAGE_NAMES) | set(LEGACY_NAMES)
    unknown = sorted(set(parsed) - known)
    if unknown:
        raise ValueError(f"unknown filter {unknown[0]!r} (expected {', '.join(NAMES)})")
    return {name: ",".join(values) for name, values in parsed.items()}


# ------------------------------------------------------------------------------------------------ resolve


@dataclass(frozen=True)
class Choices:
    """What a dataset lets a viewer choose: its months, periods, and the values with enough records."""

    months: tuple[str, ...]
    periods: Mapping[str, list[str]]
    nationalities: tuple[str, ...]
    offices: tuple[str, ...] = ()

    @property
    def default_period(self) -> str | None:
        """The latest year with data: what a page opens on."""
        years = self.periods.get("year") or []
        return years[-1] if years else None


def resolve(query: Mapping[str, str | Iterable[str]], choices: Choices) -> tuple[Filters, list[str]]:
    """A link's query as the nearest allowed ``Filters``, and one notice per thing that had to change.

    Lenient where ``Filters.from_query`` is strict: ``start``/``end`` become the calendar period that holds
    them, several values where one is allowed keep the first, a period without data becomes the default,
    a value that is not offered is dropped. Unknown names and values still raise ValueError.
    """
    query = {k: v for k, v in query.items() if _split(v) and k not in PAGE_NAMES}
    notices: list[str] = []
    unknown = sorted(set(query) - set(NAMES) - set(LEGACY_NAMES))
    if unknown:
        raise ValueError(f"unknown filter {unknown[0]!r} (expected {', '.join(NAMES)})")
    legacy = {name: _split(query.pop(name, None)) for name in LEGACY_NAMES}
    if (legacy["start"] or legacy["end"]) and "period" not in query:
        start = pd.Period(_month_text(legacy["start"][-1] if legacy["start"] else legacy["end"][-1]), "M")
        end = pd.Period(_month_text(legacy["end"][-1] if legacy["end"] else legacy["start"][-1]), "M")
        start, end = min(start, end), max(start, end)
        query["period"] = enclosing_period(start, end)
        notices.append(
            f"The link asked for {start} to {end}; views are calendar months, quarters, half-years or years: "
            f"showing {query['period']}."
        )
    for f in FIELDS:
        parts = _split(query.get(f.name))
        if not f.several and len(parts) > 1:
            query[f.name] = parts[0]
            notices.append(f"One {f.name.replace('_', ' ')} or all: showing {parts[0]} only.")
    filters = Filters.from_query(query)
    if filters.period is not None and filters.period not in choices.periods.get(
        period_kind(filters.period), []
    ):
        notices.append(f"No data for {filters.period}: showing {choices.default_period}.")
        filters = filters.replace(period=None)
    if filters.nationality is not None and filters.nationality not in choices.nationalities:
        notices.append(
            f"Nationality {filters.nationality} is not offered (too few records to show safely): showing all."
        )
        filters = filters.replace(nationality=None)
    for name in CROSSING_NAMES:
        value = getattr(filters, name)
        if value is not None and not filters.crossings:
            notices.append(
                f"{name.capitalize()} {value} selects cross-border movements only (stream=crossing): ignored."
            )
            filters = filters.replace(**{name: None})
    if filters.office is not None and choices.offices and filters.office not in choices.offices:
        notices.append(f"Office {filters.office} is not among the offices you may see: showing all of yours.")
        filters = filters.replace(office=None)
    if filters.period is None:
        filters = filters.replace(period=choices.default_period)
    return filters, notices


def _month_text(text: str) -> str:
    if not re.match(r"^\d{4}-\d{2}(-\d{2})?$", text):
        raise ValueError(f"start/end: {text!r} is not a month (YYYY-MM)")
    return text[:7]
