"""The figures behind an exported map and its month player: each state, each month, protected together.

A file that holds the whole period's map *and* every month's map publishes more than one view: a state's
period figure is the sum of its months, so a month hidden on its own could be worked out as the period
figure minus the months shown. Here the month-by-state cube, the states' period figures, the monthly totals
and the period total are one linked problem for ``flowmon.privacy.protect_linked``: no hidden figure is the
difference of shown ones, within the file. (The period map may therefore hide a little more than the
dashboard does for the same window, which protects that window alone.)

Displacement into and out of states count the same movements: both are linked through their shared monthly
and period totals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from flowmon import aggregate, privacy, schema
from flowmon.datastore import INDICATOR_STREAM

# The map indicators of displacement, and the side of the movement each counts.
DISPLACEMENT_SIDES = {"displacement_in": "destination", "displacement_out": "origin"}


@dataclass(frozen=True)
class IndicatorFrames:
    """One indicator's figures: row 0 is the whole period, row i the i-th month; columns are the pcodes.

    ``values`` is NaN where ``suppressed``; ``totals`` (the sum over the states) likewise.
    """

    values: np.ndarray
    suppressed: np.ndarray
    totals: np.ndarray
    totals_suppressed: np.ndarray


@dataclass(frozen=True)
class MapFrames:
    months: tuple[str, ...]
    pcodes: tuple[str, ...]
    indicators: dict[str, IndicatorFrames]


def _months(start: pd.Period, end: pd.Period) -> tuple[str, ...]:
    return tuple(str(p) for p in pd.period_range(start, end, freq="M"))


def _sides() -> dict[str, str]:
    """The displacement indicators the dashboard's map has (``INDICATOR_STREAM``), with their side."""
    return {name: side for name, side in DISPLACEMENT_SIDES.items() if name in INDICATOR_STREAM}


def _cube(events: pd.DataFrame, flows: pd.DataFrame, filters: aggregate.Filters, months) -> dict:
    """Unprotected counts, long format: events by (stream, state, month), displacement by state and month."""
    parts: dict[str, list[pd.DataFrame]] = {"events": [], **{name: [] for name in _sides()}}
    for month in months:
        f = filters.replace(start=month, end=month)
        if f.event_streams():
            parts["events"].append(aggregate.by_state(events, f).assign(month=month))
        if f.displacement:
            for indicator, side in _sides().items():
                table = aggregate.displacement_by_state(flows, f, side)
                parts[indicator].append(table[["state_pcode", "value"]].assign(month=month))
    return {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items() if frames}


def _linked(cube: dict) -> dict[str, privacy.Linked]:
    tables = {}
    if "events" in cube:
        tables["events"] = privacy.Linked(
            cube["events"],
            ("stream", "state_pcode", "month"),
            (("stream", "state_pcode"), ("stream", "month"), ("stream",)),
        )
    for indicator, side in _sides().items():
        if indicator in cube:
            tables[indicator] = privacy.Linked(
                cube[indicator],
                ("state_pcode", "month"),
                (("state_pcode",), ("month",), ()),
                fixed={"stream": schema.DISPLACEMENT},
                dims={"state_pcode": f"{side}_pcode"},
            )
    return tables


def _grid(cells: pd.DataFrame, index: list, columns: list, row: str, column: str) -> tuple:
    def table(name: str) -> pd.DataFrame:
        return cells.pivot(index=row, columns=column, values=name).reindex(index=index, columns=columns)

    return _floats(table("value")), table(privacy.SUPPRESSED).to_numpy(dtype=bool)


def _floats(values) -> np.ndarray:
    return values.to_numpy(dtype="float64", na_value=np.nan)


def _frames(cells, by_state, by_month, total, months, pcodes) -> IndicatorFrames:
    values, hidden = _grid(cells, list(months), list(pcodes), "month", "state_pcode")
    period = by_state.set_index("state_pcode").reindex(list(pcodes))
    monthly = by_month.set_index("month").reindex(list(months))
    return IndicatorFrames(
        values=np.vstack([_floats(period["value"]), values]),
        suppressed=np.vstack([period[privacy.SUPPRESSED].to_numpy(dtype=bool), hidden]),
        totals=np.concatenate([_floats(total["value"]), _floats(monthly["value"])]),
        totals_suppressed=np.concatenate(
            [total[privacy.SUPPRESSED].to_numpy(dtype=bool), monthly[privacy.SUPPRESSED].to_numpy(dtype=bool)]
        ),
    )


def map_frames(session) -> MapFrames:
    """The protected figures of every map indicator of ``session``'s streams, for its period and each month.

    ``session`` is a ``flowmon.datastore.DataStore``: its filters (but the period, which is cut into months)
    apply to every frame, and its operator k to the suppression.
    """
    start, end = session.period
    if start is None or end is None:
        raise ValueError("the view has no period: the data folder holds no dated rows")
    months = _months(start, end)
    pcodes = schema.STATE_PCODES
    dataset = session.dataset
    filters = session.filters
    cube = _cube(dataset.events, dataset.flows, filters, months)
    protected = privacy.protect_linked(_linked(cube), privacy.k_by_stream(session.operator_k))
    indicators: dict[str, IndicatorFrames] = {}
    streams = filters.event_streams()
    for indicator, stream in INDICATOR_STREAM.items():
        if stream in streams:
            table = protected["events"]
            keep = table.cells["stream"] == stream
            indicators[indicator] = _frames(
                table.cells[keep],
                _of(table.total(("stream", "state_pcode")), stream),
                _of(table.total(("stream", "month")), stream),
                _of(table.total(("stream",)), stream),
                months,
                pcodes,
            )
        elif indicator in protected:
            table = protected[indicator]
            indicators[indicator] = _frames(
                table.cells,
                table.total(("state_pcode",)),
                table.total(("month",)),
                table.total(()),
                months,
                pcodes,
            )
    return MapFrames(months=months, pcodes=pcodes, indicators=indicators)


def _of(totals: pd.DataFrame, stream: str) -> pd.DataFrame:
    return totals[totals["stream"] == stream]
