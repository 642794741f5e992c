"""The state and office tables: one row per state or office, a column per stream. Pure: ViewData in."""

from __future__ import annotations

import pandas as pd

from flowmon import schema


def wide(view, dataset, kind: str, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """The published figures of ``view`` by state (``kind="state"``) or office, streams as columns.

    Values are the view's own (``by_state``/``by_office``); nothing is added up here.
    """
    table = view["by_state" if kind == "state" else "by_office"]
    if table.empty:
        return pd.DataFrame()
    index = "state_pcode" if kind == "state" else "office"
    table = table.assign(value=table["value"].astype("Float64"))
    shaped = table.pivot_table(
        index=index, columns="stream", values="value", aggfunc="first", observed=True, dropna=False
    )
    shaped = shaped.reindex(columns=[s for s in schema.ALL_STREAMS if s in shaped.columns]).astype("Int64")
    keys = shaped.index.astype(str)
    if kind == "state":
        names = dataset.states.set_index("pcode")
        shaped.insert(0, "state", names.loc[keys, "name_en"].to_numpy())
        shaped.insert(1, "الولاية", names.loc[keys, "name_ar"].to_numpy())
    else:
        shaped.insert(0, "name", dataset.offices.set_index("code").loc[keys, "name"].to_numpy())
    shaped = shaped.reset_index().rename(columns={"state_pcode": "pcode"})
    shaped.columns.name = None
    return shaped.rename(columns=labels or {})
