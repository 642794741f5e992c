"""The reference page of the served benchmarks: one Select and one HoloViews plot, the least a Panel page is.

``panel serve`` runs this file beside the dashboard in ``flowmon bench --browser|--load`` so that the
dashboard's page opens, round trips and capacity are read against what Panel itself costs on the same machine
in the same run. The plot is a bar per state whose heights follow the chosen period, so a change rewrites one
Bokeh data source, as a filter change rewrites the dashboard's map. No data folder is read.
"""

import holoviews as hv
import numpy as np
import panel as pn

from flowmon import schema

pn.extension(inline=True)  # as the dashboard: nothing fetched from a CDN
hv.extension("bokeh", logo=False)

PERIODS = [f"{year}-Q{quarter}" for year in range(2021, 2027) for quarter in range(1, 5)]


def bars(period: str) -> hv.Bars:
    values = np.random.default_rng(PERIODS.index(period)).integers(0, 5000, len(schema.STATE_PCODES))
    return hv.Bars((list(schema.STATE_PCODES), values), kdims="pcode", vdims="people").opts(
        height=400, responsive=True, tools=["hover"]
    )


select = pn.widgets.Select(name="Period", options=PERIODS, value=PERIODS[-1])
plot = pn.pane.HoloViews(hv.DynamicMap(pn.bind(bars, select)), sizing_mode="stretch_width", height=400)
pn.Column(select, plot, sizing_mode="stretch_width").servable(title="reference")
