"""Render canonical events as a messy real-world export, for the demo and the tests.

``write_messy_export(events, path, seed)`` writes what users actually bring: title rows above the header,
headers in the users' words, state names in several spellings (English, Arabic, transliterations, pcodes),
office names or codes, nationalities as ISO codes, names or demonyms, dates in several formats, ages in years
or as groups. A few rows are made wrong on purpose, each in one known way: two bad dates, a state that is not
a state, a negative count, and an exact repeat of an earlier record. :class:`MessyExport` lists those rows by
the row number the user sees, so reading the file back must reject exactly them and store everything else.

Records get new pseudonymous ids (``MRRC-000001`` ...) so that an export rendered from a demo store is not a
duplicate of that store. The first title row says the data are synthetic.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pycountry

from flowmon import geo, schema
from flowmon.ingest import columns

TITLE = "SYNTHETIC DEMO DATA - {label} export (rendered by flowmon.ingest.messy)"
LABELS = {"caseload": "MRRC caseload", "return": "AVRR returns", "referral": "Counter-trafficking referrals"}
ID_PREFIX = {"caseload": "MRRC", "return": "AVRR", "referral": "CT"}
HEADERS = {
    "caseload": {
        "record_id": "Case No",
        "date": "Date of Registration",
        "office": "Office",
        "state_pcode": "State",
        "nationality": "Nationality",
        "sex": "Gender",
        "age_group": "Age",
        "category": "Service",
        "count": "No. of individuals",
    },
    "return": {
        "record_id": "Case ID",
        "date": "Departure date",
        "office": "Field office",
        "state_pcode": "State",
        "nationality": "Nationality",
        "sex": "Sex",
        "age_group": "Age group",
        "category": "Reintegration status",
        "destination": "Country of return",
        "count": "Number",
    },
    "referral": {
        "record_id": "Victim ID",
        "date": "Date of identification",
        "office": "Office",
        "state_pcode": "الولاية",
        "nationality": "citizenship",
        "sex": "gender",
        "age_group": "age_range",
        "category": "Exploitation type",
        "referred_to": "Referred to",
        "count": "Count",
    },
}
TITLE_ROWS = 3  # title, export line, blank row


@dataclass
class MessyExport:
    path: Path
    stream: str
    rows: int  # data rows in the file
    bad_rows: dict[int, str] = field(default_factory=dict)  # row number -> the header of the bad cell
    events: pd.DataFrame = field(default_factory=pd.DataFrame)  # the canonical events reading back must store


def _spellings_of_states() -> dict[str, list[str]]:
    table = geo.states()
    out = {
        pcode: [pcode, en, ar]
        for pcode, en, ar in table[["pcode", "name_en", "name_ar"]].itertuples(index=False)
    }
    aliases = geo.gazetteer.aliases()
    for alias, pcode in zip(aliases["alias"], aliases["pcode"], strict=True):
        match = geo.to_pcode(alias)
        if not pd.isna(pcode) and match is not None and match.pcode == pcode and match.kind != "fuzzy":
            out[pcode].append(alias)
    return out


def _spellings_of_offices() -> dict[str, list[str]]:
    table = geo.offices()
    return {
        code: [code, code.lower(), name, name_ar]
        for code, name, name_ar in table[["code", "name", "name_ar"]].itertuples(index=False)
    }


def _spellings_of_countries() -> dict[str, list[str]]:
    demonyms: dict[str, list[str]] = {}
    for synonym, code in columns.value_map("nationality", "").items():
        if code != schema.UNKNOWN_COUNTRY:
            demonyms.setdefault(code, []).append(synonym.title())
    out = {}
    for country in pycountry.countries:
        out[country.alpha_3] = [
            country.alpha_3,
            country.alpha_2,
            country.name,
            *demonyms.get(country.alpha_3, []),
        ]
    out[schema.UNKNOWN_COUNTRY] = ["-99", "", "Unknown"]
    return out


def _spellings_of(field_name: str, stream: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for synonym, value in columns.value_map(field_name, stream).items():
        # CTDC's camel-case names ("isForcedLabour") lose their shape once normalised: leave them out.
        if value and not synonym.startswith("is"):
            out.setdefault(value, []).append(synonym if synonym.isdigit() else synonym.capitalize())
    return out


_SEXES = {
    "female": ["F", "Female", "female", "أنثى"],
    "male": ["M", "Male", "male", "ذكر"],
    "unknown": ["", "-99"],
}
_AGE_RANGES = {"0-17": (0, 17, ["0-17", "9--17", "Child"]), "18-59": (18, 59, ["18-59", "30--38", "24--26"]),
               "60+": (60, 85, ["60+", "Elderly"]), "unknown": (None, None, ["", "-99", "48+"])}  # fmt: skip


def _pick(rng: np.random.Generator, options: list[str], n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


def _render_codes(values: pd.Series, spellings: dict[str, list[str]], rng: np.random.Generator) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    keys = values.astype(object).to_numpy()
    for key in pd.unique(keys):
        where = keys == key if not pd.isna(key) else pd.isna(keys)
        options = spellings.get(key, [""]) if not pd.isna(key) else [""]
        out[where] = _pick(rng, options, int(where.sum()))
    return out


def _render_dates(dates: pd.Series, rng: np.random.Generator) -> np.ndarray:
    style = rng.choice(3, size=len(dates), p=[0.7, 0.15, 0.15])
    day_first = dates.dt.strftime("%d/%m/%Y").to_numpy(dtype=object)
    month_name = (dates.dt.day.astype(str) + dates.dt.strftime("-%b-%y")).to_numpy(dtype=object)
    iso = dates.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    return np.select([style == 0, style == 1], [day_first, month_name], iso)


def _render_ages(groups: pd.Series, rng: np.random.Generator) -> np.ndarray:
    out = np.empty(len(groups), dtype=object)
    keys = groups.astype(object).to_numpy()
    for group, (low, high, labels) in _AGE_RANGES.items():
        where = keys == group
        n = int(where.sum())
        if low is None:
            out[where] = _pick(rng, labels, n)
        else:
            years = rng.integers(low, high + 1, n).astype(str).astype(object)
            out[where] = np.where(rng.random(n) < 0.7, years, _pick(rng, labels, n))
    return out


def render(events: pd.DataFrame, stream: str, rng: np.random.Generator) -> pd.DataFrame:
    """The events of one stream as the cells of a messy export (columns named by the export's headers)."""
    headers = HEADERS[stream]
    cells = {
        "record_id": events["record_id"].astype(str).to_numpy(dtype=object),
        "date": _render_dates(events["date"], rng),
        "office": _render_codes(events["office"], _spellings_of_offices(), rng),
        "state_pcode": _render_codes(events["state_pcode"], _spellings_of_states(), rng),
        "nationality": _render_codes(events["nationality"], _spellings_of_countries(), rng),
        "sex": _render_codes(events["sex"], _SEXES, rng),
        "age_group": _render_ages(events["age_group"], rng),
        "category": _render_codes(events["category"], _spellings_of("category", stream), rng),
        "destination": _render_codes(events["destination"], _spellings_of_countries(), rng),
        "referred_to": _render_codes(events["referred_to"], _spellings_of("referred_to", stream), rng),
        "count": events["count"].astype(int).astype(str).to_numpy(dtype=object),
    }
    if stream == "referral":
        # CTDC writes -99 for an unknown exploitation type.
        unknown = events["category"].astype(object).to_numpy() == "unknown"
        cells["category"][unknown] = _pick(rng, ["-99", ""], int(unknown.sum()))
    return pd.DataFrame({headers[name]: cells[name] for name in headers})


def write_messy_export(
    events_df: pd.DataFrame,
    path: str | os.PathLike,
    seed: int,
    *,
    stream: str | None = None,
    max_rows: int | None = None,
    encoding: str = "utf-8-sig",
) -> MessyExport:
    """Write ``events_df`` (canonical events; one stream, or ``stream`` picked from several, caseload by
    default) as a messy CSV (or XLSX, by the file suffix) and return what reading it back must give."""
    path = Path(path)
    if stream is None:
        present = [s for s in schema.STREAMS if (events_df["stream"].astype(object) == s).any()]
        stream = present[0] if len(present) == 1 else "caseload"
    rng = np.random.default_rng(seed)
    events = events_df[events_df["stream"].astype(object) == stream]
    events = schema.conform(events, "events").drop_duplicates()
    if max_rows is not None and len(events) > max_rows:
        events = events.sample(n=max_rows, random_state=seed)
    if len(events) < 10:
        raise ValueError(f"write_messy_export needs at least 10 {stream} events, got {len(events)}")
    events = events.sort_values(["date", "record_id"], kind="stable").reset_index(drop=True)
    events["record_id"] = [f"{ID_PREFIX[stream]}-{i:06d}" for i in range(1, len(events) + 1)]
    events = schema.conform(events, "events")

    table = render(events, stream, rng)
    headers = HEADERS[stream]
    # Five rows made wrong, one way each; the duplicate repeats an earlier row right after a later one.
    chosen = rng.choice(np.arange(1, len(table)), size=5, replace=False)
    bad_date, impossible_date, bad_state, bad_count, repeated = (int(i) for i in chosen)
    year = int(events.at[bad_date, "date"].year)
    table.at[bad_date, headers["date"]] = f"31/02/{year}"
    table.at[impossible_date, headers["date"]] = "2024-13-45"
    table.at[bad_state, headers["state_pcode"]] = "Darfur"  # a region of five states, not a state
    table.at[bad_count, headers["count"]] = "-3"
    broken = {bad_date: "date", impossible_date: "date", bad_state: "state_pcode", bad_count: "count"}
    kept = events.drop(index=list(broken))

    duplicate_at = int(rng.integers(repeated, len(table))) + 1
    rows = pd.concat([table.iloc[:duplicate_at], table.iloc[[repeated]], table.iloc[duplicate_at:]])
    first_data_row = TITLE_ROWS + 2
    bad_rows = {first_data_row + position: headers[column] for position, column in broken.items()}
    bad_rows = {
        (row if row < first_data_row + duplicate_at else row + 1): header for row, header in bad_rows.items()
    }
    bad_rows[first_data_row + duplicate_at] = headers["record_id"]

    title = [
        TITLE.format(label=LABELS[stream]),
        f"Exported {pd.Timestamp.today():%d/%m/%Y} by the IM unit",
        "",
    ]
    _write(path, title, rows, encoding)
    return MessyExport(
        path=path, stream=stream, rows=len(rows), bad_rows=dict(sorted(bad_rows.items())),
        events=kept.reset_index(drop=True),
    )  # fmt: skip


def _write(path: Path, title: list[str], rows: pd.DataFrame, encoding: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    width = rows.shape[1]
    lines = [[text, *[""] * (width - 1)] for text in title]
    grid = pd.DataFrame([*lines, list(rows.columns), *rows.to_numpy().tolist()])
    if path.suffix.lower() == ".xlsx":
        grid.to_excel(path, header=False, index=False, sheet_name="Cases")
    else:
        grid.to_csv(path, header=False, index=False, encoding=encoding, lineterminator="\r\n")
