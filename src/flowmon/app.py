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
import re
from urllib.parse import urlencode

import pandas as pd
import panel as pn
import param
from panel.io.state import set_curdoc

from flowmon import access, access_log, crossing_parts, crossings, i18n, notebook, parts, schema, store
from flowmon.datastore import ALL, INDICATORS, DataStore, open_dataset
from flowmon.filters import INDICATOR_STREAM, STREAM_CHOICES
from flowmon.mapview import MapView
from flowmon.parts import served
from flowmon.views.cards import CARD_CSS

TITLE = "flowmon · IOM Sudan migration and displacement"
ACCENT = "#0033a0"  # IOM blue
MAP_MIN_WIDTH = 800  # px: narrower, the map no longer shares its row with the figures
SIDE_MIN_WIDTH = 420  # px: the KPI cards two by two
# "(closed Apr 2023)" in datastore.office_label's English words, reworded in Arabic.
_OFFICE_STATUS = re.compile(r"\((?P<status>closed|opened) (?P<month>[A-Z][a-z]{2}) (?P<year>\d{4})\)")
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
/* On a projector the notices are one line each: the height is the map's. */
.fm-empty.fm-compact { font-size: 1em; padding: 6px 14px; }
/* A projector at 1280x720: the same screen, smaller type. */
@media (max-height: 800px), (max-width: 1400px) {
  .fm-title.fm-big { font-size: 1.5em; }
  .fm-present .fm-kpi-value { font-size: 2.1em; }
  .fm-present .fm-kpi-label, .fm-present .fm-kpi-change { font-size: 1em; }
  div.fm-present { font-size: 0.95em; }
  .fm-present .fm-footer { font-size: 0.8em; }
  .fm-empty.fm-compact { font-size: 0.9em; padding: 3px 10px; }
}
"""
)


def load_extensions(again: bool = False) -> None:
    """Panel for the dashboard: from the server's /static/ when served, else inline (offline offices; in a
    notebook displayed once, with HoloViews for the analysts' own plots, see ``flowmon.notebook``). The
    dashboard itself draws plain Bokeh figures: a served page needs no HoloViews."""
    if served():
        pn.extension(inline=False, raw_css=[CSS], loading_indicator=True)
        _local_stylesheets(pn.state.curdoc)
    else:
        notebook.load_inline([CSS], again=again)


def _local_stylesheets(document) -> None:
    """A served session's stylesheets come from the server, even when no page was rendered for it.

    Panel points its models' stylesheets at the server's /static/ when it renders the page's HTML; until
    then they link cdn.holoviz.org. A session that expired before its page's websocket came (a page slower
    to load than the unused-session lifetime: a poor connection) is built again for the websocket, with no
    page rendered: offline, its page then lost Panel's stylesheets. Set before the models are made, they
    start local; rendering the HTML sets the same place again (or the CDN, under ``--resources cdn``).
    """
    from panel.io.resources import LOCAL_DIST
    from panel.io.state import state

    local = f"{state.rel_path}/{LOCAL_DIST}" if state.rel_path else LOCAL_DIST
    document._template_variables.setdefault("dist_url", local)


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
        load_extensions()
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
            # On the new view, not on each filter: the address changes in the same message as the page.
            self.store.param.watch(self._push_url, "view")

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
        self._place_main_area()
        self._sidebar.objects = [self.controls]
        self._sidebar.styles = self.controls.styles  # the sidebar itself runs right to left in Arabic

    def _place_main_area(self) -> None:
        """The map, figures and tables; served, built on the tick after the page's HTML is sent.

        The HTML then goes out with the sidebar and a loading main area at once; the main area is built
        while the browser fetches and starts its scripts, and is in the document the page then asks for.
        """
        area = self.presentation_area if self.present else self.main_area
        document = pn.state.curdoc
        if not served():
            self._root.objects = [area()]
            return
        self._root.objects = [pn.Column(loading=True, min_height=400, sizing_mode="stretch_both")]

        def fill() -> None:
            with set_curdoc(document):
                self._root.objects = [area()]

        document.add_next_tick_callback(fill)

    def _build_widgets(self) -> None:
        store, t = self.store, self._t
        outline = {"color": "primary", "variant": "outline", "sizing_mode": "stretch_width"}
        wide = {"sizing_mode": "stretch_width"}
        # from_param would show each parameter's English doc as a tooltip: the labels say enough.
        described = {"description": None}
        self.period_widget = pn.widgets.Select(
            label=t("widget.period"), groups=self._period_groups(), value=store.period, **wide
        )
        self.period_widget.link(store, value="period", bidirectional=True)
        self.office_widget = pn.widgets.Select.from_param(
            store.param.office, **described, name=t("widget.office"), options=self._office_options(), **wide
        )
        store.param.watch(lambda *_: setattr(self.office_widget, "options", self._office_options()), "view")
        streams = [s for s in STREAM_CHOICES if s != schema.CROSSING or self.has_crossings]
        self.stream_widget = pn.widgets.CheckButtonGroup.from_param(
            store.param.stream, **described, name=t("widget.streams"),
            options={t(s): s for s in streams}, orientation="vertical", **outline,
        )  # fmt: skip
        self._build_crossing_widgets()
        self.nationality_widget = pn.widgets.Select.from_param(
            store.param.nationality,
            **described,
            name=t("widget.nationality"),
            options=self._nationality_options(),
            **wide,
        )
        self.sex_widget = pn.widgets.RadioButtonGroup.from_param(
            store.param.sex,
            **described,
            name=t("widget.sex"),
            options=self._all_or("sex", schema.SEXES),
            **outline,
        )
        self.age_widget = pn.widgets.RadioButtonGroup.from_param(
            store.param.age_group, **described, name=t("widget.age_group"),
            options=self._all_or("age_group", schema.AGE_GROUPS), **outline,
        )  # fmt: skip
        name_column = "name_ar" if self.language == "ar" else "name_en"
        states = self.dataset.states
        state_options = {t("all_states"): ALL} | dict(
            zip(states[name_column] + " (" + states["pcode"] + ")", states["pcode"], strict=True)
        )
        self.state_widget = pn.widgets.Select.from_param(
            store.param.state, **described, name=t("widget.state"), options=state_options, **wide
        )
        self.granularity_widget = pn.widgets.RadioButtonGroup.from_param(
            store.param.granularity, **described, name=t("widget.granularity"),
            options={t(g): g for g in store.param.granularity.objects}, **outline,
        )  # fmt: skip
        # A closed select shows only the chosen line, cut at the sidebar's width: a list box shows every
        # choice on a line of its own.
        indicators = [i for i in INDICATORS if INDICATOR_STREAM[i] != schema.CROSSING or self.has_crossings]
        self.indicator_widget = pn.widgets.Select.from_param(
            store.param.indicator, **described, name=t("widget.indicator"),
            options={t(f"choice.{i}"): i for i in indicators}, size=len(indicators), **wide,
        )  # fmt: skip
        geometries = {t("geometry.tiles"): "tiles"}
        if self.dataset.boundaries is not None:
            geometries[t("geometry.official")] = "official"
        self.geometry_widget = pn.widgets.RadioButtonGroup.from_param(
            self.map.param.geometry, **described, name=t("widget.geometry"), options=geometries, **outline
        )
        self.language_widget = pn.widgets.RadioButtonGroup.from_param(
            self.param.language, **described, name=t("widget.language"),
            options={v: k for k, v in i18n.LANGUAGES.items()}, **outline,
        )  # fmt: skip
        self.present_widget = pn.widgets.Toggle.from_param(
            self.param.present, label=t("widget.present"), color="primary"
        )
        self.reset_button = pn.widgets.Button(label=t("widget.reset"), color="warning")
        self.reset_button.on_click(lambda event: self.reset())
        *files, profile = self._export_buttons()
        self.exports = pn.Column(pn.Row(*files, sizing_mode="stretch_width"), profile,
                                 sizing_mode="stretch_width", visible=self.scope.allows_export())  # fmt: skip

        def heading(text: str) -> pn.pane.Markdown:
            return pn.pane.Markdown(f"**{text}**", margin=(0, 10))

        map_choice = [heading(t("widget.geometry")), self.geometry_widget] if len(geometries) > 1 else []
        # Right to left in Arabic: every widget's text, options and order of buttons (direction inherits
        # into the widgets' shadow roots); the font names a face with Arabic glyphs installed locally.
        rtl = {"direction": "rtl", "font-family": parts.ARABIC_FONTS} if self.language == "ar" else {}
        self.controls = pn.Column(
            self.indicator_widget, *map_choice, self.period_widget, self.office_widget,
            heading(t("widget.streams")), self.stream_widget, self.crossing_widgets, self.state_widget,
            self.nationality_widget, heading(t("widget.sex")), self.sex_widget,
            heading(t("widget.age_group")), self.age_widget, heading(t("widget.granularity")),
            self.granularity_widget, self.reset_button,
            heading(t("widget.export")), self.exports, heading(t("widget.language")), self.language_widget,
            self.present_widget, sizing_mode="stretch_width", styles=rtl,
        )  # fmt: skip

    @property
    def has_crossings(self) -> bool:
        """Whether the store holds cross-border movements (the stream is offered only then)."""
        return schema.CROSSING in self.dataset.streams_present

    def _build_crossing_widgets(self) -> None:
        """Crossing point and direction: shown while the view shows crossings (they select nothing else)."""
        store, t = self.store, self._t
        name = "name_ar" if self.language == "ar" else "name"
        points = crossings.points()
        labels = points[name] + " (" + points["code"] + ")"
        self.point_widget = pn.widgets.Select.from_param(
            store.param.point, description=None, name=t("widget.point"), sizing_mode="stretch_width",
            options={t("all.point"): ALL, **dict(zip(labels, points["code"], strict=True))},
        )  # fmt: skip
        self.direction_widget = pn.widgets.RadioButtonGroup.from_param(
            store.param.direction, description=None, name=t("widget.direction"), color="primary",
            # One under the other: four choices side by side do not fit the sidebar (in Arabic least).
            variant="outline", sizing_mode="stretch_width", orientation="vertical",
            options={t("all.direction"): ALL, **{t(f"direction.{d}"): d for d in schema.DIRECTIONS}},
        )  # fmt: skip
        self.crossing_widgets = pn.Column(
            self.point_widget, pn.pane.Markdown(f"**{t('widget.direction')}**", margin=(0, 10)),
            self.direction_widget, sizing_mode="stretch_width",
            visible=store.param.view.rx().rx.pipe(crossing_parts.wanted),
        )  # fmt: skip

    def reset(self) -> None:
        """Every filter the sidebar shows back to its default, the map's geometry too."""
        self.store.reset()
        self.map.geometry = self.map.param.geometry.default

    def _period_groups(self) -> dict[str, dict[str, str]]:
        """Periods grouped by kind, newest first: a year, a half-year, a quarter or a month."""
        groups = self.store.choices.periods
        return {
            self._t(f"group.{kind}"): {i18n.period_label(p, self.language): p for p in reversed(groups[kind])}
            for kind in reversed(groups)
            if groups[kind]
        }

    def _all_or(self, name: str, values) -> dict[str, str]:
        return {self._t(f"all.{name}"): ALL, **{i18n.value_label(name, v, self.language): v for v in values}}

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

        def profile() -> io.BytesIO:
            # The briefing pack of the view's period and office, in the page's language (A4, offline).
            from flowmon.profile.builder import build_profile
            from flowmon.profile.pdf import pdf_bytes

            filters = self.store.view.filters
            pack = build_profile(self.dataset.data_dir, filters.period, office=filters.office,
                                 language=self.language, operator_k=self.operator_k)  # fmt: skip
            return io.BytesIO(pdf_bytes(pack.html))

        makers = {
            ".csv": logged("csv", lambda: io.StringIO(csv_text(self.store))),
            ".html": logged("html", lambda: io.StringIO(html_document(self.store))),
            ".png": logged("png", lambda: io.BytesIO(png_bytes(self.store, present=self.present))),
            ".pdf": logged("profile", profile),
        }

        def name(suffix: str) -> str:
            named = str(default_name(self.store, suffix))
            return named.replace("flowmon_", "flowmon_profile_", 1) if suffix == ".pdf" else named

        labels = {".pdf": self._t("widget.profile")}
        buttons = []
        for suffix, make in makers.items():
            button = pn.widgets.FileDownload(
                callback=make, filename=name(suffix), label=labels.get(suffix, suffix[1:].upper()),
                color="primary", variant="outline", sizing_mode="stretch_width",
            )  # fmt: skip

            def rename(event, button=button, suffix=suffix):
                button.filename = name(suffix)

            self.store.param.watch(rename, "view")
            buttons.append(button)
        return buttons

    def _t(self, key: str) -> str:
        return i18n.text(key, self.language)

    def _office_options(self) -> dict[str, str]:
        """Every office, marked when closed in the view's period: worked out once per view and language."""

        def options() -> dict[str, str]:
            offices = self.store.office_labels().items()
            labels = {self._office_label(code, label): code for code, label in offices}
            return {self._t("all_offices").capitalize(): ALL, **labels}

        return dict(self.store.view.derived(("office options", self.language), options))  # the widget's own

    def _office_label(self, code: str, label: str) -> str:
        """``KRT · Khartoum (closed Apr 2023)`` in Arabic: ``KRT · الخرطوم (أُغلق أبريل 2023)``."""
        if self.language != "ar":
            return label
        names = self.dataset.offices.set_index("code")["name_ar"]
        arabic = f"{code} · {names.get(code, code)}"
        found = _OFFICE_STATUS.search(label)
        if found:
            when = i18n.month_name(pd.Period(f"{found['month']} {found['year']}", "M"), "ar")
            arabic += f" ({self._t('office.' + found['status']).format(date=when)})"
        return arabic

    def _nationality_options(self) -> dict[str, str]:
        """Only nationalities with enough records to show safely are offered (``viewdata.choices``)."""
        countries = self.dataset.countries.set_index("iso3")["name"]
        options = {self._t("all.nationality"): ALL}
        for code in self.store.choices.nationalities:
            name = i18n.country_name(code, self.language, countries.get(code, code))
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
        self.crossing_kpis = crossing_parts.CrossingKpis(**common)
        self.crossing_trend = crossing_parts.CrossingTrend(**common)
        self.crossing_breakdowns = crossing_parts.CrossingBreakdowns(**common)
        self.crossing_table = crossing_parts.CrossingTable(**common)
        self.player = parts.Player(**common)

    # --- layout ---------------------------------------------------------------------------------------
    def _synthetic_banner(self) -> list:
        if not self.dataset.synthetic:
            return []
        banner = f'<div class="fm-synthetic" role="note">{html.escape(self._t("synthetic"))}</div>'
        return [pn.pane.HTML(banner, sizing_mode="stretch_width")]

    def main_area(self) -> pn.Column:
        # Displacement alone has no cases to chart: the trend and breakdowns step aside (parts.has_cases).
        breakdowns = self._after_first_paint(self.breakdowns, self.crossing_breakdowns)
        right = pn.Column(self.kpis, self.crossing_kpis, self.trend, self.crossing_trend, breakdowns,
                          sizing_mode="stretch_width")  # fmt: skip
        map_column = pn.Column(self.map, sizing_mode="stretch_width")
        if served():  # right to left: the map moves to the right, where an Arabic reader starts
            # Side by side in equal halves while the map's half is at least MAP_MIN_WIDTH wide; on a
            # narrower screen (a laptop) the figures wrap under a map of the full width.
            map_column.styles = {"flex": "1 1 0", "min-width": f"{MAP_MIN_WIDTH}px"}
            right.styles = {"flex": "1 1 0", "min-width": f"{SIDE_MIN_WIDTH}px"}
            direction = "row-reverse" if self.language == "ar" else "row"
            top = pn.FlexBox(map_column, right, flex_direction=direction, flex_wrap="wrap",
                             sizing_mode="stretch_width")  # fmt: skip
        else:  # a notebook's column is too narrow for both side by side: the map gets its width
            top = pn.Column(map_column, right, sizing_mode="stretch_width")
        below = self._after_first_paint(self.tables, self.crossing_table, self.footer)
        return pn.Column(
            *self._synthetic_banner(), self.title, self.message, top, below, sizing_mode="stretch_width"
        )  # fmt: skip

    @staticmethod
    def _after_first_paint(*parts) -> pn.Column:
        """``parts`` in a column, built (served) once the page has drawn what is above them.

        The breakdowns, tables and footer lie below the map: the page's first document leaves them out, and
        they follow when the browser reports it has rendered (``pn.state.onload``), so the map is on
        screen sooner (fewer models to make, send and lay out first).
        """
        holder = pn.Column(sizing_mode="stretch_width")
        if not served():
            holder.objects = list(parts)
            return holder
        holder.loading = True

        def fill() -> None:
            holder.objects = list(parts)
            holder.loading = False

        pn.state.onload(fill)
        return holder

    def presentation_area(self) -> pn.Column:
        """One screen (1920x1080 down to 1280x720), nothing clipped: the title in words, the map at its own
        aspect in whatever space is left, its key under it, the month player and large KPIs beside it, the
        footnote and sources at the bottom."""
        side = pn.Column(
            self.player, self.indicator_widget, self.kpis, self.crossing_kpis,
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
        # No busy spinner: Panel's is one per process, so every open page's spinner turned at any page's
        # change (a message to each page, a viewer shown when others worked, a cost growing with pages),
        # while a page's own change answers in one burst that a spinner would not show.
        return pn.template.BootstrapTemplate(
            title=title, sidebar=[self._sidebar], main=[self._root], header_background=ACCENT,
            sidebar_width=330, busy_indicator=None,
        )  # fmt: skip
