"""IOM Sudan's offices: where they are, in which state, when they opened and closed (geo/offices.csv)."""

from __future__ import annotations

from functools import cache

import pandas as pd

from flowmon._resources import reference_path
from flowmon.geo.gazetteer import name_key, normalise
from flowmon.schema import STATE_PCODES

OFFICE_COLUMNS = (
    "code",
    "name",
    "name_ar",
    "type",
    "town",
    "state_pcode",
    "lat",
    "lon",
    "opened",
    "closed",
    "note",
)
# Sudan's extent, a little widened: a coordinate outside it is a typo (swapped lat/lon, a lost minus sign).
SUDAN_LON = (21.5, 39.0)
SUDAN_LAT = (8.5, 23.5)


def row_failure(file: str):
    """A function that raises ValueError naming ``file``, a row (as a spreadsheet shows it) and a column."""

    def fail(row: int, column: str, problem: str) -> None:
        raise ValueError(f"{file} row {row + 2}, column {column}: {problem}")  # the header is row 1

    return fail


def check_places(table: pd.DataFrame, file: str, columns: tuple[str, ...]) -> None:
    """The checks every shipped table of places shares: its columns, upper-case unique codes, a state pcode
    per row, and coordinates inside Sudan (a typo such as swapped lat/lon or a lost minus sign)."""
    fail = row_failure(file)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{file}: missing columns {missing}")
    for row, code in table["code"].items():
        if not isinstance(code, str) or not code.isalnum() or not code.isupper():
            fail(row, "code", f"{code!r} is not an upper-case code")
    duplicated = table["code"].duplicated()
    if duplicated.any():
        row = int(duplicated.to_numpy().argmax())
        fail(row, "code", f"{table['code'].iloc[row]!r} appears twice")
    for row, pcode in table["state_pcode"].items():
        if pcode not in STATE_PCODES:
            fail(row, "state_pcode", f"{pcode!r} is not a state pcode (SD01..SD19)")
    for column, (low, high) in (("lon", SUDAN_LON), ("lat", SUDAN_LAT)):
        for row, value in table[column].items():
            if not low <= value <= high:
                fail(row, column, f"{value} lies outside Sudan ({low}..{high})")


def check_offices(table: pd.DataFrame, file: str) -> None:
    """Raise ValueError naming file, row and column of the first bad value in an office table."""
    check_places(table, file, OFFICE_COLUMNS)
    fail = row_failure(file)
    for row, (opened, closed) in enumerate(zip(table["opened"], table["closed"], strict=True)):
        if pd.isna(opened):
            fail(row, "opened", "missing date")
        if pd.notna(closed) and closed < opened:
            fail(row, "closed", f"{closed.date()} is before the opening date {opened.date()}")


@cache
def _offices() -> pd.DataFrame:
    path = reference_path("offices.csv")
    table = pd.read_csv(
        path, dtype={"code": str, "state_pcode": str}, keep_default_na=False, na_values={"closed": ""}
    )
    for column in ("opened", "closed"):
        try:
            table[column] = pd.to_datetime(table[column], format="%Y-%m-%d")
        except ValueError as error:
            raise ValueError(f"{path}, column {column}: {error}") from None
    table["note"] = table["note"].astype(str)
    check_offices(table, str(path))
    return table[list(OFFICE_COLUMNS)]


def offices() -> pd.DataFrame:
    """The office table: code, name, name_ar, type, town, state_pcode, lat, lon, opened, closed (NaT while
    open), note."""
    return _offices().copy()


def open_on(date: str | pd.Timestamp) -> pd.DataFrame:
    """The offices open on ``date``."""
    table = _offices()
    when = pd.Timestamp(date)
    return table[(table["opened"] <= when) & (table["closed"].isna() | (table["closed"] >= when))].copy()


@cache
def _office_keys() -> tuple[dict[str, str], dict[str, str]]:
    table = _offices()
    loose: dict[str, str] = {}
    keys: dict[str, str] = {}
    for code, name, name_ar, town in table[["code", "name", "name_ar", "town"]].itertuples(index=False):
        for label in (code, name, name_ar, town):
            loose[normalise(label)] = code
            keys[name_key(label)] = code
    aliases = pd.read_csv(reference_path("office_aliases.csv"), dtype=str, keep_default_na=False)
    for row, (alias, code) in enumerate(zip(aliases["alias"], aliases["code"], strict=True), start=2):
        if code not in set(table["code"]):
            raise ValueError(f"geo/office_aliases.csv row {row}, column code: unknown office code {code!r}")
        known = keys.setdefault(name_key(alias), code)
        if known != code:
            raise ValueError(f"geo/office_aliases.csv row {row}: {alias!r} already names office {known}")
    return loose, keys


def office_code(name_or_code: str) -> str | None:
    """The office code for a code, office name or town in any listed spelling ("krt", "Port Sudan",
    "Al Fashir"), or None."""
    if not isinstance(name_or_code, str):
        return None
    loose, keys = _office_keys()
    text = normalise(name_or_code)
    if text in loose:
        return loose[text]
    return keys.get(name_key(name_or_code))
