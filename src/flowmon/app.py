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
import panel as pn
import param

from flowmon import access, access_log, i18n, parts, schema, store
from flowmon.datastore import ALL, INDICATORS, DataStore, open_dataset
from flowmon.mapview import MapView
from flowmon.views.cards import CARD_CSS

TITLE = "flowmon · IOM Sudan migration and displacement"
ACCENT = "#0033a0"  # IOM blue
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
.fm-title.fm-big { font-size: 2.2em; margin: 0; }
.fm-present .fm-kpi-value { font-size: 3em; }
.fm-present .fm-kpi-label, .fm-present .fm-kpi-change { font-size: 1.25em; }
div.fm-present { font-size: 1.15em; }
.fm-map-key { line-height: 1.9; }
.fm-map-scale, .fm-map-missing { font-size: 1.05em; }
.fm-map-missing { color: #7a4d00; }
.fm-present-screen { height: 100vh; overflow: hidden; }
/* A projector at 1280x720: the same screen, smaller type. */
@media (max-height: 800px), (max-width: 1400px) {
  .fm-title.fm-big { font-size: 1.5em; }
  .fm-present .fm-kpi-value { font-size: 2.1em; }
  .fm-present .fm-kpi-label, .fm-present .fm-kpi-change { font-size: 1em; }
  div.fm-present { font-size: 0.95em; }
  .fm-present .fm-footer { font-size: 0.8em; }
}
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
        common = {"store": self.store, "language": self.language, "present": self.present}
        self.title = parts.Title(**common)
        self.message = parts.Notices(link_error=self._url_error, **common)
        self.kpis = parts.Kpis(**common)
        self.trend = parts.Trend(**common)
        self.breakdowns = parts.Breakdowns(**common)
        self.tables = parts.Tables(**common)
        self.footer = parts.Footer(**common)
        self.player = parts.Player(**common)

    # --- layout ---------------------------------------------------------------------------------------
    def _synthetic_banner(self) -> list:
        if not self.dataset.synthetic:
            return []
        banner = f'<div class="fm-synthetic" role="note">{html.escape(self._t("synthetic"))}</div>'
        return [pn.pane.HTML(banner, sizing_mode="stretch_width")]

    def main_area(self) -> pn.Column:
        # Displacement alone has no cases to chart: the trend and breakdowns step aside (parts.has_cases).
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
        """One screen (1920x1080 down to 1280x720), nothing clipped: the title in words, the map at its own
        aspect in whatever space is left, its key under it, the month player and large KPIs beside it, the
        footnote and sources at the bottom."""
        side = pn.Column(
            self.player, self.indicator_widget, self.kpis,
            pn.Row(self.language_widget, self.present_widget, sizing_mode="stretch_width"),
            css_classes=["fm-present-side"], sizing_mode="stretch_height", width=500, min_width=360,
        )  # fmt: skip
        body = pn.Row(
            *[self.map, side][:: -1 if self.language == "ar" else 1],
            sizing_mode="stretch_both", css_classes=["fm-present-body"],
        )  # fmt: skip
        return pn.Column(
            *self._synthetic_banner(), self.title, self.message, body, self.footer,
            css_classes=["fm-present", "fm-present-screen"], sizing_mode="stretch_both",
        )  # fmt: skip

    def __panel__(self):
        if not served():
            return pn.Row(pn.Column(self._sidebar, width=320), self._root, sizing_mode="stretch_width")
        if self.present:
            # The whole window, not the page's natural height: the map fills what the rest leaves.
            self._root.sizing_mode = "stretch_both"
            self._root.styles = {"height": "100vh"}
            return self._root
        title = TITLE + (f" — {self._t('synthetic_short')}" if self.dataset.synthetic else "")
        return pn.template.BootstrapTemplate(
            title=title, sidebar=[self._sidebar], main=[self._root], header_background=ACCENT,
            sidebar_width=330,
        )  # fmt: skip
