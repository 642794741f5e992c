"""``flowmon export csv``: the aggregates a view shows, suppressed, as one long table.

One row per figure: the totals of each stream (``total``), each state (``state``; for displacement, people
displaced *into* the state), each state of origin of displacement (``state_origin``, when the dashboard's
map can show it), each office (``office``), each month, quarter or year of the trend (``period``), and
the breakdowns (``category``: services, reintegration status, exploitation type; ``nationality``;
``referred_to``: referral services). A suppressed figure has an empty ``value`` and ``suppressed`` true:
its true value is never written.

When the view shows cross-border movements, their published tables follow (``CROSSING_TABLES``), with the
``direction`` column saying which (in, out, transit, or all: a cell of its own): ``crossing_card`` (in, out,
net and the daily average, one decimal), ``crossing_direction``, ``crossing_point``, ``crossing_state`` (the
map's colours), ``crossing_period``, ``crossing_nationality``, ``crossing_origin``, ``crossing_destination``.

Provenance is in columns rather than in a comment header, so the file opens as it is in a spreadsheet and
with a plain ``pandas.read_csv``, and survives filtering and pasting: every row carries the view's period
(``start``, ``end``), the query that reproduces the view (``query``, the dashboard URL's names), its stream's
sources and "as of" date, and whether the data are synthetic.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd

from flowmon import i18n, privacy
from flowmon.datastore import INDICATORS
from flowmon.export import view as views
from flowmon.filters import Filters
from flowmon.views.style import STREAM_LABELS

COLUMNS = (
    "table",
    "key",
    "name",
    "stream",
    "direction",
    "value",
    "suppressed",
    "start",
    "end",
    "query",
    "source",
    "as_of",
    "synthetic",
)
TABLES = ("total", "state", "state_origin", "office", "period", "category", "nationality", "referred_to")
CROSSING_TABLES = (
    "crossing_card",
    "crossing_direction",
    "crossing_point",
    "crossing_state",
    "crossing_period",
    "crossing_nationality",
    "crossing_origin",
    "crossing_destination",
)
_PERIOD_KEY = {"M": "%Y-%m", "Y": "%Y"}


def _period_key(start: pd.Timestamp, freq: str, language: str = "en") -> tuple[str, str]:
    """``("2025-01", "January 2025")``, ``("2025Q1", "Q1 2025")`` or ``("2025", "2025")``; names in Arabic
    with ``language="ar"`` ("يناير 2025", "الربع الأول 2025")."""
    if freq == "Q":
        quarter = (start.month - 1) // 3 + 1
        name = i18n.period_label(f"{start.year}-Q{quarter}", language) if language == "ar" else None
        return f"{start.year}Q{quarter}", name or f"Q{quarter} {start.year}"
    if freq == "Y":
        return f"{start.year}", f"{start.year}"
    return f"{start:%Y-%m}", i18n.month_name(pd.Period(start, "M"), language)


def _rows(table: str, frame: pd.DataFrame, key: pd.Series, name: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "table": table,
            "key": key.astype(str).to_numpy(),
            "name": name.astype(str).to_numpy(),
            "stream": frame["stream"].astype(str).to_numpy(),
            "direction": "",
            "value": pd.array(frame["value"], dtype="Int64"),
            "suppressed": frame[privacy.SUPPRESSED].astype(bool).to_numpy(),
        }
    )


def csv_table(session) -> pd.DataFrame:
    """The figures of ``session`` (a ``flowmon.datastore.DataStore``) as the rows of the CSV (``COLUMNS``).

    Names (``name``) are in the session's language; keys and codes stay as they are in every language.
    """
    view, dataset = session.view, session.dataset  # every figure comes from the session's ViewData
    language = getattr(session, "language", "en")
    arabic = language == "ar"
    states = dataset.states.set_index("pcode")["name_ar" if arabic else "name_en"]
    offices = dataset.offices.set_index("code")["name_ar" if arabic else "name"]
    stream_names = {s: i18n.text(s, language) for s in STREAM_LABELS}
    parts = []

    kpis = view.kpis
    parts.append(_rows("total", kpis, pd.Series("all", index=kpis.index), kpis["stream"].map(stream_names)))
    state_tables = [("state", view["by_state"])]
    if "displacement_out" in INDICATORS:  # the map can show departures
        state_tables.append(("state_origin", view["departures"]))
    for table, frame in state_tables:
        pcodes = frame["state_pcode"].astype(str)
        parts.append(_rows(table, frame, pcodes, pcodes.map(states)))
    by_office = view["by_office"]
    codes = by_office["office"].astype(str)
    parts.append(_rows("office", by_office, codes, codes.map(offices)))
    by_period = view["by_period"]
    labels = [_period_key(pd.Timestamp(p), view.filters.freq, language) for p in by_period["period"]]
    parts.append(
        _rows(
            "period",
            by_period,
            pd.Series([k for k, _ in labels], index=by_period.index, dtype=object),
            pd.Series([n for _, n in labels], index=by_period.index, dtype=object),
        )
    )
    countries = dataset.countries.set_index("iso3")["name"]
    for table, column, names in (
        ("category", "category", None),
        ("nationality", "nationality", countries),
        ("referred_to", "referred_to", None),
    ):
        frame = view[f"by_{column}"]
        if frame.empty:
            continue
        keys = frame[column].astype(str)
        if names is None:
            label = pd.Series(i18n.value_labels(column, keys, language), index=keys.index, dtype=object)
        else:
            label = keys.map(
                lambda code, names=names: i18n.country_name(code, language, names.get(code, code))
            )
        parts.append(_rows(table, frame, keys, label))
    if view.crossings:
        # Whole numbers stay whole beside the daily average's decimal: the column holds Python numbers.
        parts = [p.assign(value=p["value"].astype(object)) for p in parts]
        parts += _crossing_rows(view, dataset, language)
    rows = pd.concat([p for p in parts if len(p)], ignore_index=True)
    if rows.empty:
        rows = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS[:6]})

    start, end = view.start, view.end
    sources = views.provenance(view)
    rows["start"] = str(start) if start is not None else ""
    rows["end"] = str(end) if end is not None else ""
    rows["query"] = urlencode(view.filters.to_query(), safe=",")
    rows["source"] = rows["stream"].map(lambda s: sources.get(s, {}).get("source", "")).astype(object)
    rows["as_of"] = rows["stream"].map(lambda s: sources.get(s, {}).get("as_of", "")).astype(object)
    rows["synthetic"] = dataset.synthetic
    return rows[list(COLUMNS)]


def _crossing_rows(view, dataset, language: str) -> list[pd.DataFrame]:
    """The rows of the view's published crossing tables (``CROSSING_TABLES``)."""
    from flowmon import crossings

    published = view.crossings
    arabic = language == "ar"
    points = crossings.points().set_index("code")["name_ar" if arabic else "name"]
    states = dataset.states.set_index("pcode")["name_ar" if arabic else "name_en"]
    countries = dataset.countries.set_index("iso3")["name"]

    def place(code: str) -> str:
        if code in states.index:
            return states[code]
        return i18n.country_name(code, language, countries.get(code))

    def rows(table: str, frame: pd.DataFrame, keys, names, directions, values=None) -> pd.DataFrame:
        values = frame["value"] if values is None else values
        return pd.DataFrame({
            "table": table, "key": [str(k) for k in keys], "name": [str(n) for n in names],
            "stream": crossings.STREAM, "direction": [str(d) for d in directions],
            # Counts as whole numbers; the card's daily average keeps its decimal.
            "value": [pd.NA if pd.isna(v) else int(v) if float(v).is_integer() else float(v) for v in values],
            "suppressed": frame["suppressed"].astype(bool).to_numpy() if "suppressed" in frame else False,
        })  # fmt: skip

    def word(key: str) -> str:
        return i18n.text(key, language)

    card = published["card"]
    measure_words = {"in": "crossing.in", "out": "crossing.out", "net": "crossing.net",
                     "daily average": "crossing.daily"}  # fmt: skip
    # Net is in minus out; the daily average is of every direction.
    directions = card["measure"].map({"in": "in", "out": "out", "net": "", "daily average": "all"})
    out = [rows("crossing_card", card, card["measure"], [word(measure_words[m]) for m in card["measure"]],
                directions)]  # fmt: skip
    kpis = published["kpis"]
    out.append(rows("crossing_direction", kpis, kpis["measure"],
                    [word(f"direction.{m}") for m in kpis["measure"]], kpis["measure"]))  # fmt: skip
    by_point = published["by_point"]
    out.append(rows("crossing_point", by_point, by_point["point"], by_point["point"].map(points),
                    by_point["direction"]))  # fmt: skip
    by_state = published["by_state"]
    out.append(rows("crossing_state", by_state, by_state["state_pcode"], by_state["state_pcode"].map(states),
                    by_state["direction"]))  # fmt: skip
    by_period = published["by_period"]
    labels = [_period_key(pd.Timestamp(p), view.filters.freq, language) for p in by_period["period"]]
    out.append(rows("crossing_period", by_period, [k for k, _ in labels], [n for _, n in labels],
                    by_period["direction"]))  # fmt: skip
    for column in ("nationality", "origin", "destination"):
        frame = published[f"by_{column}"]
        codes = frame[column].astype(str)
        out.append(rows(f"crossing_{column}", frame, codes, [place(c) for c in codes], frame["direction"]))
    return [frame for frame in out if len(frame)]


def csv_text(session) -> str:
    """The CSV file's text (UTF-8, header row, empty cells where suppressed); Arabic headers in Arabic."""
    table = csv_table(session)
    if getattr(session, "language", "en") == "ar":
        table = table.rename(columns=i18n.CSV_HEADERS_AR)
    return table.to_csv(index=False, lineterminator="\n")


def write_csv(session, path: str | os.PathLike) -> Path:
    """Write ``session``'s CSV to ``path`` atomically (a reader never sees half a file)."""
    return views.write_export(path, csv_text(session))


def export_csv(
    data_dir: str | os.PathLike | None,
    filters: Filters | Mapping[str, str] | None,
    path: str | os.PathLike,
    *,
    indicator: str | None = None,
    granularity: str | None = None,
    k: int | None = None,
    language: str = "en",
) -> Path:
    """Write the CSV of the view ``filters`` select over ``data_dir`` (a ``Filters`` or URL names)."""
    query = views.query_of(filters)
    query = {**query, **({"indicator": indicator} if indicator else {})}
    query = {**query, **({"granularity": granularity} if granularity else {})}
    return write_csv(views.session(data_dir, query, k, language=language), path)
