"""The figures behind an exported map and its month player: the view itself, then each month's view.

Frame 0 is the session's own ``ViewData``; frame i is the ``ViewData`` of the i-th month of its period with
the same other filters: exactly what the dashboard shows when that month is chosen. So the file publishes
nothing the dashboard would not, and every figure in it is one of the dashboard's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from flowmon import schema, viewdata
from flowmon.filters import INDICATOR_STREAM


@dataclass(frozen=True)
class IndicatorFrames:
    """One indicator's figures: row 0 is the whole period, row i the i-th month; columns are the pcodes.

    ``values`` is NaN where ``suppressed``; ``totals`` (the stream's KPI in that frame) likewise.
    """

    values: np.ndarray
    suppressed: np.ndarray
    totals: np.ndarray
    totals_suppressed: np.ndarray
    titles: tuple[str, ...]


@dataclass(frozen=True)
class MapFrames:
    months: tuple[str, ...]
    pcodes: tuple[str, ...]
    indicators: dict[str, IndicatorFrames]


def months_of(view, dataset) -> tuple[str, ...]:
    """The months of the view's period that the data covers."""
    if view.start is None:
        return ()
    return tuple(m for m in dataset.months if view.start <= pd.Period(m, "M") <= view.end)


def map_frames(session) -> MapFrames:
    """Every map indicator of the session's streams, for its period and each month of it."""
    view, dataset = session.view, session.dataset
    if view.start is None:
        raise ValueError("the view has no period: the data folder holds no dated rows")
    months = months_of(view, dataset)
    views = [view] + [
        viewdata.build(
            dataset, view.filters.replace(period=month), operator_k=session.operator_k, language=view.language
        )
        for month in months
    ]
    streams = set(view.filters.streams()) & set(view.streams_present)
    pcodes = schema.STATE_PCODES
    indicators = {}
    for indicator, stream in INDICATOR_STREAM.items():
        if stream not in streams:
            continue
        maps = [v.replace_indicator(indicator).map_values().set_index("pcode").reindex(pcodes) for v in views]
        kpis = [v.kpi(stream) for v in views]
        indicators[indicator] = IndicatorFrames(
            values=np.vstack([m["value"].to_numpy(dtype="float64", na_value=np.nan) for m in maps]),
            suppressed=np.vstack([m["suppressed"].fillna(False).to_numpy(dtype=bool) for m in maps]),
            totals=np.array(
                [np.nan if k is None or pd.isna(k["value"]) else float(k["value"]) for k in kpis]
            ),
            totals_suppressed=np.array([bool(k is not None and k["suppressed"]) for k in kpis]),
            titles=tuple(
                viewdata.title(dataset, v.filters.replace(indicator=indicator), view.language) for v in views
            ),
        )
    return MapFrames(months=months, pcodes=pcodes, indicators=indicators)
