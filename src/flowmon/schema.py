"""The canonical tables: their columns, dtypes and vocabularies, and ``validate``.

Two tables hold everything flowmon knows (DESIGN.md, "Canonical tables"):

- ``events``: one row per case event (or per count of identical events) of the three programme streams;
- ``crossings``: people counted passing a flow monitoring point or border crossing (DTM flow monitoring
  registries): per day (or per month, dated its first day), point, direction, nationality, sex, age group,
  origin and intended destination (a country's ISO3 code or a state pcode), means of transport and source;
- ``flows``: displacement from one state to another, per DTM round; and displacement stocks (IDPs present
  in a state at a round, DTM API and HDX stock files), whose ``origin_pcode`` is missing when the source does
  not say where the people came from (unknown origin: such rows count for the state of displacement and the
  totals, never as an origin -> destination pair). A stock's ``source`` names its operation and round
  (``DTM API: <operation>, round <n>, <YYYY-MM-DD>``, see ``flowmon.ingest.stocks.parse_source``); each round
  is a source with one date, so of several rounds only the latest counts (``flowmon.aggregate``).

``validate(df, table)`` returns the rows that conform, cast to the canonical dtypes, and a rejection table
with one row per failing cell: ``row`` (the input's index label, which readers set to the row number the
user sees in the file), ``column``, ``value`` and ``reason``. A row with any failing cell is rejected whole;
nothing is dropped silently. The checks are pandera's; only the coercion of dates and integers is done
first, by hand, so that a value that cannot be parsed is reported as itself rather than as a missing value.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import pandas as pd
import pandera.pandas as pa
import pycountry

from flowmon._resources import reference_path

Table = Literal["events", "flows", "crossings"]
TABLES: tuple[Table, ...] = ("events", "flows", "crossings")

STREAMS = ("caseload", "return", "referral")
DISPLACEMENT = "displacement"
ALL_STREAMS = (*STREAMS, DISPLACEMENT)

STATE_PCODES = tuple(f"SD{i:02d}" for i in range(1, 20))
SEXES = ("female", "male", "unknown")
AGE_GROUPS = ("0-17", "18-59", "60+", "unknown")
UNKNOWN_COUNTRY = "UNK"

CATEGORIES: dict[str, tuple[str, ...]] = {
    "caseload": (
        "screening",
        "counselling",
        "medical assistance",
        "information session",
        "AVRR counselling",
        "referral",
        "cultural orientation",
    ),
    "return": ("pending", "in progress", "completed"),
    "referral": (
        "forced labour",
        "sexual exploitation",
        "domestic servitude",
        "forced begging",
        "forced marriage",
        "other",
        "unknown",
    ),
}
CATEGORY_LABELS = {"caseload": "service", "return": "reintegration status", "referral": "exploitation type"}
REFERRAL_SERVICES = ("medical", "shelter", "psychosocial", "legal", "AVRR", "other")
POPULATION_TYPES = ("idp", "returnee")
# Crossings: into Sudan, out of Sudan, or passing through a transit point inside the country.
CROSSING = "crossing"
DIRECTIONS = ("in", "out", "transit")
TRANSPORTS = ("bus", "truck", "car", "boat", "train", "air", "on foot", "animal", "other", "unknown")

# Pseudonymous identifiers only: letters, digits and a few separators, no spaces (so no names).
RECORD_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$"
EARLIEST_DATE = pd.Timestamp("2000-01-01")

EVENT_COLUMNS = (
    "record_id",
    "stream",
    "date",
    "office",
    "state_pcode",
    "nationality",
    "sex",
    "age_group",
    "category",
    "destination",
    "referred_to",
    "count",
)
FLOW_COLUMNS = (
    "period",
    "origin_pcode",
    "destination_pcode",
    "population_type",
    "individuals",
    "households",
    "source",
)
CROSSING_COLUMNS = (
    "date",
    "point",
    "direction",
    "count",
    "nationality",
    "sex",
    "age_group",
    "origin",
    "destination",
    "transport",
    "source",
)
COLUMNS: dict[str, tuple[str, ...]] = {
    "events": EVENT_COLUMNS,
    "flows": FLOW_COLUMNS,
    "crossings": CROSSING_COLUMNS,
}
DATE_COLUMNS = {"events": ("date",), "flows": ("period",), "crossings": ("date",)}
INTEGER_COLUMNS = {
    "events": {"count": "int32"},
    "flows": {"individuals": "int64", "households": "Int64"},
    "crossings": {"count": "int32"},
}
# Coded columns whose vocabulary differs from the events column of the same name.
_TABLE_VOCABULARY = {("crossings", "destination"): "place", ("crossings", "origin"): "place"}


@cache
def country_codes() -> tuple[str, ...]:
    """Every ISO 3166-1 alpha-3 code, plus ``UNK`` for unknown."""
    return (*sorted(c.alpha_3 for c in pycountry.countries), UNKNOWN_COUNTRY)


@cache
def office_codes() -> tuple[str, ...]:
    """Codes of the offices in the shipped office table (geo/offices.csv)."""
    return tuple(pd.read_csv(reference_path("offices.csv"), usecols=["code"])["code"])


@cache
def point_codes() -> tuple[str, ...]:
    """Codes of the flow monitoring points and border crossings (geo/crossing_points.csv)."""
    return tuple(pd.read_csv(reference_path("crossing_points.csv"), usecols=["code"], dtype=str)["code"])


@cache
def place_codes() -> tuple[str, ...]:
    """Where a crossing comes from or goes to: a country (ISO3, ``UNK`` unknown) or a state pcode."""
    return (*country_codes(), *STATE_PCODES)


def all_categories() -> tuple[str, ...]:
    return tuple(dict.fromkeys(c for stream in STREAMS for c in CATEGORIES[stream]))


@cache
def _vocabularies() -> dict[str, tuple[str, ...]]:
    return {
        "stream": STREAMS,
        "office": office_codes(),
        "state_pcode": STATE_PCODES,
        "nationality": country_codes(),
        "sex": SEXES,
        "age_group": AGE_GROUPS,
        "category": all_categories(),
        "destination": country_codes(),
        "referred_to": REFERRAL_SERVICES,
        "origin_pcode": STATE_PCODES,
        "destination_pcode": STATE_PCODES,
        "population_type": POPULATION_TYPES,
        "point": point_codes(),
        "direction": DIRECTIONS,
        "transport": TRANSPORTS,
        "place": place_codes(),
    }


def vocabulary(column: str) -> tuple[str, ...]:
    """The allowed values of a coded column."""
    return _vocabularies()[column]


def dtypes(table: Table) -> dict[str, object]:
    """The canonical dtype of every column of ``table``: categoricals for codes."""
    vocab = _vocabularies()
    out: dict[str, object] = {}
    for column in COLUMNS[table]:
        coded = _TABLE_VOCABULARY.get((table, column), column)
        if coded in vocab:
            out[column] = pd.CategoricalDtype(vocab[coded])
        elif column in DATE_COLUMNS[table]:
            out[column] = "datetime64[ns]"
        elif column in INTEGER_COLUMNS[table]:
            out[column] = INTEGER_COLUMNS[table][column]
        else:
            out[column] = pd.StringDtype()
    return out


def empty(table: Table) -> pd.DataFrame:
    """A table with no rows and the canonical columns and dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes(table).items()})


def conform(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Cast already-valid data to the canonical column order and dtypes (no checks)."""
    types = dtypes(table)
    out = pd.DataFrame(index=df.index)
    for column, dtype in types.items():
        values = df[column]
        if column in DATE_COLUMNS[table]:
            values = pd.to_datetime(values)
        out[column] = values.astype(dtype)
    return out


_UNKNOWN_CODE = {
    "stream": "not a stream (caseload, return, referral)",
    "office": "not an office code of geo/offices.csv",
    "state_pcode": "not a state pcode (SD01-SD19)",
    "nationality": "not an ISO 3166-1 alpha-3 country code",
    "destination": "not an ISO 3166-1 alpha-3 country code",
    "sex": "not one of female, male, unknown",
    "age_group": "not one of 0-17, 18-59, 60+, unknown",
    "category": "not a known category",
    "referred_to": "not a referral service (medical, shelter, psychosocial, legal, AVRR, other)",
    "origin_pcode": "not a state pcode (SD01-SD19)",
    "destination_pcode": "not a state pcode (SD01-SD19)",
    "population_type": "not a population type (idp, returnee)",
    "point": "not a point code of geo/crossing_points.csv",
    "direction": "not a direction (in, out, transit)",
    "transport": "not a means of transport (" + ", ".join(TRANSPORTS) + ")",
    "place": "not a country (ISO 3166-1 alpha-3) or a state pcode (SD01-SD19)",
}


def _coded(column: str, *, nullable: bool = False) -> pa.Column:
    allowed = frozenset(vocabulary(column))
    check = pa.Check(lambda s: s.isna() | s.astype("object").isin(allowed), error=_UNKNOWN_CODE[column])
    return pa.Column(checks=check, nullable=nullable)


@cache
def _schema(table: Table) -> pa.DataFrameSchema:
    today = pd.Timestamp.today().normalize() + pd.Timedelta(days=1)
    in_range = pa.Check.in_range(EARLIEST_DATE, today, error=f"date outside {EARLIEST_DATE:%Y-%m-%d}..today")
    if table == "events":
        return pa.DataFrameSchema(
            {
                "record_id": pa.Column(
                    checks=pa.Check.str_matches(
                        RECORD_ID_PATTERN, error="record id must be a pseudonymous code, not a name"
                    )
                ),
                "stream": _coded("stream"),
                "date": pa.Column(checks=in_range),
                "office": _coded("office"),
                "state_pcode": _coded("state_pcode"),
                "nationality": _coded("nationality"),
                "sex": _coded("sex"),
                "age_group": _coded("age_group"),
                "category": _coded("category"),
                "destination": _coded("destination", nullable=True),
                "referred_to": _coded("referred_to", nullable=True),
                "count": pa.Column(checks=pa.Check.ge(1, error="count must be at least 1")),
            },
            checks=[
                pa.Check(_category_fits_stream, error="category is not in this stream's vocabulary"),
                pa.Check(_destination_only_for_returns, error="destination is required for returns only"),
                pa.Check(_referred_to_only_for_referrals, error="referred_to is for referrals only"),
            ],
            strict=False,
        )
    if table == "crossings":
        return pa.DataFrameSchema(
            {
                "date": pa.Column(checks=in_range),
                "point": _coded("point"),
                "direction": _coded("direction"),
                "count": pa.Column(checks=pa.Check.ge(0, error="count must not be negative")),
                "nationality": _coded("nationality"),
                "sex": _coded("sex"),
                "age_group": _coded("age_group"),
                "origin": _coded("place"),
                "destination": _coded("place"),
                "transport": _coded("transport"),
                "source": pa.Column(checks=pa.Check.str_length(1, 200, error="source must be named")),
            },
            strict=False,
        )
    return pa.DataFrameSchema(
        {
            "period": pa.Column(checks=in_range),
            "origin_pcode": _coded("origin_pcode", nullable=True),
            "destination_pcode": _coded("destination_pcode"),
            "population_type": _coded("population_type"),
            "individuals": pa.Column(checks=pa.Check.ge(0, error="individuals must not be negative")),
            "households": pa.Column(
                checks=pa.Check.ge(0, error="households must not be negative"), nullable=True
            ),
            "source": pa.Column(checks=pa.Check.str_length(1, 200, error="source must be named")),
        },
        strict=False,
    )


def _category_fits_stream(df: pd.DataFrame) -> pd.Series:
    ok = pd.Series(True, index=df.index)
    stream = df["stream"].astype("object")
    category = df["category"].astype("object")
    for name, allowed in CATEGORIES.items():
        rows = stream == name
        ok &= ~rows | category.isin(allowed)
    return ok


def _destination_only_for_returns(df: pd.DataFrame) -> pd.Series:
    is_return = df["stream"].astype("object") == "return"
    return is_return == df["destination"].notna()


def _referred_to_only_for_referrals(df: pd.DataFrame) -> pd.Series:
    is_referral = df["stream"].astype("object") == "referral"
    return is_referral | df["referred_to"].isna()


# Row-level checks name the column a user should look at.
_WIDE_CHECK_COLUMNS = {
    "category is not in this stream's vocabulary": "category",
    "destination is required for returns only": "destination",
    "referred_to is for referrals only": "referred_to",
}

REJECTION_COLUMNS = ("row", "column", "value", "reason")


def empty_rejections() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in REJECTION_COLUMNS})


def _coerce(df: pd.DataFrame, table: Table) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Parse dates and integers; report values that are present but do not parse."""
    out = df.copy()
    problems = []
    for column in DATE_COLUMNS[table]:
        if not pd.api.types.is_datetime64_any_dtype(out[column]):
            parsed = pd.to_datetime(out[column], errors="coerce", format="ISO8601")
            bad = parsed.isna() & out[column].notna()
            problems.append(_rejections(out.loc[bad, column], column, "not a date (YYYY-MM-DD)"))
            out[column] = parsed
    for column in INTEGER_COLUMNS[table]:
        if not pd.api.types.is_integer_dtype(out[column]):
            parsed = pd.to_numeric(out[column], errors="coerce")
            bad = (parsed.isna() & out[column].notna()) | (parsed.notna() & (parsed % 1 != 0))
            problems.append(_rejections(out.loc[bad, column], column, "not a whole number"))
            out[column] = parsed.where(~bad)
    return out, problems


def _rejections(values: pd.Series, column: str, reason: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"row": values.index, "column": column, "value": values.astype("object").to_numpy(), "reason": reason}
    )


def _failure_rejections(failures: pd.DataFrame, original: pd.DataFrame) -> pd.DataFrame:
    """pandera's failure cases as rejections, one per failing cell, with the value the user gave."""
    failures = failures[failures["index"].notna()]
    row_level = failures["schema_context"] == "DataFrameSchema"
    cells = failures.loc[~row_level, ["index", "column", "check"]]
    rows = failures.loc[row_level, ["index", "check"]].drop_duplicates()
    rows = rows.assign(column=rows["check"].map(_WIDE_CHECK_COLUMNS))
    out = pd.concat([cells, rows], ignore_index=True).rename(columns={"index": "row", "check": "reason"})
    out["reason"] = out["reason"].astype(str).replace({"not_nullable": "missing value"})
    out["value"] = [original.at[r, c] for r, c in zip(out["row"], out["column"], strict=True)]
    return out[list(REJECTION_COLUMNS)]


def validate(df: pd.DataFrame, table: Table = "events") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``df`` into conforming rows (canonical dtypes) and a rejection table.

    Every input row ends up in exactly one of the two: accepted, or named (by its index label) in at
    least one rejection row. Missing columns are reported once each, against row ``None``, and reject
    every row.
    """
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; expected one of {TABLES}")
    missing = [c for c in COLUMNS[table] if c not in df.columns]
    if missing:
        rejections = pd.DataFrame(
            [(None, c, None, "column missing") for c in missing], columns=list(REJECTION_COLUMNS)
        )
        return empty(table), rejections
    if not df.index.is_unique:
        raise ValueError("validate needs a unique index: it names the rejected rows")

    original = df[list(COLUMNS[table])]
    coerced, problems = _coerce(original, table)
    try:
        _schema(table).validate(coerced, lazy=True)
    except pa.errors.SchemaErrors as errors:
        problems.append(_failure_rejections(errors.failure_cases, original))
    problems = [p for p in problems if len(p)]
    rejections = pd.concat(problems, ignore_index=True) if problems else empty_rejections()
    # A value that did not parse is reported once, not again as missing.
    rejections = rejections.drop_duplicates(["row", "column"], keep="first")
    rejected = coerced.index.isin(rejections["row"].dropna())
    accepted = conform(coerced.loc[~rejected], table)
    rejections = rejections.sort_values("row", kind="stable", key=_row_sort_key).reset_index(drop=True)
    return accepted, rejections


def _row_sort_key(rows: pd.Series) -> pd.Series:
    return pd.to_numeric(rows, errors="coerce")


# ------------------------------------------------------------------------------------------------ TRQN
# Temporary Return of Qualified Nationals: one row per assignment of a Sudanese expert abroad with a Sudanese
# host institution. Kept out of ``TABLES`` (its own file, ``trqn.parquet``; ``flowmon.trqn`` reads, checks
# and stores it). ``assignment_id`` is a pseudonymous code (as ``record_id``): the identity of the cell key.
TRQN_SECTORS = (
    "health",
    "education",
    "agriculture",
    "water and sanitation",
    "public administration",
    "infrastructure",
    "economy and finance",
    "other",
)
TRQN_COLUMNS = (
    "assignment_id",
    "phase",
    "state_pcode",
    "sector",
    "host_institution",
    "expert_sex",
    "country_of_residence",
    "start",
    "end",
)
TRQN_DTYPES: dict[str, object] = {
    "assignment_id": pd.StringDtype(),
    "phase": pd.StringDtype(),
    "state_pcode": pd.CategoricalDtype(STATE_PCODES),
    "sector": pd.CategoricalDtype(TRQN_SECTORS),
    "host_institution": pd.StringDtype(),
    "expert_sex": pd.CategoricalDtype(SEXES),
    "country_of_residence": pd.CategoricalDtype(country_codes()),
    "start": "datetime64[ns]",
    "end": "datetime64[ns]",
}
