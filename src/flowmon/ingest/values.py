"""Parse users' values into canonical codes, one distinct value at a time.

Every parser works on the distinct values of a column (:func:`parse_column`), so a million rows of a few
thousand distinct values cost a few thousand Python calls. A parser returns ``(value, problem)``: a canonical
value (None for missing, which the schema then judges) or a problem, the reason the value is rejected. A value
that is present but not recognised is always a problem, never a guess; blank and ``-99`` mean unknown.

Dates: ISO (``2024-03-25``), numeric day/month/year with ``/``, ``-`` or ``.`` (``25/03/2024``, ``25-03-24``),
month names (``5-Mar-24``, ``5 March 2024``, ``Mar 5, 2024``), Excel serial numbers (``45376``) and real
dates from XLSX cells. Whether ``03/04/2024`` is the 3rd of April or the 4th of March is decided once per
column (:func:`date_order`): a value with a first number above 12 shows day/month, one with a second number
above 12 shows month/day. With no evidence either way the column is read day/month (Sudan's convention) and a
note says so; a column with evidence both ways has its undecidable values rejected.

Ages: years (``34``) give the age group; groups (``18-59``) and CTDC ranges (``18--20``, ``48+``) give the
group that holds the whole range, and ``unknown`` when the range straddles 17/18 or 59/60 (``48+`` may be
over 60 or not): the value is understood, the group is simply not known.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import pycountry

from flowmon import geo, schema
from flowmon.ingest import columns

Parsed = tuple[object, str | None]

# ---------------------------------------------------------------- column-wise application


@dataclass
class ParsedColumn:
    values: pd.Series  # canonical values (object), None where missing or rejected
    problems: pd.Series  # reason per row, NA where fine


def parse_column(raw: pd.Series, parse: Callable[[object], Parsed]) -> ParsedColumn:
    """Apply ``parse`` to each distinct value of ``raw`` and spread the results back over the rows."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    results = [parse(value) for value in uniques]
    missing = parse(None)
    parsed = np.empty(len(results) + 1, dtype=object)
    reasons = np.empty(len(results) + 1, dtype=object)
    for i, (value, problem) in enumerate([*results, missing]):
        parsed[i], reasons[i] = value, problem
    take = np.where(codes < 0, len(results), codes)
    return ParsedColumn(
        values=pd.Series(parsed[take], index=raw.index, dtype=object),
        problems=pd.Series(reasons[take], index=raw.index, dtype=object),
    )


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def text_of(value: object) -> str:
    """A cell as text: ``34.0`` from a spreadsheet reads ``34``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _is_unknown(value: object) -> bool:
    return is_blank(value) or columns.normalise_value(value) in columns.unknown_tokens()


# ---------------------------------------------------------------- record ids, counts


def parse_record_id(value: object) -> Parsed:
    return (None, None) if is_blank(value) else (text_of(value), None)


def parse_record_ids(raw: pd.Series) -> ParsedColumn:
    """Record ids are nearly all distinct: text columns are stripped in one vectorised step."""
    if raw.dtype == object:
        return parse_column(raw, parse_record_id)
    stripped = raw.str.strip()
    return ParsedColumn(
        values=stripped.astype(object).where(stripped != "", None),
        problems=pd.Series(None, index=raw.index, dtype=object),
    )


def parse_count(value: object) -> Parsed:
    """A whole number (``1,200`` and ``1 200`` read as 1200); the schema judges its range."""
    if is_blank(value):
        return None, None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        text = re.sub(r"(?<=\d)[,\s](?=\d{3}\b)", "", text_of(value))
        try:
            number = float(text)
        except ValueError:
            return None, "not a number"
    if not math.isfinite(number) or not number.is_integer():
        return None, "not a whole number"
    return int(number), None


# ---------------------------------------------------------------- codes through synonyms


def parse_coded(field: str, stream: str, *, blank: str | None) -> Callable[[object], Parsed]:
    """A parser for a field with a fixed vocabulary: canonical values (any case) and synonyms.

    ``blank`` is what blank and unknown values become (None: missing, judged by the schema).
    """
    synonyms = columns.value_map(field, stream)
    vocabulary = {columns.normalise(v): v for v in _vocabulary(field, stream)}
    unknown = columns.unknown_tokens()

    def parse(value: object) -> Parsed:
        if is_blank(value):
            return blank, None
        key = columns.normalise_value(value)
        if key in synonyms:
            return synonyms[key] or None, None
        if key in vocabulary:
            return vocabulary[key], None
        if key in unknown:
            return blank, None
        return None, f"not a known {field.replace('_', ' ')} ({', '.join(_vocabulary(field, stream))})"

    return parse


def _vocabulary(field: str, stream: str) -> tuple[str, ...]:
    if field == "category":
        return schema.CATEGORIES[stream]
    return tuple(v for v in schema.vocabulary(field) if v != "unknown" or field == "sex")


# ---------------------------------------------------------------- places


_PCODE = re.compile(r"^SD\d{2}$", re.IGNORECASE)


def parse_state(value: object) -> Parsed:
    """A state pcode (``SD01``) or a state name in a spelling the gazetteer knows (fuzzy matches rejected)."""
    if _is_unknown(value):
        return None, None
    text = text_of(value)
    if _PCODE.match(text):
        code = text.upper()
        return (code, None) if code in schema.STATE_PCODES else (None, "not a state pcode (SD01-SD19)")
    match = geo.to_pcode(text)
    if match is None:
        return None, "not a known state name"
    if match.kind == "fuzzy":
        name = _state_name(match.pcode)
        return (
            None,
            f"not a known state name (closest: {name}, {match.pcode}; add the spelling to the aliases)",
        )
    return match.pcode, None


def _state_name(pcode: str) -> str:
    table = geo.states()
    return str(table.loc[table["pcode"] == pcode, "name_en"].iloc[0])


def parse_office(value: object) -> Parsed:
    if _is_unknown(value):
        return None, None
    code = geo.office_code(text_of(value))
    if code is None:
        return None, "not an office (a code or name of geo/offices.csv)"
    return code, None


@cache
def _country_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            name = getattr(country, attribute, None)
            if name:
                index[columns.normalise(name)] = country.alpha_3
                # "Korea, Republic of" is also written "Republic of Korea"
                if "," in name:
                    head, tail = (part.strip() for part in name.split(",", 1))
                    index.setdefault(columns.normalise(f"{tail} {head}"), country.alpha_3)
    for code in (c.alpha_2 for c in pycountry.countries):
        index.pop(columns.normalise(code), None)  # two-letter codes are handled case-exactly below
    return index


@cache
def _alpha_codes() -> tuple[dict[str, str], frozenset[str]]:
    alpha2 = {c.alpha_2: c.alpha_3 for c in pycountry.countries}
    return alpha2, frozenset(c.alpha_3 for c in pycountry.countries)


def parse_country(*, blank: str | None) -> Callable[[object], Parsed]:
    """ISO 3166-1 alpha-2 or alpha-3 codes (any case), English names, and the synonyms (demonyms, Arabic)."""
    synonyms = columns.value_map("nationality", "")

    def parse(value: object) -> Parsed:
        if _is_unknown(value):
            return (blank if is_blank(value) else schema.UNKNOWN_COUNTRY), None
        key = columns.normalise_value(value)
        if key in synonyms:
            return synonyms[key], None
        text = text_of(value).upper()
        alpha2, alpha3 = _alpha_codes()
        if text in alpha3 or text == schema.UNKNOWN_COUNTRY:
            return text, None
        if text in alpha2:
            return alpha2[text], None
        if key in _country_index():
            return _country_index()[key], None
        return None, "not a country (ISO 3166 code or English name)"

    return parse


# ---------------------------------------------------------------- ages


_RANGE = re.compile(r"^(\d{1,3})\s*(?:-{1,2}|–|to)\s*(\d{1,3})$")
_PLUS = re.compile(r"^(\d{1,3})\s*(?:\+|and above|and over|or more)$")
_UNDER = re.compile(r"^(?:<|under|below|less than)\s*(\d{1,3})$")
MAX_AGE = 120


def _group_of_range(low: float, high: float) -> str:
    for group, (start, end) in {"0-17": (0, 17), "18-59": (18, 59), "60+": (60, math.inf)}.items():
        if start <= low and high <= end:
            return group
    return "unknown"


def parse_age(value: object) -> Parsed:
    if _is_unknown(value):
        return "unknown", None
    if isinstance(value, int | float) and not isinstance(value, bool):
        years = float(value)
    else:
        text = text_of(value).casefold()
        synonyms = columns.value_map("age", "")
        key = columns.normalise_value(text)
        if key in synonyms:
            return synonyms[key], None
        if text in schema.AGE_GROUPS:
            return text, None
        if match := _RANGE.match(text):
            low, high = int(match[1]), int(match[2])
            if low > high or high > MAX_AGE:
                return None, "not an age range"
            return _group_of_range(low, high), None
        if match := _PLUS.match(text):
            return _group_of_range(int(match[1]), math.inf), None
        if match := _UNDER.match(text):
            return _group_of_range(0, int(match[1]) - 1), None
        try:
            years = float(text)
        except ValueError:
            return None, "not an age (years, an age group or a range)"
    if not 0 <= years <= MAX_AGE:
        return None, f"age outside 0..{MAX_AGE} years"
    return _group_of_range(math.floor(years), math.floor(years)), None


# ---------------------------------------------------------------- dates

DMY, MDY = "DMY", "MDY"
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_NUMERIC = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})(?: \d{1,2}:\d{2}(?::\d{2})?)?$")
_DAY_MONTH_NAME = re.compile(r"^(\d{1,2})[-\s/]+([A-Za-z]{3,9})\.?[-\s/,]+(\d{4}|\d{2})$")
_MONTH_NAME_DAY = re.compile(r"^([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})$")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
_MONTHS = {
    name: number
    for number in range(1, 13)
    for name in (
        dt.date(2000, number, 1).strftime("%b").lower(),
        dt.date(2000, number, 1).strftime("%B").lower(),
    )
}
_MONTHS["sept"] = 9
# Excel's day zero (it counts 1900-02-29, which did not exist, so serials from March 1900 on start here).
EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_SERIALS = (25569, 73051)  # 1970-01-01 .. 2100-01-01: numbers outside are not dates


def _year(text: str) -> int:
    year = int(text)
    return year if len(text) == 4 else (2000 + year if year < 69 else 1900 + year)


def _date(year: int, month: int, day: int) -> pd.Timestamp | None:
    try:
        return pd.Timestamp(dt.date(year, month, day))
    except ValueError:
        return None


def _serial(number: float) -> Parsed:
    if not EXCEL_SERIALS[0] <= number < EXCEL_SERIALS[1]:
        return None, "not a date"
    return pd.Timestamp(EXCEL_EPOCH + dt.timedelta(days=math.floor(number))), None


def date_evidence(values: pd.Series) -> tuple[int, int]:
    """How many distinct numeric dates can only be day/month, and how many only month/day."""
    day_first = month_first = 0
    for value in pd.unique(values):
        if isinstance(value, str) and (match := _NUMERIC.match(value.strip())):
            first, second = int(match[1]), int(match[2])
            day_first += first > 12 >= second
            month_first += second > 12 >= first
    return day_first, month_first


def date_order(values: pd.Series, forced: str | None = None) -> tuple[str, bool, str | None]:
    """``(order, mixed, note)`` for a date column: the order to read ``a/b/yyyy`` in, whether the column has
    evidence both ways (then undecidable values are rejected) and a note for the user when it matters."""
    if forced:
        return forced, False, None
    day_first, month_first = date_evidence(values)
    if day_first and month_first:
        return (
            DMY,
            True,
            f"dates are written both day/month ({day_first} values) and month/day ({month_first} values); "
            "dates that could be either are rejected",
        )
    if month_first:
        return (
            MDY,
            False,
            f"dates read as month/day/year ({month_first} values have a second number above 12)",
        )
    if day_first:
        return DMY, False, None
    ambiguous = any(
        isinstance(v, str) and (m := _NUMERIC.match(v.strip())) and m[1] != m[2] for v in pd.unique(values)
    )
    note = (
        "no date shows whether it is day/month or month/day: read as day/month/year (Sudan's convention); "
        "use --date-order MDY if that is wrong"
        if ambiguous
        else None
    )
    return DMY, False, note


def parse_date(order: str = DMY, mixed: bool = False) -> Callable[[object], Parsed]:
    def parse(value: object) -> Parsed:
        if is_blank(value):
            return None, None
        if isinstance(value, pd.Timestamp | dt.datetime):
            return pd.Timestamp(value).normalize(), None
        if isinstance(value, dt.date):
            return pd.Timestamp(value), None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _serial(float(value))
        text = str(value).strip()
        if match := _ISO.match(text):
            found = _date(int(match[1]), int(match[2]), int(match[3]))
            return (found, None) if found is not None else (None, "not a valid date")
        if match := _NUMERIC.match(text):
            first, second, year = int(match[1]), int(match[2]), _year(match[3])
            if mixed and first <= 12 and second <= 12 and first != second:
                return None, "day and month cannot be told apart (this column has both orders)"
            if mixed and (first > 12 or second > 12):
                day, month = (first, second) if first > 12 else (second, first)
            else:
                day, month = (first, second) if order == DMY else (second, first)
            found = _date(year, month, day)
            if found is None:
                how = "day/month/year" if order == DMY else "month/day/year"
                return None, f"not a valid date (read as {how})"
            return found, None
        if match := _DAY_MONTH_NAME.match(text):
            month = _MONTHS.get(match[2].lower())
            found = month and _date(_year(match[3]), month, int(match[1]))
            return (found, None) if found else (None, "not a valid date")
        if match := _MONTH_NAME_DAY.match(text):
            month = _MONTHS.get(match[1].lower())
            found = month and _date(int(match[3]), month, int(match[2]))
            return (found, None) if found else (None, "not a valid date")
        if _SERIAL.match(text):
            return _serial(float(text))
        return None, "not a date"

    return parse


_TITLE_NUMERIC = re.compile(r"(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?!\d)")
_TITLE_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_TITLE_MONTH = re.compile(r"\b([A-Za-z]{3,9})[\s\-_]+(\d{4})\b")


def date_in_text(text: str) -> pd.Timestamp | None:
    """The first date written in a title or file name: ``25-03-2024``, ``2024-03-25`` or ``March 2024``."""
    if match := _TITLE_ISO.search(text):
        found = _date(int(match[1]), int(match[2]), int(match[3]))
        if found is not None:
            return found
    if match := _TITLE_NUMERIC.search(text):
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        day, month = (second, first) if second > 12 >= first else (first, second)
        found = _date(year, month, day)
        if found is not None:
            return found
    for match in _TITLE_MONTH.finditer(text):
        month = _MONTHS.get(match[1].lower())
        if month:
            return _date(int(match[2]), month, 1)
    return None


def combine_states(by_code: pd.Series | None, by_name: pd.Series | None) -> tuple[pd.Series, pd.Series]:
    """The state from a pcode column where it has one, else from a name column, and the rows where both
    are given and disagree (those are rejected: which one is right cannot be told)."""
    if by_code is None or by_name is None:
        chosen = by_code if by_code is not None else by_name
        return chosen, pd.Series(False, index=chosen.index)
    disagree = by_code.notna() & by_name.notna() & (by_code != by_name)
    return by_code.where(by_code.notna(), by_name), disagree
