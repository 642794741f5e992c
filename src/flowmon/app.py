"""The flowmon dashboard: ``Dashboard`` is a Panel ``Viewer``, the same object in a notebook and served.

Structure (data store -> views -> app): ``flowmon.datastore.DataStore`` owns one session's filters and the
aggregated, suppressed data they select; the views below only read ``store.view``; ``Dashboard`` lays them
out, in a template when served and as a plain layout in a notebook, and keeps the URL in step.

The map is drawn once per geometry; a filter change rewrites only the value columns of its Bokeh data
sources (colours, labels, hover figures, office sizes, flow lines), so the state polygons are not sent to the
browser again (holoviz/holoviews#4453) and the user's zoom stays where it was.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from urllib.parse import urlencode

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models import HoverTool

from flowmon import privacy, schema, store
from flowmon.datastore import INDICATOR_STREAM, INDICATORS, DataStore, open_dataset
from flowmon.demo import SYNTHETIC_LABEL
from flowmon.views import charts, map as maps
from flowmon.views.cards import CARD_CSS, kpi_cards
from flowmon.views.style import STREAM_COLORS, STREAM_LABELS, STREAM_UNITS

EMPTY_PERIODS = pd.DataFrame({"stream": [], "period": [], "value": [], "suppressed": []})
EMPTY_NATIONALITIES = pd.DataFrame({"stream": [], "nationality": [], "value": [], "suppressed": []})
EMPTY_CATEGORIES = pd.DataFrame({"stream": [], "category": [], "value": [], "suppressed": []})
MAP_HEIGHT = 640
TITLE = "flowmon · IOM Sudan migration and displacement monitor"
CSS = (
    CARD_CSS
    + """
.fm-synthetic { background: #b00020; color: #fff; font-weight: 800; letter-spacing: .08em; text-align: center;
                padding: 6px 10px; border-radius: 4px; font-size: 1.1em; }
.fm-title { font-size: 1.35em; font-weight: 700; margin: 0; }
.fm-note { color: #444; font-size: 0.9em; }
.fm-empty { font-size: 1.2em; padding: 24px; background: #fff8e1; border: 1px solid #f0c36d; border-radius: 6px; }
.fm-footer { color: #333; font-size: 0.85em; border-top: 1px solid #ccc; padding-top: 6px; }
"""
)
ACCENT = "#0033a0"  # IOM blue


def _extensions() -> None:
    # inline=True: every script ships with the page, so nothing is fetched from a CDN (offline offices).
    pn.extension("tabulator", inline=True, raw_css=[CSS], notifications=True)
    hv.extension("bokeh", logo=False)


def _unique_layers(handles: dict[str, list], name: str) -> list[dict]:
    return handles.get(name, [])


class MapView(pn.viewable.Viewer):
    """The state map with office markers and flow lines; values updated in place on filter changes."""

    geometry = param.Selector(default="tiles", objects=["tiles", "official"], doc="Map geometry")

    def __init__(self, store: DataStore, **params):
        self.store = store
        has_official = store.dataset.boundaries is not None
        params.setdefault("geometry", "official" if has_official else "tiles")
        super().__init__(**params)
        if not has_official:
            self.param.geometry.objects = ["tiles"]
        self._handles: dict[str, list] = {}
        self._selection: hv.streams.Selection1D | None = None
        self._pane = pn.pane.HoloViews(self._build(), sizing_mode="stretch_width", height=MAP_HEIGHT)
        self._note = pn.pane.HTML(self._geometry_note(), css_classes=["fm-note"], sizing_mode="stretch_width")
        store.param.watch(self._update, ["view", "indicator"])

    # --- geometry -------------------------------------------------------------------------------------
    @property
    def shapes(self):
        dataset = self.store.dataset
        return dataset.boundaries if self.geometry == "official" else dataset.tiles

    def _geometry_note(self) -> str:
        if self.geometry == "tiles":
            hint = (
                " Official boundaries are not installed: <code>flowmon geo import FILE</code> or "
                "<code>flowmon geo fetch</code>."
                if self.store.dataset.boundaries is None
                else ""
            )
            return f"<b>Schematic tile map</b>: one equal tile per state, neighbours kept near.{hint}"
        info = "OCHA COD-AB admin-1 boundaries"
        return f"{info}; hatched: suppressed small numbers."

    def _office_positions(self) -> pd.DataFrame:
        offices = self.store.dataset.offices.copy()
        if self.geometry == "official":
            return offices.assign(x=offices["lon"], y=offices["lat"])
        # On tiles, offices sit in their state's tile, spread so that several stay apart.
        tiles = self.shapes.set_index("pcode")
        size = maps.tile_size(self.shapes)
        rank = offices.groupby("state_pcode").cumcount().to_numpy()
        count = offices.groupby("state_pcode")["code"].transform("size").to_numpy()
        offset = (rank - (count - 1) / 2) * size * 0.3
        x = tiles.loc[offices["state_pcode"], "x"].to_numpy() + offset
        y = tiles.loc[offices["state_pcode"], "y"].to_numpy() - size * 0.3
        return offices.assign(x=x, y=y)

    def _capture(self, name: str):
        def hook(plot, element):
            self._handles.setdefault(name, []).append(plot.handles)

        return hook

    def _build(self) -> hv.Overlay:
        self._handles = {}
        store, dataset = self.store, self.store.dataset
        shapes = self.shapes
        view = store.view
        values = self._state_values(view)
        language_names = "name_en"
        states = maps.choropleth(shapes, values, unit=self._unit(), label_names=True)
        polygons, labels = states.get(0), states.get(1)
        polygons = polygons.opts(hooks=[maps.hatch_hook, self._capture("states")])
        labels = labels.opts(hooks=[self._capture("labels")])
        self._selection = hv.streams.Selection1D(source=polygons)
        self._selection.add_subscriber(self._on_select)
        points = maps.label_points(shapes)
        self._points = points
        offices = self._office_positions()
        self._offices = offices
        office_layer = maps.office_markers(offices.assign(open=store.offices_open().to_numpy()),
                                           self._office_values(view))
        office_layer = office_layer.opts(hooks=[self._capture("offices")])
        flows = self._flow_layers(view)
        context = maps.context_outlines(dataset.outlines if self.geometry == "official" else None)
        overlay = context * polygons * labels * flows * office_layer
        del language_names
        return maps.map_frame(overlay, schematic=self.geometry == "tiles", height=MAP_HEIGHT)

    def _unit(self) -> str:
        stream = INDICATOR_STREAM[self.store.indicator]
        return STREAM_UNITS[stream]

    def _flow_layers(self, view: dict) -> hv.Overlay:
        displacement = maps.flow_lines(self._displacement(view), self._points)
        returns = maps.return_arrows(self._returns(view), self._points, self.store.dataset.countries)
        layers = []
        for name, element in (("flow", displacement), ("return", returns)):
            for i, layer in enumerate(element):
                layers.append(layer.opts(hooks=[self._capture(f"{name}{i}")]))
        return hv.Overlay(layers)

    # --- values ---------------------------------------------------------------------------------------
    def _state_values(self, view: dict) -> pd.DataFrame:
        indicator = self.store.indicator
        stream = INDICATOR_STREAM[indicator]
        table = view.get("by_state")
        if table is None or table.empty:
            return pd.DataFrame({"pcode": [], "value": [], "suppressed": []})
        rows = table[table["stream"] == stream]
        return rows.rename(columns={"state_pcode": "pcode"})[["pcode", "value", "suppressed"]]

    def _office_values(self, view: dict) -> pd.DataFrame:
        stream = INDICATOR_STREAM[self.store.indicator]
        stream = "caseload" if stream == "displacement" else stream
        table = view.get("by_office")
        if table is None or table.empty:
            return pd.DataFrame({"office": [], "value": [], "suppressed": []})
        return table[table["stream"] == stream][["office", "value", "suppressed"]]

    def _displacement(self, view: dict) -> pd.DataFrame:
        empty = pd.DataFrame({"origin_pcode": [], "destination_pcode": [], "value": []})
        if INDICATOR_STREAM[self.store.indicator] != "displacement":
            return empty
        flows = view.get("state_flows")
        if flows is None or flows.empty:
            return empty
        # The largest movements carry the story; dozens of thin lines only hide the map.
        return flows.sort_values("value", ascending=False).head(25)

    def _returns(self, view: dict) -> pd.DataFrame:
        empty = pd.DataFrame({"state_pcode": [], "destination": [], "value": []})
        if self.store.indicator != "return":
            return empty
        flows = view.get("return_flows")
        return empty if flows is None or flows.empty else flows

    def _update(self, *events) -> None:
        """Rewrite the value columns of the drawn map (geometry untouched)."""
        if not self._handles:
            return
        view = self.store.view
        shapes = self.shapes.reset_index(drop=True)
        values = self._state_values(view)
        columns = maps.state_columns(shapes["pcode"], values, shapes["name_en"])
        low, high = maps.color_limits(pd.Series(columns["value"]))
        for handles in self._handles.get("states", []):
            _write(handles["source"], {k: columns[k] for k in maps.STATE_VALUE_COLUMNS})
            handles["color_color_mapper"].update(low=low, high=high)
            if "color_colorbar" in handles:
                handles["color_colorbar"].title = self._unit()
        for handles in self._handles.get("labels", []):
            _write(handles["source"], {"label": columns["label"], "ink": columns["ink"]})
        office_columns = maps.office_columns(
            self._offices.assign(open=self.store.offices_open().to_numpy()), self._office_values(view)
        )
        for handles in self._handles.get("offices", []):
            _write(handles["source"], office_columns)
        self._update_flows(view)

    def _update_flows(self, view: dict) -> None:
        displacement = maps.flow_lines(self._displacement(view), self._points)
        returns = maps.return_arrows(self._returns(view), self._points, self.store.dataset.countries)
        for name, element in (("flow", displacement), ("return", returns)):
            for i, layer in enumerate(element):
                data = _source_data(layer)
                for handles in self._handles.get(f"{name}{i}", []):
                    _write(handles["source"], data, replace=True)

    def _on_select(self, index: list[int]) -> None:
        pcodes = [str(self.shapes["pcode"].iloc[i]) for i in index]
        if pcodes != list(self.store.state):
            self.store.state = pcodes

    @param.depends("geometry", watch=True)
    def _rebuild(self) -> None:
        self._pane.object = self._build()
        self._note.object = self._geometry_note()

    def __panel__(self):
        return pn.Column(self._pane, self._note, sizing_mode="stretch_width")


# HoloViews copies a column that a style option is mapped to under the option's name.
_STYLE_COPIES = {"color": "value", "line_width": "width", "fill_color": "fill"}


def _write(source, columns: dict, *, replace: bool = False) -> None:
    """Rewrite columns of a drawn Bokeh source (and HoloViews' style copies of them) in one message.

    ``replace`` swaps the whole data (rows may come and go: flow lines); otherwise only the given columns
    change and the rest (the state polygons) is not sent again.
    """
    new = {}
    for key in source.data:
        name = key if key in columns else _STYLE_COPIES.get(key)
        if name in columns:
            new[key] = columns[name]
    if replace:
        source.data = new
    else:
        source.data.update(new)


def _source_data(element: hv.Element) -> dict:
    """The columns HoloViews would put in the element's Bokeh source (dimension names as keys)."""
    frame = element.dframe()
    return {str(c): frame[c].to_numpy() for c in frame.columns}


class Dashboard(pn.viewable.Viewer):
    """MRRC caseloads, AVRR returns, trafficking referrals and DTM displacement on Sudan's state map.

    ``Dashboard(data_dir=...)`` in a notebook renders inline; ``Dashboard.from_environment().servable()``
    is what ``panel serve`` runs. Filters are the ``store``'s parameters, also readable from the URL.
    """

    data_dir = param.String(doc="The data folder")
    operator_k = param.Integer(default=None, allow_None=True, doc="Suppression threshold (operator only)")

    def __init__(self, **params):
        super().__init__(**params)
        _extensions()
        self.dataset = open_dataset(self.data_dir)
        self.store = DataStore(self.dataset, operator_k=self.operator_k)
        self._syncing_url = False
        if pn.state.location is not None and pn.state.location.query_params:
            self._apply_url(pn.state.location.query_params)
        self.map = MapView(self.store)
        self._build_widgets()
        self._build_views()
        if pn.state.location is not None:
            self.store.param.watch(self._push_url, [*DataStore.FILTERS, "indicator"])

    @classmethod
    def from_environment(cls, **params) -> Dashboard:
        """The dashboard over ``$FLOWMON_DATA_DIR`` (default: the checkout's data/demo)."""
        operator_k = os.environ.get("FLOWMON_K")
        if operator_k:
            params.setdefault("operator_k", int(operator_k))
        return cls(data_dir=str(store.default_data_dir()), **params)

    # --- URL ------------------------------------------------------------------------------------------
    def _apply_url(self, query: dict) -> None:
        try:
            self.store.apply_query({k: v for k, v in query.items() if v not in (None, "")})
        except (ValueError, TypeError) as error:
            self._url_error = f"The link's filters could not all be applied: {error}"
        else:
            self._url_error = ""

    def _push_url(self, *events) -> None:
        location = pn.state.location
        if location is None:
            return
        query = self.store.to_query()
        extra = {k: v for k, v in (location.query_params or {}).items() if k in ("present", "lang")}
        search = urlencode({**query, **extra}, safe=",")
        location.search = f"?{search}" if search else ""

    # --- widgets --------------------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        store = self.store
        self.office_widget = pn.widgets.MultiChoice(
            name="Office", options=self._office_options(), value=list(store.office),
            placeholder="All offices", sizing_mode="stretch_width",
        )  # fmt: skip
        self.office_widget.link(store, value="office", bidirectional=True)
        store.param.watch(lambda *_: setattr(self.office_widget, "options", self._office_options()),
                          ["start", "end"])
        widgets = pn.Param(
            store,
            parameters=["start", "end"],
            widgets={
                "start": {"type": pn.widgets.Select, "name": "From month"},
                "end": {"type": pn.widgets.Select, "name": "To month"},
            },
            show_name=False,
            sizing_mode="stretch_width",
        )
        self.stream_widget = pn.widgets.CheckButtonGroup.from_param(
            store.param.stream, name="Streams", options={STREAM_LABELS[s]: s for s in schema.ALL_STREAMS},
            orientation="vertical", button_type="primary", button_style="outline", sizing_mode="stretch_width",
        )  # fmt: skip
        self.nationality_widget = pn.widgets.MultiChoice.from_param(
            store.param.nationality, name="Nationality", options=self._nationality_options(),
            placeholder="All nationalities", sizing_mode="stretch_width",
        )  # fmt: skip
        self.sex_widget = pn.widgets.CheckButtonGroup.from_param(
            store.param.sex, name="Sex", button_type="primary", button_style="outline", sizing_mode="stretch_width"
        )
        self.age_widget = pn.widgets.CheckButtonGroup.from_param(
            store.param.age_group, name="Age group", button_type="primary", button_style="outline",
            sizing_mode="stretch_width",
        )  # fmt: skip
        self.state_widget = pn.widgets.MultiChoice.from_param(
            store.param.state, name="States (or click the map)",
            options={f"{r.name_en} ({r.pcode})": r.pcode for r in self.dataset.states.itertuples()},
            placeholder="All states", sizing_mode="stretch_width",
        )  # fmt: skip
        self.granularity_widget = pn.widgets.RadioButtonGroup.from_param(
            store.param.granularity, name="Trend by", button_type="primary", button_style="outline",
            sizing_mode="stretch_width",
        )  # fmt: skip
        self.indicator_widget = pn.widgets.Select.from_param(
            store.param.indicator, name="Map shows", options={v: k for k, v in INDICATORS.items()},
            sizing_mode="stretch_width",
        )  # fmt: skip
        self.geometry_widget = pn.widgets.RadioButtonGroup.from_param(
            self.map.param.geometry, name="Map",
            options={"Schematic tiles": "tiles", "Official boundaries": "official"}
            if self.dataset.boundaries is not None else {"Schematic tiles": "tiles"},
            button_type="primary", button_style="outline", sizing_mode="stretch_width",
        )  # fmt: skip
        self.reset_button = pn.widgets.Button(name="Reset filters", button_type="warning")
        self.reset_button.on_click(lambda event: self.store.reset())
        self.controls = pn.Column(
            self.indicator_widget,
            *(
                [pn.pane.Markdown("**Map**", margin=(0, 10)), self.geometry_widget]
                if self.dataset.boundaries is not None else []
            ),
            self.office_widget,
            widgets,
            pn.pane.Markdown("**Streams** (none selected: all)", margin=(0, 10)),
            self.stream_widget,
            self.state_widget,
            self.nationality_widget,
            pn.pane.Markdown("**Sex**", margin=(0, 10)),
            self.sex_widget,
            pn.pane.Markdown("**Age group**", margin=(0, 10)),
            self.age_widget,
            pn.pane.Markdown("**Trend by**", margin=(0, 10)),
            self.granularity_widget,
            self.reset_button,
            sizing_mode="stretch_width",
        )

    def _office_options(self) -> dict[str, str]:
        return {label: code for code, label in self.store.office_labels().items()}

    def _nationality_options(self) -> dict[str, str]:
        countries = self.dataset.countries.set_index("iso3")["name"]
        return {
            (f"{countries.get(code, code)} ({code})" if code != schema.UNKNOWN_COUNTRY else "Unknown (UNK)"): code
            for code in self.store.param.nationality.objects
        }

    # --- views ----------------------------------------------------------------------------------------
    def _build_views(self) -> None:
        store = self.store
        self.title = pn.pane.HTML(pn.bind(self._title, store.param.view, store.param.indicator),
                                  sizing_mode="stretch_width")
        self.message = pn.pane.HTML(pn.bind(self._message, store.param.view, store.param.error),
                                    sizing_mode="stretch_width")
        self.kpis = pn.pane.HTML(pn.bind(self._kpis, store.param.view), sizing_mode="stretch_width",
                                 min_height=120)
        # DynamicMaps update the drawn charts in place instead of building new Bokeh plots.
        self.trend = self._chart(self._trend)
        self.breakdowns = pn.Tabs(
            ("Nationality", self._chart(self._nationalities)),
            ("Services", self._chart(self._categories, "caseload")),
            ("Exploitation", self._chart(self._categories, "referral")),
            ("Reintegration", self._chart(self._categories, "return")),
            dynamic=True, sizing_mode="stretch_width",
        )  # fmt: skip
        self.state_table = pn.widgets.Tabulator(
            pn.bind(self._state_table, store.param.view), disabled=True, show_index=False,
            sizing_mode="stretch_width", height=380, layout="fit_data_table",
        )  # fmt: skip
        self.office_table = pn.widgets.Tabulator(
            pn.bind(self._office_table, store.param.view), disabled=True, show_index=False,
            sizing_mode="stretch_width", height=380, layout="fit_data_table",
        )  # fmt: skip
        self.tables = pn.Tabs(
            ("By state", pn.Column(self._download("state"), self.state_table, sizing_mode="stretch_width")),
            ("By office", pn.Column(self._download("office"), self.office_table, sizing_mode="stretch_width")),
            sizing_mode="stretch_width",
        )
        self.footer = pn.pane.HTML(self._footer(), css_classes=["fm-footer"], sizing_mode="stretch_width")

    def _chart(self, function, *args) -> pn.pane.HoloViews:
        dynamic = hv.DynamicMap(pn.bind(function, self.store.param.view, *args)).opts(framewise=True)
        return pn.pane.HoloViews(dynamic, sizing_mode="stretch_width", height=300, linked_axes=False)

    def _title(self, view, indicator) -> str:
        return f'<p class="fm-title">{self.store.describe()}</p>'

    def _message(self, view, error) -> str:
        notes = []
        if getattr(self, "_url_error", ""):
            notes.append(self._url_error)
        if error:
            notes.append(f"These filters cannot be applied: {error}")
        elif self._no_data(view):
            notes.append("No data for this selection: widen the period, or choose other offices or streams.")
        return "".join(f'<div class="fm-empty" role="status">{n}</div>' for n in notes)

    @staticmethod
    def _no_data(view: dict) -> bool:
        kpis = view.get("kpis")
        if kpis is None or kpis.empty:
            return True
        return bool((kpis["value"].fillna(0) == 0).all() and not kpis["suppressed"].any())

    def _kpis(self, view) -> str:
        kpis = view.get("kpis")
        if kpis is None or kpis.empty:
            return ""
        return kpi_cards(kpis)

    def _trend(self, view):
        table = view.get("by_period", EMPTY_PERIODS)
        cases = table[table["stream"] != "displacement"]
        title = f"People per {self.store.granularity}, by stream (cases)"
        title = title if not self._no_data(view) else "No data for this selection"
        return charts.trend(cases, freq=self.store.freq, title=title)

    def _nationalities(self, view):
        table = view.get("by_nationality", EMPTY_NATIONALITIES)
        names = self.dataset.countries.set_index("iso3")["name"]
        totals = table.groupby("nationality", observed=True, as_index=False).agg(
            value=("value", lambda v: v.sum(min_count=1)), suppressed=("suppressed", "any")
        )
        totals["country"] = totals["nationality"].astype(str).map(lambda c: names.get(c, "Unknown"))
        return charts.ranked_bars(totals, "country", title="Top nationalities (all selected streams)")

    def _categories(self, view, stream: str):
        table = view.get("by_category", EMPTY_CATEGORIES)
        rows = table[table["stream"] == stream]
        label = schema.CATEGORY_LABELS[stream]
        title = f"{STREAM_LABELS[stream]} by {label}" if len(rows) else f"{STREAM_LABELS[stream]}: not selected"
        return charts.ranked_bars(rows.rename(columns={"category": label}), label, title=title,
                                  color=STREAM_COLORS[stream])

    def shown_table(self, kind: str, view: dict | None = None) -> pd.DataFrame:
        """Exactly what the table shows (aggregated, suppressed): one row per state or office, by stream."""
        view = self.store.view if view is None else view
        key = "by_state" if kind == "state" else "by_office"
        table = view.get(key)
        if table is None or table.empty:
            return pd.DataFrame()
        index = "state_pcode" if kind == "state" else "office"
        wide = table.pivot_table(index=index, columns="stream", values="value", aggfunc="first", observed=True,
                                 dropna=False)
        wide = wide.reindex(columns=[s for s in schema.ALL_STREAMS if s in wide.columns])
        if kind == "state":
            names = self.dataset.states.set_index("pcode")
            wide.insert(0, "state", names.loc[wide.index.astype(str), "name_en"].to_numpy())
            wide.insert(1, "الولاية", names.loc[wide.index.astype(str), "name_ar"].to_numpy())
        else:
            names = self.dataset.offices.set_index("code")
            wide.insert(0, "name", names.loc[wide.index.astype(str), "name"].to_numpy())
        wide = wide.reset_index().rename(columns={"state_pcode": "pcode"})
        return wide.rename(columns={s: STREAM_LABELS[s] for s in schema.ALL_STREAMS})

    def _state_table(self, view) -> pd.DataFrame:
        return _display(self.shown_table("state", view))

    def _office_table(self, view) -> pd.DataFrame:
        return _display(self.shown_table("office", view))

    def _download(self, kind: str) -> pn.widgets.FileDownload:
        def csv() -> io.StringIO:
            table = self.shown_table(kind)
            return io.StringIO(table.to_csv(index=False))

        return pn.widgets.FileDownload(
            callback=csv, filename=f"flowmon_by_{kind}.csv", label=f"Download CSV (by {kind}, as shown)",
            button_type="primary", button_style="outline",
        )  # fmt: skip

    def _footer(self) -> str:
        lines = []
        for source in self.dataset.sources():
            as_of = source.get("as_of") or (source.get("ingested_at") or "")[:10]
            name = Path(str(source.get("path", ""))).name or source.get("path")
            lines.append(f"{source.get('stream', '')}: {name} (as of {as_of})")
        k = self.store.k_by_stream()
        note = privacy.footnote(operator_k=self.store.operator_k)
        synthetic = f"<b>{SYNTHETIC_LABEL}</b>: not real cases. " if self.dataset.synthetic else ""
        boundaries = (
            "Boundaries: OCHA COD-AB (admin-1)." if self.dataset.boundaries is not None
            else "Map: schematic tiles (no official boundaries installed)."
        )  # fmt: skip
        del k
        return (
            f"{synthetic}Sources: {'; '.join(lines) or 'none'}. {boundaries} {note} "
            "Only aggregated figures are shown; no individual record leaves the server."
        )

    # --- layout ---------------------------------------------------------------------------------------
    def _synthetic_banner(self):
        if not self.dataset.synthetic:
            return None
        return pn.pane.HTML(
            f'<div class="fm-synthetic" role="note">{SYNTHETIC_LABEL} — generated by flowmon demo, '
            "not real cases</div>",
            sizing_mode="stretch_width",
        )

    def main_area(self) -> pn.Column:
        right = pn.Column(self.kpis, self.trend, self.breakdowns, sizing_mode="stretch_width")
        top = pn.Row(pn.Column(self.map, sizing_mode="stretch_width"), right, sizing_mode="stretch_width")
        parts = [self._synthetic_banner(), self.title, self.message, top, self.tables, self.footer]
        return pn.Column(*(p for p in parts if p is not None), sizing_mode="stretch_width")

    def __panel__(self):
        if pn.state.served:
            template = pn.template.BootstrapTemplate(
                title=TITLE + (f" — {SYNTHETIC_LABEL}" if self.dataset.synthetic else ""),
                sidebar=[self.controls], main=[self.main_area()], header_background=ACCENT,
                sidebar_width=330,
            )  # fmt: skip
            return template
        return pn.Row(pn.Column(self.controls, width=320), self.main_area(), sizing_mode="stretch_width")


def _display(table: pd.DataFrame) -> pd.DataFrame:
    """Counts as shown to a person: thousands separators and '*' for suppressed cells."""
    from flowmon.views.style import format_count

    out = table.copy()
    for column in out.columns:
        if column in STREAM_LABELS.values():
            out[column] = [format_count(v) for v in out[column]]
    return out


_ = HoverTool  # bokeh import keeps hover tool registered for the served page
