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
from urllib.parse import urlencode

import holoviews as hv
import pandas as pd
import panel as pn
import param
from panel.custom import JSComponent

from flowmon import access, access_log, i18n, schema, store
from flowmon.datastore import ALL, INDICATORS, DataStore, open_dataset
from flowmon.mapview import MapView
from flowmon.views import charts, tables
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
.fm-table table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
.fm-table th, .fm-table td { padding: 3px 10px; border-bottom: 1px solid #e3e3e3; }
.fm-table th { background: #f2f4f8; }
.fm-title.fm-big { font-size: 2.4em; }
.fm-present .fm-kpi-value { font-size: 3em; }
.fm-present .fm-kpi-label, .fm-present .fm-kpi-change { font-size: 1.25em; }
div.fm-present { font-size: 1.15em; }
"""
)


def served() -> bool:
    """Whether this runs in a server session.

    ``pn.state.served`` looks at its caller's module, so it only answers for the served script itself.
    """
    document = pn.state.curdoc
    return document is not None and document.session_context is not None


def _extensions() -> None:
    # inline=True: every script ships with the page, so nothing is fetched from a CDN (offline offices).
    pn.extension(inline=True, raw_css=[CSS], loading_indicator=True)
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
    scope = param.ClassSelector(class_=access.Scope, default=None, doc="Who is looking: offices, exports")

    def __init__(self, **params):
        super().__init__(**params)
        _extensions()
        if self.scope is None:
            self.scope = access.current_scope()  # outside a signed-in server session: every office
        if self.scope.present_only:
            with param.parameterized.discard_events(self):
                self.present = True
        # A scoped viewer's data is only their offices' events: "all offices" means all of theirs, and no
        # view, export or link can reach past them (DTM displacement, public data, stays whole).
        self.dataset = open_dataset(self.data_dir).scoped(self.scope.offices)
        self.store = DataStore(self.dataset, operator_k=self.operator_k, language=self.language)
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
                self.store.language = self.language
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
        wide = {"sizing_mode": "stretch_width"}
        self.period_widget = pn.widgets.Select(
            name="Period", groups=self._period_groups(), value=store.period, **wide
        )
        self.period_widget.link(store, value="period", bidirectional=True)
        self.office_widget = pn.widgets.Select.from_param(
            store.param.office, name="Office", options=self._office_options(), **wide
        )
        store.param.watch(lambda *_: setattr(self.office_widget, "options", self._office_options()), "period")
        self.stream_widget = pn.widgets.CheckButtonGroup.from_param(
            store.param.stream, name="Streams", options={self._t(s): s for s in schema.ALL_STREAMS},
            orientation="vertical", **outline,
        )  # fmt: skip
        self.nationality_widget = pn.widgets.Select.from_param(
            store.param.nationality, name="Nationality", options=self._nationality_options(), **wide
        )
        self.sex_widget = pn.widgets.RadioButtonGroup.from_param(
            store.param.sex, name="Sex", options=self._all_or("sex", schema.SEXES), **outline
        )
        self.age_widget = pn.widgets.RadioButtonGroup.from_param(
            store.param.age_group, name="Age", options=self._all_or("age_group", schema.AGE_GROUPS), **outline
        )
        name_column = "name_ar" if self.language == "ar" else "name_en"
        states = self.dataset.states
        state_options = {self._t("all_states"): ALL} | dict(
            zip(states[name_column] + " (" + states["pcode"] + ")", states["pcode"], strict=True)
        )
        self.state_widget = pn.widgets.Select.from_param(
            store.param.state, name="State (or click the map)", options=state_options, **wide
        )
        self.granularity_widget = pn.widgets.RadioButtonGroup.from_param(
            store.param.granularity, name="Trend by", **outline
        )
        self.indicator_widget = pn.widgets.Select.from_param(
            store.param.indicator, name="Map shows", options={v: k for k, v in INDICATORS.items()}, **wide
        )
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
        self.exports = pn.Row(*self._export_buttons(), sizing_mode="stretch_width",
                              visible=self.scope.allows_export())  # fmt: skip

        def heading(text: str) -> pn.pane.Markdown:
            return pn.pane.Markdown(f"**{text}**", margin=(0, 10))

        map_choice = [heading("Map"), self.geometry_widget] if len(geometries) > 1 else []
        self.controls = pn.Column(
            self.indicator_widget, *map_choice, self.period_widget, self.office_widget,
            heading("Streams (none selected: all)"), self.stream_widget, self.state_widget,
            self.nationality_widget, heading("Sex"), self.sex_widget, heading("Age group"), self.age_widget,
            heading("Trend by"), self.granularity_widget, self.reset_button, heading("Export this view"),
            self.exports, heading("Language"), self.language_widget, self.present_widget,
            sizing_mode="stretch_width",
        )  # fmt: skip

    def _period_groups(self) -> dict[str, list[str]]:
        """Periods grouped by kind, newest first: a year, a half-year, a quarter or a month."""
        names = {"year": "Years", "half": "Half-years", "quarter": "Quarters", "month": "Months"}
        groups = self.store.choices.periods
        return {names[kind]: list(reversed(groups[kind])) for kind in reversed(groups) if groups[kind]}

    def _all_or(self, name: str, values) -> dict[str, str]:
        return {self._t(f"all.{name}"): ALL, **{v: v for v in values}}

    def _export_buttons(self) -> list[pn.widgets.FileDownload]:
        """CSV, HTML and PNG of exactly the current view (aggregated and suppressed, like the page)."""
        from flowmon.export.csv import csv_text
        from flowmon.export.html import html_document
        from flowmon.export.png import png_bytes
        from flowmon.export.view import default_name

        def logged(kind: str, make):
            def export():
                self.scope.check_export(kind)  # enforced here, not only by hiding the buttons
                settings = access.settings_in_force(self.data_dir)
                if settings is not None:
                    access_log.record(self.scope, self.url_query(), kind, settings.data_dir)
                return make()

            return export

        makers = {
            ".csv": logged("csv", lambda: io.StringIO(csv_text(self.store))),
            ".html": logged("html", lambda: io.StringIO(html_document(self.store))),
            ".png": logged("png", lambda: io.BytesIO(png_bytes(self.store, present=self.present))),
        }
        buttons = []
        for suffix, make in makers.items():
            button = pn.widgets.FileDownload(
                callback=make, filename=str(default_name(self.store, suffix)), label=suffix[1:].upper(),
                button_type="primary", button_style="outline", sizing_mode="stretch_width",
            )  # fmt: skip

            def rename(event, button=button, suffix=suffix):
                button.filename = str(default_name(self.store, suffix))

            self.store.param.watch(rename, "view")
            buttons.append(button)
        return buttons

    def _t(self, key: str) -> str:
        return i18n.text(key, self.language)

    def _office_options(self) -> dict[str, str]:
        labels = {label: code for code, label in self.store.office_labels().items()}
        return {self._t("all_offices").capitalize(): ALL, **labels}

    def _nationality_options(self) -> dict[str, str]:
        """Only nationalities with enough records to show safely are offered (``viewdata.choices``)."""
        countries = self.dataset.countries.set_index("iso3")["name"]
        options = {self._t("all.nationality"): ALL}
        for code in self.store.choices.nationalities:
            name = "Unknown" if code == schema.UNKNOWN_COUNTRY else countries.get(code, code)
            options[f"{name} ({code})"] = code
        return options

    def _build_views(self) -> None:
        store = self.store
        self.title = pn.pane.HTML(pn.bind(self._title, store.param.view), sizing_mode="stretch_width")
        self.message = pn.pane.HTML(pn.bind(self._message, store.param.view), sizing_mode="stretch_width")
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
        # Plain HTML tables: every state and office at once with no inner scroll (a projected or exported
        # view shows them all), right to left in Arabic, and no grid library to fetch or keep in step
        # (Panel 1.9's Tabulator can spin forever redrawing a table in a hidden tab).
        table = {"index": False, "sizing_mode": "stretch_width", "css_classes": ["fm-table"],
                 "text_align": "start"}  # fmt: skip
        self.state_table = pn.pane.DataFrame(pn.bind(self._shown, store.param.view, "state"), **table)
        self.office_table = pn.pane.DataFrame(pn.bind(self._shown, store.param.view, "office"), **table)
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
        self.footer = pn.pane.HTML(pn.bind(self._footer, store.param.view), css_classes=["fm-footer"],
                                   sizing_mode="stretch_width")  # fmt: skip
        self.player = self._player()

    def _chart(self, function, *args) -> pn.pane.HoloViews:
        dynamic = hv.DynamicMap(pn.bind(function, self.store.param.view, *args)).opts(framewise=True)
        return pn.pane.HoloViews(dynamic, sizing_mode="stretch_width", height=CHART_HEIGHT, linked_axes=False)

    # --- what the views show: each reads the session's ViewData and draws it --------------------------
    def _title(self, view) -> str:
        size = "fm-title fm-big" if self.present else "fm-title"
        return f'<p class="{size}" dir="{i18n.direction(self.language)}">{html.escape(view.title)}</p>'

    def _message(self, view) -> str:
        notes = [self._url_error] if self._url_error else []
        notes += list(view.notices)
        if self.dataset.empty:
            notes.append(
                f"{self.dataset.data_dir} holds no data yet: run `flowmon demo --data-dir DIR` for synthetic "
                "demo data, or `flowmon ingest STREAM FILE` for real exports."
            )
        elif view.empty:
            notes.append(self._t("no_data"))
        return "".join(f'<div class="fm-empty" role="status">{html.escape(n)}</div>' for n in notes)

    def _kpis(self, view) -> str:
        if view.kpis.empty:
            return ""
        labels = {s: self._t(s) for s in schema.ALL_STREAMS}
        units = {s: self._t(f"unit.{s}") for s in schema.ALL_STREAMS}
        previous = (
            f"{self._t('change_vs')} {view.previous}" if view.previous else self._t("change_vs_previous")
        )
        no_comparison = self._t("partial_no_change") if view.partial else self._t("no_previous")
        cards = kpi_cards(view.kpis, labels=labels, units=units, direction=i18n.direction(self.language),
                          previous=previous, no_comparison=no_comparison)  # fmt: skip
        return f'<div class="fm-present">{cards}</div>' if self.present else cards

    def _trend(self, view):
        table = view["by_period"]
        cases = table[table["stream"] != "displacement"]
        title = self._t("trend_title").format(granularity=self._t(view.filters.granularity))
        if view.empty or not cases["value"].fillna(0).any():
            title = self._t("no_case_data")
            cases = cases.iloc[:0]
        return charts.trend(cases, freq=view.filters.freq, title=title, labels=self._stream_labels(),
                            partial=self._partial_periods(view, cases))  # fmt: skip

    def _partial_periods(self, view, table: pd.DataFrame) -> set[str]:
        """Trend periods the data covers only in part (the first and last months of the data)."""
        if view.data_start is None or table.empty:
            return set()
        freq = view.filters.freq
        labels = charts.period_labels(table["period"], freq)
        partial = set()
        for label, start in zip(labels, pd.to_datetime(table["period"]), strict=True):
            period = start.to_period(freq)
            first, last = period.asfreq("M", "start"), period.asfreq("M", "end")
            if first < view.data_start or last > view.data_end:
                partial.add(label)
        return partial

    def _stream_labels(self) -> dict[str, str]:
        return {s: self._t(s) for s in schema.ALL_STREAMS}

    def _nationalities(self, view):
        totals = view["nationality_total"]
        names = self.dataset.countries.set_index("iso3")["name"]
        totals = totals.assign(
            country=totals["nationality"].astype(str).map(lambda c: names.get(c, "Unknown"))
        )
        return charts.ranked_bars(totals, "country", title=self._t("top_nationalities"))

    def _categories(self, view, stream: str):
        rows = view["by_category"].query("stream == @stream")
        label = schema.CATEGORY_LABELS[stream]
        title = f"{self._t(stream)} by {label}" if len(rows) else f"{self._t(stream)}: not selected"
        return charts.ranked_bars(rows.rename(columns={"category": label}), label, title=title,
                                  color=STREAM_COLORS[stream])  # fmt: skip

    def _referred_to(self, view):
        rows = view["by_referred_to"]
        title = (
            f"{self._t('referral')} by service referred to"
            if len(rows)
            else f"{self._t('referral')}: not selected"
        )
        return charts.ranked_bars(rows, "referred_to", title=title, color=STREAM_COLORS["referral"])

    def shown_table(self, kind: str, view=None) -> pd.DataFrame:
        """Exactly what the table shows (published figures): one row per state or office, by stream."""
        return tables.wide(self.store.view if view is None else view, self.dataset, kind,
                           labels=self._stream_labels())  # fmt: skip

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

    def _footer(self, view) -> str:
        sources = [f"{s['stream']}: {s['source']} ({self._t('as_of')} {s['as_of']})" for s in view.sources]
        synthetic = f"<b>{self._t('synthetic')}</b>. " if view.synthetic else ""
        geometry = self._t("official") if self.dataset.boundaries is not None else self._t("schematic")
        size = ' class="fm-present"' if self.present else ""
        return (
            f'<div dir="{i18n.direction(self.language)}"{size}>{synthetic}{self._t("sources")}: '
            f"{html.escape('; '.join(sources) or 'none')}. {geometry} {html.escape(view.footnote)} "
            f"{html.escape(self._t('aggregated_only'))}</div>"
        )

    def _player(self) -> pn.Column:
        """Step through the months one at a time: each step is that month's view (presentation mode)."""
        months = list(self.dataset.months) or ["—"]
        end = self.store.view.end
        current = months.index(str(end)) if end is not None and str(end) in months else len(months) - 1
        player = pn.widgets.Player(
            name="Month", start=0, end=len(months) - 1, value=current, interval=1500, loop_policy="once",
            show_loop_controls=False, show_value=False, sizing_mode="stretch_width",
        )  # fmt: skip

        def step(index: int) -> None:
            if months[index] in self.dataset.months:  # an empty store has nothing to step through
                self.store.period = months[index]

        player.param.watch(lambda event: step(event.new), "value")
        keys = ArrowKeys()
        keys.param.watch(lambda e: setattr(player, "value", min(max(player.value + e.new - e.old, 0),
                                                                 len(months) - 1)), "step")  # fmt: skip
        return pn.Column(player, keys, sizing_mode="stretch_width")

    # --- layout ---------------------------------------------------------------------------------------
    def _synthetic_banner(self) -> list:
        if not self.dataset.synthetic:
            return []
        banner = f'<div class="fm-synthetic" role="note">{html.escape(self._t("synthetic"))}</div>'
        return [pn.pane.HTML(banner, sizing_mode="stretch_width")]

    def main_area(self) -> pn.Column:
        right = pn.Column(self.kpis, self.trend, self.breakdowns, sizing_mode="stretch_width")
        # Displacement alone has no cases to chart: the trend and breakdowns step aside, not draw empty axes.
        has_cases = self.store.param.view.rx().filters.rx.pipe(
            lambda f: any(s != schema.DISPLACEMENT for s in f.streams())
        )
        self.trend.visible = has_cases
        self.breakdowns.visible = has_cases
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
