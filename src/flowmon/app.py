"""The flowmon dashboard (minimal first version: the full one follows in issue 6)."""

from __future__ import annotations

import os

import holoviews as hv
import pandas as pd
import panel as pn
import param

from flowmon import schema, store
from flowmon.demo import SYNTHETIC_LABEL


@pn.cache
def _load(data_dir: str) -> dict:
    return {"tables": store.load(data_dir), "manifest": store.read_manifest(data_dir)}


class Dashboard(pn.viewable.Viewer):
    data_dir = param.String(doc="the data folder")

    @classmethod
    def from_environment(cls, **params) -> Dashboard:
        return cls(data_dir=str(store.default_data_dir()), **params)

    def __panel__(self):
        pn.extension(inline=True)
        hv.extension("bokeh")
        loaded = _load(os.fspath(self.data_dir))
        events = loaded["tables"]["events"]
        monthly = (
            events.assign(month=events["date"].dt.to_period("M").dt.to_timestamp())
            .groupby(["month", "stream"], observed=True)["count"]
            .sum()
            .rename("value")
            .reset_index()
        )
        trend = hv.Area.stack(
            hv.NdOverlay(
                {
                    s: hv.Area(monthly[monthly["stream"] == s], "month", "value", label=s)
                    for s in schema.STREAMS
                }
            )
        ).opts(hv.opts.Area(responsive=True, height=350))
        banner = (
            pn.pane.Alert(f"**{SYNTHETIC_LABEL}** — not real cases", alert_type="warning")
            if loaded["manifest"].get("synthetic")
            else None
        )
        totals = events.groupby("stream", observed=True)["count"].sum().reindex(schema.STREAMS, fill_value=0)
        cards = pn.Row(*(pn.indicators.Number(name=s, value=int(v), format="{value:,}") for s, v in totals.items()))
        return pn.Column(*(x for x in (banner, cards, pn.pane.HoloViews(trend, sizing_mode="stretch_width")) if x))
