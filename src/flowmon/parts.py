"""The dashboard's parts: small ``View`` classes that read the session and draw its ``ViewData``.

The shape of Panel's "structure a data store" tutorial: the session (``flowmon.datastore.DataStore``) owns
the filters and derives ``view``; each part here only reads ``store.view`` and draws it with the pure
builders of ``flowmon.views``; ``flowmon.app.Dashboard`` lays the parts out. No part counts, protects or
words a figure of its own: titles, notices and footnotes come with the ``ViewData``.
"""

from __future__ import annotations

import functools
import html
import io
from pathlib import Path

import pandas as pd
import panel as pn
import param
from panel.custom import JSComponent

from flowmon import i18n, schema
from flowmon.datastore import DataStore
from flowmon.views import charts, tables
from flowmon.views.cards import kpi_cards
from flowmon.views.style import STREAM_COLORS, format_count

CHART_HEIGHT = 300
# Faces with Arabic glyphs that Debian installs locally (fonts-noto-core): nothing is fetched from a CDN.
ARABIC_FONTS = '"Noto Sans Arabic", "Noto Naskh Arabic", "Noto Sans", sans-serif'
# Right to left in Arabic: the tables' first column at the right, text aligned to where it starts. A
# stylesheet of the pane itself, since each pane draws in its own shadow root.
RTL_TABLE_CSS = f"""
:host, table {{ direction: rtl; font-family: {ARABIC_FONTS}; }}
th, td {{ text-align: right !important; }}
"""


def served() -> bool:
    """Whether this runs in a server session.

    ``pn.state.served`` looks at its caller's module, so it only answers for the served script itself.
    """
    document = pn.state.curdoc
    return document is not None and document.session_context is not None


class View(pn.viewable.Viewer):
    """A part of the dashboard: it reads ``store.view`` (the session's ViewData) and draws it."""

    store = param.ClassSelector(class_=DataStore, doc="The session")
    language = param.Selector(default="en", objects=list(i18n.LANGUAGES))
    present = param.Boolean(default=False, doc="Presentation mode: large type")

    def __init__(self, **params):
        super().__init__(**params)
        self._drawn = None

    def __panel__(self):
        # Drawn once: the same Panel objects wherever the part is shown, updated by their bindings.
        if self._drawn is None:
            self._drawn = self.draw()
        return self._drawn

    def draw(self):
        raise NotImplementedError

    def t(self, key: str) -> str:
        return i18n.text(key, self.language)

    def of_view(self, view, name: str, make):
        """``make(view)``, worked out once per view for every page that shows it in this part's language and
        mode: a view is an immutable snapshot that sessions share, and so is what a part draws from it."""
        return view.derived((type(self).__name__, name, self.language, self.present), lambda: make(view))

    def per_view(self, name: str, make):
        """``make`` as ``of_view`` works it out: the function to bind to the session's view."""
        return lambda view: self.of_view(view, name, make)

    @property
    def dataset(self):
        return self.store.dataset

    def direction_styles(self) -> dict[str, str]:
        """Right to left in Arabic (tabs, tables): inherited into the children's shadow roots."""
        return {"direction": "rtl", "font-family": ARABIC_FONTS} if self.language == "ar" else {}

    def stream_labels(self) -> dict[str, str]:
        return {s: self.t(s) for s in schema.ALL_STREAMS}


class Title(View):
    """What is shown, in words (the ViewData's title)."""

    def draw(self):
        return pn.pane.HTML(pn.bind(self.render, self.store.param.view), sizing_mode="stretch_width")

    def render(self, view) -> str:
        size = "fm-title fm-big" if self.present else "fm-title"
        return f'<p class="{size}" dir="{i18n.direction(self.language)}">{html.escape(view.title)}</p>'


class Notices(View):
    """What the page must say before anything else: a link that had to change, no data, a partial period."""

    link_error = param.String(default="", doc="Why a link's filters could not be applied")

    def draw(self):
        return pn.pane.HTML(pn.bind(self.render, self.store.param.view), sizing_mode="stretch_width")

    def render(self, view) -> str:
        notes = [self.link_error] if self.link_error else []
        notes += list(view.notices)
        if self.dataset.empty:
            notes.append(
                f"{self.dataset.data_dir} holds no data yet: run `flowmon demo --data-dir DIR` for synthetic "
                "demo data, or `flowmon ingest STREAM FILE` for real exports."
            )
        elif view.empty:
            notes.append(self.t("no_data"))
        # On a projector each notice is one compact line: the screen's height belongs to the map.
        kind = "fm-empty fm-compact" if self.present else "fm-empty"
        return "".join(f'<div class="{kind}" role="status">{html.escape(n)}</div>' for n in notes)


class Kpis(View):
    """One card per stream: its total and its change against the previous period of the same kind."""

    def draw(self):
        pane = pn.pane.HTML(pn.bind(self.per_view("cards", self.render), self.store.param.view),
                            sizing_mode="stretch_width", min_height=120)  # fmt: skip
        # A crossings-only view has no case cards: no empty box above the crossings card.
        pane.visible = self.store.param.view.rx().rx.pipe(lambda view: not self.case_kpis(view).empty)
        return pane

    @staticmethod
    def case_kpis(view) -> pd.DataFrame:
        return view.kpis[view.kpis["stream"] != schema.CROSSING]  # crossings have a card of their own

    def render(self, view) -> str:
        kpis = self.case_kpis(view)
        if kpis.empty:
            return ""
        units = {s: self.t(f"unit.{s}") for s in schema.ALL_STREAMS}
        previous = f"{self.t('change_vs')} {view.previous}" if view.previous else self.t("change_vs_previous")
        no_comparison = self.t("partial_no_change") if view.partial else self.t("no_previous")
        cards = kpi_cards(kpis, labels=self.stream_labels(), units=units,
                          direction=i18n.direction(self.language), previous=previous,
                          no_comparison=no_comparison, words=self.change_words())  # fmt: skip
        return f'<div class="fm-present">{cards}</div>' if self.present else cards

    def change_words(self) -> dict[str, str]:
        return {key: self.t(key) for key in ("change_hidden", "no_previous_cases", "none_either")}


def has_trqn(dataset) -> bool:
    """Whether the store holds TRQN assignments (Temporary Return of Qualified Nationals): read from the
    manifest the dataset already holds, not from the table, at every session's start."""
    return any(source.get("stream") == "trqn" for source in dataset.sources())


@functools.lru_cache(maxsize=32)
def _trqn_counts(data_dir: str, stamp: float, period: str | None) -> dict:
    from flowmon import trqn

    return trqn.counts(data_dir, period)


def trqn_counts(data_dir: str, period: str | None) -> dict:
    """Published TRQN counts of a period, computed once per period and version of the table."""
    path = Path(data_dir) / "trqn.parquet"
    return _trqn_counts(data_dir, path.stat().st_mtime if path.exists() else 0.0, period)


def has_cases(view) -> bool:
    """Whether the view's streams include a case stream (displacement or crossings alone have no cases to
    chart)."""
    return any(s in schema.STREAMS for s in view.filters.streams())


def chart(function, view_param) -> pn.param.ParamFunction:
    """A bar chart of ``function(view)`` (a ``charts.Chart``), drawn when first shown (a tab not opened
    builds no figure) and then redrawn in place on every change of the view: no new figure per change, only
    the bars' columns and words are sent."""
    owner, name = view_param.owner, view_param.name

    def draw() -> pn.pane.Bokeh:
        plot = charts.figure(function(getattr(owner, name)), height=CHART_HEIGHT)
        owner.param.watch(lambda event: charts.redraw(plot, function(event.new)), name)
        return pn.pane.Bokeh(plot, sizing_mode="stretch_width", height=CHART_HEIGHT)

    return pn.param.ParamFunction(draw, lazy=True, sizing_mode="stretch_width", height=CHART_HEIGHT)


class Trend(View):
    """People per month, quarter or year, stacked by case stream; partial periods said on the axis."""

    def draw(self):
        # Shown and hidden as a column: Panel's Bokeh pane fails to resync its figure's stylesheets when its
        # own visibility changes.
        holder = pn.Column(
            chart(self.per_view("trend", self.render), self.store.param.view), sizing_mode="stretch_width"
        )
        holder.visible = self.store.param.view.rx().rx.pipe(has_cases)
        return holder

    def render(self, view):
        table = view["by_period"]
        cases = table[table["stream"] != schema.DISPLACEMENT]
        title = self.t("trend_title").format(granularity=self.t(view.filters.granularity))
        if view.empty or not cases["value"].fillna(0).any():
            title = self.t("no_case_data")
            cases = cases.iloc[:0]
        return charts.trend(cases, freq=view.filters.freq, title=title, labels=self.stream_labels(),
                            partial=partial_periods(view, cases),
                            words=axis_words(self.language))  # fmt: skip


def axis_words(language: str) -> dict[str, str]:
    """The charts' axis and hover words in ``language``."""
    return {
        "people": i18n.text("axis.people", language),
        "period": i18n.text("axis.period", language),
        "stream": i18n.text("axis.stream", language),
        "partial": i18n.text("partial", language),
    }


def partial_periods(view, table: pd.DataFrame) -> set[str]:
    """Trend periods the data covers only in part (at the first and last months of the data)."""
    if view.data_start is None or table.empty:
        return set()
    freq = view.filters.freq
    labels = charts.period_labels(table["period"], freq)
    partial = set()
    for label, start in zip(labels, pd.to_datetime(table["period"]), strict=True):
        period = start.to_period(freq)
        if period.asfreq("M", "start") < view.data_start or period.asfreq("M", "end") > view.data_end:
            partial.add(label)
    return partial


class Breakdowns(View):
    """Ranked bars: nationalities (all selected case streams together), services, exploitation, ..."""

    def draw(self):
        view = self.store.param.view
        tabs = [("nationality", self.nationalities)]
        tabs += [
            (tab, functools.partial(self.categories, stream=stream))
            for tab, stream in (
                ("services", "caseload"),
                ("exploitation", "referral"),
                ("reintegration", "return"),
            )
        ]
        tabs += [
            ("referred_to", self.referred_to),
            *([("trqn", self.trqn)] if has_trqn(self.dataset) else []),
        ]
        tabs = pn.Tabs(
            *((self.t(f"tab.{tab}"), chart(self.per_view(tab, bars), view)) for tab, bars in tabs),
            dynamic=True, sizing_mode="stretch_width", styles=self.direction_styles(),
        )  # fmt: skip
        tabs.visible = view.rx().rx.pipe(has_cases)
        return tabs

    def trqn(self, view):
        """TRQN assignments active in the period, by sector (national: not limited to an office)."""
        published = trqn_counts(str(self.dataset.data_dir), view.filters.period)
        rows = published.get("by_sector", pd.DataFrame({"sector": [], "value": [], "suppressed": []}))
        return charts.ranked_bars(rows, "sector", title=self.t("trqn_title"), color="#56B4E9")

    def nationalities(self, view):
        totals = view["nationality_total"]
        names = self.dataset.countries.set_index("iso3")["name"]
        label = self.t("label.nationality")
        unknown = self.t("unknown_country")
        codes = totals["nationality"].astype(str)
        country = [i18n.country_name(code, self.language, names.get(code, unknown)) for code in codes]
        return charts.ranked_bars(totals.assign(**{label: country}), label, title=self.t("top_nationalities"),
                                  words=axis_words(self.language))  # fmt: skip

    def categories(self, view, stream: str):
        rows = view["by_category"].query("stream == @stream")
        return self.ranked(rows, "category", self.t(f"label.{stream}"), stream)

    def referred_to(self, view):
        return self.ranked(view["by_referred_to"], "referred_to", self.t("label.referred_to"), "referral")

    def ranked(self, rows: pd.DataFrame, column: str, label: str, stream: str):
        """Bars of ``rows`` by ``column`` (its values worded in the page's language), titled in words."""
        name = self.t(stream)
        if len(rows):
            title = self.t("breakdown.by").format(stream=name, label=label)
        else:
            title = self.t("breakdown.not_selected").format(stream=name)
        rows = rows.assign(**{label: i18n.value_labels(column, rows[column], self.language)})
        return charts.ranked_bars(rows, label, title=title, color=STREAM_COLORS[stream],
                                  words=axis_words(self.language))  # fmt: skip


class Tables(View):
    """Every state and every office with the published figures of each stream, and their CSV."""

    def draw(self):
        # Plain HTML tables: every row at once with no inner scroll (a projected or exported view shows them
        # all), right to left in Arabic, no grid library to fetch or keep in step (Panel 1.9's Tabulator can
        # spin forever redrawing a table in a hidden tab).
        rtl = self.language == "ar"
        options = {"index": False, "sizing_mode": "stretch_width", "text_align": "start",
                   "css_classes": ["fm-table"], "stylesheets": [RTL_TABLE_CSS] if rtl else []}  # fmt: skip
        view = self.store.param.view
        return pn.Tabs(
            *(
                (self.t(f"tab.by_{kind}"),
                 pn.Column(self.download(kind), pn.pane.DataFrame(pn.bind(self.shown, view, kind), **options),
                           sizing_mode="stretch_width", styles={"direction": "rtl"} if rtl else {}))
                for kind in ("state", "office")
            ),
            sizing_mode="stretch_width", styles=self.direction_styles(),
        )  # fmt: skip

    def table(self, kind: str, view=None) -> pd.DataFrame:
        """Exactly what the table shows (published figures): one row per state or office, by stream."""
        view = self.store.view if view is None else view
        return self.of_view(view, f"table {kind}", lambda v: tables.wide(
            v, self.dataset, kind, labels=self.stream_labels(), language=self.language))  # fmt: skip

    def shown(self, view, kind: str) -> pd.DataFrame:
        """The table as a person reads it: thousands separators."""
        return self.of_view(view, f"shown {kind}", lambda v: self._readable(self.table(kind, v)))

    def _readable(self, table: pd.DataFrame) -> pd.DataFrame:
        table = table.copy()  # the published figures stay as they are, for the CSV
        for column in self.stream_labels().values():
            if column in table.columns:
                table[column] = [format_count(v) for v in table[column]]
        return table

    def download(self, kind: str) -> pn.widgets.FileDownload:
        def csv() -> io.StringIO:
            return io.StringIO(self.table(kind).to_csv(index=False))

        return pn.widgets.FileDownload(
            callback=csv, filename=f"flowmon_by_{kind}.csv",
            label=self.t("download_table").format(kind=self.t(f"download.{kind}")),
            color="primary", variant="outline",
        )  # fmt: skip


class Footer(View):
    """Sources with their "as of" dates, the map's geometry, the protection footnote."""

    def draw(self):
        return pn.pane.HTML(pn.bind(self.render, self.store.param.view), css_classes=["fm-footer"],
                            sizing_mode="stretch_width")  # fmt: skip

    def render(self, view) -> str:
        streams = {stream: self.t(stream) for stream in schema.ALL_STREAMS}
        sources = [f"{streams.get(s['stream'], s['stream'])}: {s['source']} ({self.t('as_of')} {s['as_of']})"
                   for s in view.sources]  # fmt: skip
        synthetic = f"<b>{self.t('synthetic')}</b>. " if view.synthetic else ""
        geometry = self.t("official") if self.dataset.boundaries is not None else self.t("schematic")
        size = ' class="fm-present"' if self.present else ""
        return (
            f'<div dir="{i18n.direction(self.language)}"{size}>{synthetic}{self.t("sources")}: '
            f"{html.escape('; '.join(sources) or self.t('none'))}. {geometry} {html.escape(view.footnote)} "
            f"{html.escape(self.t('aggregated_only'))}</div>"
        )


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


class Player(View):
    """Step through the months one at a time (buttons or arrow keys): each step is that month's view."""

    def draw(self):
        months = list(self.dataset.months) or ["—"]
        end = self.store.view.end
        current = months.index(str(end)) if end is not None and str(end) in months else len(months) - 1
        player = pn.widgets.Player(
            label=self.t("player"), start=0, end=len(months) - 1, value=current, interval=1500,
            loop_policy="once", show_loop_controls=False, show_value=False, sizing_mode="stretch_width",
        )  # fmt: skip

        def step(index: int) -> None:
            if months[index] in self.dataset.months:  # an empty store has nothing to step through
                self.store.period = months[index]

        player.param.watch(lambda event: step(event.new), "value")
        if not served():
            # In a notebook the player's buttons step it: Panel's ESM components ask a CDN for
            # es-module-shims there, which an office without internet cannot reach.
            return pn.Column(player, sizing_mode="stretch_width")
        keys = ArrowKeys()
        keys.param.watch(lambda e: setattr(player, "value", min(max(player.value + e.new - e.old, 0),
                                                                 len(months) - 1)), "step")  # fmt: skip
        return pn.Column(player, keys, sizing_mode="stretch_width")
