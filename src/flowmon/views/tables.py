"""The state and office tables: one row per state or office, a column per stream. Pure: ViewData in."""

from __future__ import annotations

import pandas as pd

from flowmon import i18n, schema


def wide(
    view, dataset, kind: str, labels: dict[str, str] | None = None, language: str = "en"
) -> pd.DataFrame:
    """The published figures of ``view`` by state (``kind="state"``) or office, streams as columns.

    Values are the view's own (``by_state``/``by_office``); nothing is added up here. In English a state
    row carries both names (``state``, ``الولاية``); in Arabic every header and name is Arabic.
    """
    table = view["by_state" if kind == "state" else "by_office"]
    if table.empty:
        return pd.DataFrame()
    index = "state_pcode" if kind == "state" else "office"
    # One published cell per row and stream: a reshape, nothing aggregated (pivot_table costs ten times more).
    cells = pd.Series(
        table["value"].astype("Float64").to_numpy(),
        index=pd.MultiIndex.from_arrays([table[index].astype(str), table["stream"].astype(str)]),
    )
    shaped = cells[~cells.index.duplicated()].unstack()
    shaped.index.name = index
    shaped = shaped.reindex(columns=[s for s in schema.ALL_STREAMS if s in shaped.columns]).astype("Int64")
    keys = shaped.index.astype(str)
    arabic = language == "ar"
    if kind == "state":
        names = dataset.states.set_index("pcode")
        if arabic:
            shaped.insert(0, i18n.text("column.state", language), names.loc[keys, "name_ar"].to_numpy())
        else:
            shaped.insert(0, "state", names.loc[keys, "name_en"].to_numpy())
            shaped.insert(1, "الولاية", names.loc[keys, "name_ar"].to_numpy())
    else:
        column = "name_ar" if arabic else "name"
        header = i18n.text("column.office", language) if arabic else "name"
        shaped.insert(0, header, dataset.offices.set_index("code").loc[keys, column].to_numpy())
    code = i18n.text("column.pcode" if kind == "state" else "column.code", language) if arabic else None
    shaped = shaped.reset_index().rename(columns={"state_pcode": code or "pcode", "office": code or "office"})
    shaped.columns.name = None
    return shaped.rename(columns=labels or {})
