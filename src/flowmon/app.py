"""The flowmon dashboard: ``Dashboard`` is a Panel ``Viewer``, the same object in a notebook and served.

Structure (data store -> views -> app): ``flowmon.datastore.DataStore`` owns one session's filters and the
aggregated, suppressed data they select; the views only read ``store.view``; ``Dashboard`` lays them out (in
a template when served, as a plain layout in a notebook, full screen in presentation mode) and keeps the URL
in step, so a copied link reproduces the view: ``?office=KRT&start=2024-01&end=2024-06&stream=return``,
plus ``present=1`` and ``lang=ar``.
"""

from __future__ import annotations

import html
import io
import os
from pathlib import Path
from urllib.parse import urlencode

import holoviews as hv
import pandas as pd
import panel as pn
import param
from panel.custom import JSComponent

from flowmon import i18n, privacy, schema, store
from flowmon.datastore import INDICATORS, DataStore, open_dataset
from flowmon.mapview import MapView
from flowmon.views import charts
from flowmon.views.cards import CARD_CSS, kpi_cards
from flowmon.views.style import STREAM_COLORS, format_count

TITLE = "flowmon · IOM Sudan migration and displacement"
ACCENT = "#0033a0"  # IOM blue
CHART_HEIGHT = 300
CSS = (
    CARD_CSS
    + """
.fm-synthetic { background: #b00020; color: #fff; font-weight: 800; letter-spacing: .08em; text-align: center;
                padding: 6px 10px; border-radius: 4px; font-size: 1.1em; }
.fm-title { font-size: 1.35em; font-weight: 700; margin: 0; }
.fm-note { color: #444; font-size: 0.9em; }
.fm-empty { font-size: 1.2em; padding: 24px; background: #fff8e1; border: 1px solid #f0c36d;
            border-radius: 6px; }
.fm-footer { color: #333; font-size: 0.85em; border-top: 1px solid #ccc; padding-top: 6px; }
.fm-title.fm-big { font-size: 2.4em; }
.fm-present .fm-kpi-value { font-size: 3em; }
.fm-present .fm-kpi-label, .fm-present .fm-kpi-change { font-size: 1.25em; }
div.fm-present { font-size: 1.15em; }
"""
)
EMPTY = {
    "by_period": pd.DataFrame({"stream": [], "period": [], "value": [], "suppressed": []}),
    "by_nationality": pd.DataFrame({"stream": [], "nationality": [], "value": [], "suppressed": []}),
    "by_category": pd.DataFrame({"stream": [], "category": [], "value": [], "suppressed": []}),
    "by_referred_to": pd.DataFrame({"referred_to": [], "value": [], "suppressed": []}),
}


def served() -> bool:
    """Whether this runs in a server session.

    ``pn.state.served`` looks at its caller's module, so it only answers for the served script itself.
    """
    document = pn.state.curdoc
    return document is not None and document.session_context is not None


def _extensions() -> None:
    # inline=True: every script ships with the page, so nothing is fetched from a CDN (offline offices).
    pn.extension("tabulator", inline=True, raw_css=[CSS], loading_indicator=True)
    hv.extension("bokeh", logo=False)


class ArrowKeys(JSComponent):
    """Left and right arrow keys anywhere on the page step the period player."""

    step = param.Integer(default=0, doc="Incremented (+1) or decremented (-1) by each key press")

    _esm = """
    export function render({ model }) {
      const onKey = (event) => {
        const tag = (event.target && event.target.tagName) || "";
        if (["INPUT", "SELECT", "TEXTAREA"].includes(tag)) { return; }
        if (event.key === "ArrowRight") { model.step = model.step + 1; }
        if (event.key === "ArrowLeft") { model.step = model.step - 1; }
      };
      window.addEventListener("keydown", onKey);
      model.on("remove", () => window.removeEventListener("keydown", onKey));
      return document.createElement("span");
    }
    """


class Dashboard(pn.viewable.Viewer):
    """MRRC caseloads, AVRR returns, trafficking referrals and DTM displacement on Sudan's state map.

    ``Dashboard(data_dir=...)`` in a notebook renders inline; ``Dashboard.from_environment().servable()``
    is what ``panel serve`` runs. Filters are the ``store``'s parameters, also read from the URL.
    """

    data_dir = param.String(doc="The data folder")
    operator_k = param.Integer(default=None, allow_None=True, doc="Suppression threshold (operator only)")
    language = param.Selector(default="en", objects=list(i18n.LANGUAGES), doc="Language of the labels")
    present = param.Boolean(default=False, doc="Presentation mode: the map full screen, large type")

    def __init__(self, **params):
        super().__init__(**params)
        _extensions()
        self.dataset = open_dataset(self.data_dir)
        self.store = DataStore(self.dataset, operator_k=self.operator_k)
        self._url_error = ""
        location = pn.state.location
        if location is not None and location.query_params:
            self._apply_url(location.query_params)
        self._root = pn.Column(sizing_mode="stretch_width")
        self._sidebar = pn.Column(sizing_mode="stretch_width")
        self._build()
        if location is not None:
            self.store.param.watch(self._push_url, [*DataStore.FILTERS, "indicator"])

    @classmethod
    def from_environment(cls, **params) -> Dashboard:
        """The dashboard over ``$FLOWMON_DATA_DIR`` (default: the checkout's data/demo)."""
        if os.environ.get("FLOWMON_K"):
            params.setdefault("operator_k", int(os.environ["FLOWMON_K"]))
        if os.environ.get("FLOWMON_PRESENT") == "1":
            params.setdefault("present", True)
        return cls(data_dir=str(store.default_data_dir()), **params)

    # --- URL ------------------------------------------------------------------------------------------
    def _apply_url(self, query: dict) -> None:
        query = {k: v for k, v in query.items() if v not in (None, "")}
        with param.parameterized.discard_events(self):  # read before anything is built
            if str(query.get("present", "")) in ("1", "true", "yes"):
                self.present = True
            if query.get("lang") in i18n.LANGUAGES:
                self.language = query["lang"]
        try:
            self.store.apply_query(query)
        except (ValueError, TypeError) as error:
            self._url_error = f"The link's filters could not all be applied: {error}"

    def url_query(self) -> dict[str, str]:
        query = self.store.to_query()
        if self.present:
            query["present"] = "1"
        if self.language != "en":
            query["lang"] = self.language
        return query

    def _push_url(self, *events) -> None:
        if pn.state.location is not None:
            search = urlencode(self.url_query(), safe=",")
            pn.state.location.search = f"?{search}" if search else ""

    @param.depends("language", "present", watch=True)
    def _switch_mode(self) -> None:
        if served() and pn.state.location is not None:
            # A served page is rebuilt from its URL: the template itself changes with presentation mode.
            pn.state.location.reload = True
            self._push_url()
        else:
            self._build()

    # --- building -------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.map = MapView(self.store, language=self.language, present=self.present)
        self._build_widgets()
        self._build_views()
        self._root.objects = [self.presentation_area() if self.present else self.main_area()]
        self._sidebar.objects = [self.controls]

    def _build_widgets(self) -> None:
        store = self.store
        outline = {"button_type": "primary", "button_style": "outline", "sizing_mode": "stretch_width"}
        self.office_widget = pn.widgets.MultiChoice(
            name="Office", options=self._office_options(), value=list(store.office),
            placeholder="All offices", sizing_mode="stretch_width",
        )  # fmt: skip
        self.office_widget.link(store, value="office", bidirectional=True)
        store.param.watch(lambda *_: setattr(self.office_widget, "options", self._office_options()),
                          ["start", "end"])  # fmt: skip
        self.start_widget = pn.widgets.Select.from_param(
            store.param.start, name="From month", sizing_mode="stretch_width"
        )
        self.end_widget = pn.widgets.Select.from_param(
            store.param.end, name="To month", sizing_mode="stretch_width"
        )
        self.stream_widget = pn.widgets.CheckButtonGroup.from_param(
            store.param.stream, name="Streams", options={self._t(s): s for s in schema.ALL_STREAMS},
            orientation="vertical", **outline,
        )  # fmt: skip
        self.nationality_widget = pn.widgets.MultiChoice.from_param(
            store.param.nationality, name="Nationality", options=self._nationality_options(),
            placeholder="All nationalities", sizing_mode="stretch_width",
        )  # fmt: skip
        self.sex_widget = pn.widgets.CheckButtonGroup.from_param(store.param.sex, name="Sex", **outline)
        self.age_widget = pn.widgets.CheckButtonGroup.from_param(store.param.age_group, name="Age", **outline)
        name_column = "name_ar" if self.language == "ar" else "name_en"
        states = self.dataset.states
        state_options = dict(
            zip(states[name_column] + " (" + states["pcode"] + ")", states["pcode"], strict=True)
        )
        self.state_widget = pn.widgets.MultiChoice.from_param(
            store.param.state, name="States (or click the map)",
            options=state_options,
            placeholder="All states", sizing_mode="stretch_width",
        )  # fmt: skip
        self.granularity_widget = pn.widgets.RadioButtonGroup.from_param(
            store.param.granularity, name="Trend by", **outline
        )
        self.indicator_widget = pn.widgets.Select.from_param(
            store.param.indicator, name="Map shows", options={v: k for k, v in INDICATORS.items()},
            sizing_mode="stretch_width",
        )  # fmt: skip
        geometries = {"Schematic tiles": "tiles"}
        if self.dataset.boundaries is not None:
            geometries["Official boundaries"] = "official"
        self.geometry_widget = pn.widgets.RadioButtonGroup.from_param(
            self.map.param.geometry, name="Map", options=geometries, **outline
        )
        self.language_widget = pn.widgets.RadioButtonGroup.from_param(
            self.param.language, name="Language", options={v: k for k, v in i18n.LANGUAGES.items()}, **outline
        )
        self.present_widget = pn.widgets.Toggle.from_param(
            self.param.present, name="Presentation mode", button_type="primary"
        )
        self.reset_button = pn.widgets.Button(name="Reset filters", button_type="warning")
        self.reset_button.on_click(lambda event: self.store.reset())
        self.exports = pn.Row(*self._export_buttons(), sizing_mode="stretch_width")

        def heading(text: str) -> pn.pane.Markdown:
            return pn.pane.Markdown(f"**{text}**", margin=(0, 10))

        map_choice = [heading("Map"), self.geometry_widget] if len(geometries) > 1 else []
        self.controls = pn.Column(
            self.indicator_widget, *map_choice, self.office_widget, self.start_widget, self.end_widget,
            heading("Streams (none selected: all)"), self.stream_widget, self.state_widget,
            self.nationality_widget, heading("Sex"), self.sex_widget, heading("Age group"), self.age_widget,
            heading("Trend by"), self.granularity_widget, self.reset_button, heading("Export this view"),
            self.exports, heading("Language"), self.language_widget, self.present_widget,
            sizing_mode="stretch_width",
        )  # fmt: skip

    def _export_buttons(self) -> list[pn.widgets.FileDownload]:
        """CSV, HTML and PNG of exactly the current view (aggregated and suppressed, like the page)."""
        from flowmon.export.csv import csv_text
        from flowmon.export.html import html_document
        from flowmon.export.png import png_bytes
        from flowmon.export.view import default_name

        makers = {
            ".csv": lambda: io.StringIO(csv_text(self.store)),
            ".html": lambda: io.StringIO(html_document(self.store)),
            ".png": lambda: io.BytesIO(png_bytes(self.store)),
        }
        buttons = []
        for suffix, make in makers.items():
            button = pn.widgets.FileDownload(
                callback=make, filename=str(default_name(self.store, suffix)), label=suffix[1:].upper(),
                button_type="primary", button_style="outline", sizing_mode="stretch_width",
            )  # fmt: skip

            def rename(event, button=button, suffix=suffix):
                button.filename = str(default_name(self.store, suffix))

            self.store.param.watch(rename, ["view", "indicator"])
            buttons.append(button)
        return buttons

    def _t(self, key: str) -> str:
        return i18n.text(key, self.language)

    def _office_options(self) -> dict[str, str]:
        return {label: code for code, label in self.store.office_labels().items()}

    def _nationality_options(self) -> dict[str, str]:
        countries = self.dataset.countries.set_index("iso3")["name"]
        return {
            (
                f"{countries.get(code, code)} ({code})" if code != schema.UNKNOWN_COUNTRY else "Unknown (UNK)"
            ): code
            for code in self.store.param.nationality.objects
        }

    def _build_views(self) -> None:
        store = self.store
        self.title = pn.pane.HTML(pn.bind(self._title, store.param.view, store.param.indicator),
                                  sizing_mode="stretch_width")  # fmt: skip
        self.message = pn.pane.HTML(pn.bind(self._message, store.param.view, store.param.error),
                                    sizing_mode="stretch_width")  # fmt: skip
        self.kpis = pn.pane.HTML(pn.bind(self._kpis, store.param.view), sizing_mode="stretch_width",
                                 min_height=120)  # fmt: skip
        # DynamicMaps update the drawn charts in place instead of building new Bokeh plots.
        self.trend = self._chart(self._trend)
        self.breakdowns = pn.Tabs(
            (self._t("tab.nationality"), self._chart(self._nationalities)),
            (self._t("tab.services"), self._chart(self._categories, "caseload")),
            (self._t("tab.exploitation"), self._chart(self._categories, "referral")),
            (self._t("tab.reintegration"), self._chart(self._categories, "return")),
            (self._t("tab.referred_to"), self._chart(self._referred_to)),
            dynamic=True, sizing_mode="stretch_width",
        )  # fmt: skip
        table = {"disabled": True, "show_index": False, "sizing_mode": "stretch_width", "height": 380,
                 "layout": "fit_data_table"}  # fmt: skip
        self.state_table = pn.widgets.Tabulator(pn.bind(self._shown, store.param.view, "state"), **table)
        self.office_table = pn.widgets.Tabulator(pn.bind(self._shown, store.param.view, "office"), **table)
        self.tables = pn.Tabs(
            (
                self._t("tab.by_state"),
                pn.Column(self._download("state"), self.state_table, sizing_mode="stretch_width"),
            ),
            (
                self._t("tab.by_office"),
                pn.Column(self._download("office"), self.office_table, sizing_mode="stretch_width"),
            ),
            sizing_mode="stretch_width",
        )
        self.footer = pn.pane.HTML(self._footer(), css_classes=["fm-footer"], sizing_mode="stretch_width")
        self.player = self._player()

    def _chart(self, function, *args) -> pn.pane.HoloViews:
        dynamic = hv.DynamicMap(pn.bind(function, self.store.param.view, *args)).opts(framewise=True)
        return pn.pane.HoloViews(dynamic, sizing_mode="stretch_width", height=CHART_HEIGHT, linked_axes=False)

    # --- what the views show --------------------------------------------------------------------------
    def _title(self, view, indicator) -> str:
        size = "fm-title fm-big" if self.present else "fm-title"
        text = self.store.describe(self.language)
        return f'<p class="{size}" dir="{i18n.direction(self.language)}">{html.escape(text)}</p>'

    def _message(self, view, error) -> str:
        notes = [self._url_error] if self._url_error else []
        if self.dataset.empty:
            notes.append(
                f"{self.dataset.data_dir} holds no data yet: run `flowmon demo --data-dir DIR` for synthetic "
                "demo data, or `flowmon ingest STREAM FILE` for real exports."
            )
        elif error:
            notes.append(f"These filters cannot be applied: {error}")
        elif self._no_data(view):
            notes.append(self._t("no_data"))
        return "".join(f'<div class="fm-empty" role="status">{html.escape(n)}</div>' for n in notes)

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
        # A stream the store holds no data for at all gets no card: "0" would claim it was counted.
        kpis = kpis[kpis["stream"].isin(self.dataset.streams_present)]
        labels = {s: self._t(s) for s in schema.ALL_STREAMS}
        units = {s: self._t(f"unit.{s}") for s in schema.ALL_STREAMS}
        cards = kpi_cards(kpis, labels=labels, units=units, direction=i18n.direction(self.language),
                          previous=self._t("change_vs_previous"))  # fmt: skip
        return f'<div class="fm-present">{cards}</div>' if self.present else cards

    def _trend(self, view):
        table = view.get("by_period", EMPTY["by_period"])
        cases = table[table["stream"] != "displacement"]
        title = self._t("trend_title").format(granularity=self._t(self.store.granularity))
        if self._no_data(view) or not cases["value"].fillna(0).any():
            title = "No case data for this selection"
        return charts.trend(cases, freq=self.store.freq, title=title, labels=self._stream_labels())

    def _stream_labels(self) -> dict[str, str]:
        return {s: self._t(s) for s in schema.ALL_STREAMS}

    def _nationalities(self, view):
        table = view.get("by_nationality", EMPTY["by_nationality"])
        names = self.dataset.countries.set_index("iso3")["name"]
        totals = table.groupby("nationality", observed=True, as_index=False).agg(
            value=("value", lambda v: v.sum(min_count=1)), suppressed=("suppressed", "any")
        )
        totals["country"] = totals["nationality"].astype(str).map(lambda c: names.get(c, "Unknown"))
        return charts.ranked_bars(totals, "country", title=self._t("top_nationalities"))

    def _categories(self, view, stream: str):
        rows = view.get("by_category", EMPTY["by_category"]).query("stream == @stream")
        label = schema.CATEGORY_LABELS[stream]
        title = f"{self._t(stream)} by {label}" if len(rows) else f"{self._t(stream)}: not selected"
        return charts.ranked_bars(rows.rename(columns={"category": label}), label, title=title,
                                  color=STREAM_COLORS[stream])  # fmt: skip

    def _referred_to(self, view):
        rows = view.get("by_referred_to", EMPTY["by_referred_to"])
        title = (
            f"{self._t('referral')} by service referred to"
            if len(rows)
            else f"{self._t('referral')}: not selected"
        )
        return charts.ranked_bars(rows, "referred_to", title=title, color=STREAM_COLORS["referral"])

    def shown_table(self, kind: str, view: dict | None = None) -> pd.DataFrame:
        """Exactly what the table shows (aggregated, suppressed): one row per state or office, by stream."""
        view = self.store.view if view is None else view
        table = view.get("by_state" if kind == "state" else "by_office")
        if table is None or table.empty:
            return pd.DataFrame()
        index = "state_pcode" if kind == "state" else "office"
        wide = table.pivot_table(
            index=index, columns="stream", values="value", aggfunc="first", observed=True, dropna=False
        )
        wide = wide.reindex(columns=[s for s in schema.ALL_STREAMS if s in wide.columns])
        keys = wide.index.astype(str)
        if kind == "state":
            names = self.dataset.states.set_index("pcode")
            wide.insert(0, "state", names.loc[keys, "name_en"].to_numpy())
            wide.insert(1, "الولاية", names.loc[keys, "name_ar"].to_numpy())
        else:
            wide.insert(0, "name", self.dataset.offices.set_index("code").loc[keys, "name"].to_numpy())
        wide = wide.reset_index().rename(columns={"state_pcode": "pcode"})
        return wide.rename(columns=self._stream_labels())

    def _shown(self, view, kind: str) -> pd.DataFrame:
        """The table as a person reads it: thousands separators, '*' for suppressed cells."""
        table = self.shown_table(kind, view)
        for column in self._stream_labels().values():
            if column in table.columns:
                table[column] = [format_count(v) for v in table[column]]
        return table

    def _download(self, kind: str) -> pn.widgets.FileDownload:
        def csv() -> io.StringIO:
            return io.StringIO(self.shown_table(kind).to_csv(index=False))

        return pn.widgets.FileDownload(
            callback=csv, filename=f"flowmon_by_{kind}.csv", label=f"Download CSV (by {kind}, as shown)",
            button_type="primary", button_style="outline",
        )  # fmt: skip

    def _footer(self) -> str:
        sources = []
        for source in self.dataset.sources():
            as_of = source.get("as_of") or (source.get("ingested_at") or "")[:10]
            name = Path(str(source.get("path", ""))).name or source.get("path")
            sources.append(f"{source.get('stream', '')}: {name} ({self._t('as_of')} {as_of})")
        synthetic = f"<b>{self._t('synthetic')}</b>. " if self.dataset.synthetic else ""
        geometry = self._t("official") if self.dataset.boundaries is not None else self._t("schematic")
        note = privacy.footnote(operator_k=self.store.operator_k)
        size = ' class="fm-present"' if self.present else ""
        return (
            f'<div dir="{i18n.direction(self.language)}"{size}>{synthetic}{self._t("sources")}: '
            f"{html.escape('; '.join(sources) or 'none')}. {geometry} {html.escape(note)} "
            "Only aggregated figures are shown; no individual record leaves the server.</div>"
        )

    def _player(self) -> pn.Column:
        """Step through the months one at a time: the map updates in place (presentation mode)."""
        months = list(self.dataset.months) or ["—"]
        current = months.index(self.store.end) if self.store.end in months else len(months) - 1
        player = pn.widgets.Player(
            name="Month", start=0, end=len(months) - 1, value=current, interval=1500, loop_policy="once",
            show_loop_controls=False, show_value=False, sizing_mode="stretch_width",
        )  # fmt: skip
        label = pn.pane.HTML(sizing_mode="stretch_width")

        def show(index: int) -> None:
            month = months[index]
            if month not in self.dataset.months:  # an empty store: nothing to step through
                label.object = f'<div class="fm-title">{html.escape(self._t("no_data"))}</div>'
                return
            name = i18n.month_name(pd.Period(month, "M"), self.language)
            label.object = f'<div class="fm-title">{name}</div>'
            if self.present:
                self.store.param.update(start=month, end=month)

        player.param.watch(lambda event: show(event.new), "value")
        keys = ArrowKeys()
        keys.param.watch(lambda e: setattr(player, "value", min(max(player.value + e.new - e.old, 0),
                                                                 len(months) - 1)), "step")  # fmt: skip
        show(current)
        return pn.Column(label, player, keys, sizing_mode="stretch_width")

    # --- layout ---------------------------------------------------------------------------------------
    def _synthetic_banner(self) -> list:
        if not self.dataset.synthetic:
            return []
        banner = f'<div class="fm-synthetic" role="note">{html.escape(self._t("synthetic"))}</div>'
        return [pn.pane.HTML(banner, sizing_mode="stretch_width")]

    def main_area(self) -> pn.Column:
        right = pn.Column(self.kpis, self.trend, self.breakdowns, sizing_mode="stretch_width")
        # Right to left: the map moves to the right, where an Arabic reader starts.
        columns = [pn.Column(self.map, sizing_mode="stretch_width"), right][
            :: -1 if self.language == "ar" else 1
        ]
        top = pn.Row(*columns, sizing_mode="stretch_width")
        return pn.Column(
            *self._synthetic_banner(), self.title, self.message, top, self.tables, self.footer,
            sizing_mode="stretch_width",
        )  # fmt: skip

    def presentation_area(self) -> pn.Column:
        """1920x1080: the map fills the screen, large type, the month player and the KPIs beside it."""
        side = pn.Column(
            self.player, self.indicator_widget, self.kpis, self.language_widget, self.present_widget,
            width=520,
        )  # fmt: skip
        return pn.Column(
            *self._synthetic_banner(), self.title, self.message,
            pn.Row(*[self.map, side][:: -1 if self.language == "ar" else 1], sizing_mode="stretch_width"),
            self.footer, css_classes=["fm-present"], sizing_mode="stretch_width",
        )  # fmt: skip

    def __panel__(self):
        if not served():
            return pn.Row(pn.Column(self._sidebar, width=320), self._root, sizing_mode="stretch_width")
        if self.present:
            return self._root
        title = TITLE + (f" — {self._t('synthetic_short')}" if self.dataset.synthetic else "")
        return pn.template.BootstrapTemplate(
            title=title, sidebar=[self._sidebar], main=[self._root], header_background=ACCENT,
            sidebar_width=330,
        )  # fmt: skip
