"""The dashboard's parts for cross-border movements: the KPI card, the trend by direction, the top
nationalities and destinations, and the table by crossing point.

Like ``flowmon.parts``, each reads ``store.view`` (its ``crossings``: published tables of
``flowmon.crossings.publish``) and draws it with the pure builders of ``flowmon.views``; each is shown only
while the view shows crossings. The numbers are the published cells as they are: the "all directions"
figures are cells of their own, never a sum of the directions.
"""

from __future__ import annotations

import functools
import io

import pandas as pd
import panel as pn

from flowmon import crossings, i18n
from flowmon.parts import RTL_TABLE_CSS, View, axis_words, chart, partial_periods
from flowmon.views import charts
from flowmon.views.cards import crossing_card
from flowmon.views.style import DIRECTION_COLORS, format_count


def shows_crossings(view) -> bool:
    return bool(view.crossings)


def wanted(view) -> bool:
    """Whether the view asks for crossings (even when the store has none: the card then says so)."""
    return view.filters.crossings


class Lazy(View):
    """A part drawn the first time the view shows crossings: a page without them carries none of its charts
    (each chart is Bokeh models to build and send with every page)."""

    def draw(self):
        holder = pn.Column(sizing_mode="stretch_width", visible=False)

        def follow(view) -> None:
            if shows_crossings(view) and not holder.objects:
                holder.objects = [self.content()]
            holder.visible = shows_crossings(view)

        follow(self.store.view)
        self.store.param.watch(lambda event: follow(event.new), "view")
        return holder

    def content(self):
        raise NotImplementedError


class CrossingKpis(View):
    """In, out, net and the daily average, each with its change against the previous period."""

    def draw(self):
        pane = pn.pane.HTML(pn.bind(self.render, self.store.param.view), sizing_mode="stretch_width")
        pane.visible = self.store.param.view.rx().rx.pipe(wanted)
        return pane

    def render(self, view) -> str:
        if not shows_crossings(view):
            none = f'<div class="fm-empty" role="status">{self.t("crossing.no_data")}</div>'
            return none if wanted(view) else ""
        words = {"title": self.t("crossing.card"), "in": self.t("crossing.in"), "out": self.t("crossing.out"),
                 "net": self.t("crossing.net"), "daily average": self.t("crossing.daily"),
                 "unit": self.t("unit.crossing"), "per_day": self.t("crossing.per_day")}  # fmt: skip
        previous = f"{self.t('change_vs')} {view.previous}" if view.previous else self.t("change_vs_previous")
        no_comparison = self.t("partial_no_change") if view.partial else self.t("no_previous")
        card = crossing_card(view.crossings["card"], words=words, direction=i18n.direction(self.language),
                             previous=previous, no_comparison=no_comparison,
                             change_words={k: self.t(k) for k in ("change_hidden", "no_previous_cases",
                                                                  "none_either")})  # fmt: skip
        return f'<div class="fm-present">{card}</div>' if self.present else card


def direction_labels(language: str) -> dict[str, str]:
    return {d: i18n.text(f"direction.{d}", language) for d in crossings.MEASURES}


class CrossingTrend(Lazy):
    """People crossing per month, quarter or year, stacked by direction (in, out, transit)."""

    def content(self):
        return chart(self.per_view("trend", self.render), self.store.param.view)

    def render(self, view):
        table = view.crossings["by_period"] if shows_crossings(view) else pd.DataFrame()
        if not table.empty:
            # The directions stacked: each a published cell; the "all" cells are the card's, not stacked.
            table = table[table["direction"] != crossings.ALL].rename(columns={"stream": "kind"})
            table = table.rename(columns={"direction": "stream"})
        title = self.t("crossing.trend").format(granularity=self.t(view.filters.granularity))
        colors = {d: DIRECTION_COLORS[d] for d in crossings.DIRECTIONS}
        words = {**axis_words(self.language), "stream": self.t("filter.direction")}
        partial = partial_periods(view, table) if len(table) else set()
        labels = direction_labels(self.language)
        return charts.trend(table, freq=view.filters.freq, title=title, labels=labels, partial=partial,
                            colors=colors, words=words)  # fmt: skip


class CrossingBreakdowns(Lazy):
    """Top nationalities and top intended destinations of the people crossing, in the view's direction."""

    def content(self):
        view = self.store.param.view
        return pn.Tabs(
            *((self.t(f"tab.crossing_{column}"),
               chart(self.per_view(column, functools.partial(self.ranked, column=column)), view))
              for column in ("nationality", "destination")),
            dynamic=True, sizing_mode="stretch_width", styles=self.direction_styles(),
        )  # fmt: skip

    def ranked(self, view, column: str):
        direction = view.crossing_direction
        if shows_crossings(view):
            rows = crossings.top(view.crossings[f"by_{column}"], direction)
        else:
            rows = pd.DataFrame({column: [], "value": [], "suppressed": []})
        label = self.t(f"tab.crossing_{column}")
        rows = rows.assign(**{label: [self.place(code) for code in rows[column].astype(str)]})
        key = "crossing.top_nationalities" if column == "nationality" else "crossing.top_destinations"
        title = self.t(key).format(direction=self.t(f"direction.{direction}"))
        return charts.ranked_bars(rows, label, title=title, color=DIRECTION_COLORS[direction],
                                  words=axis_words(self.language))  # fmt: skip

    def place(self, code: str) -> str:
        """A country (ISO3) or a state (pcode) in the page's language."""
        states = self.dataset.states.set_index("pcode")["name_ar" if self.language == "ar" else "name_en"]
        if code in states.index:
            return str(states[code])
        names = self.dataset.countries.set_index("iso3")["name"]
        return i18n.country_name(code, self.language, names.get(code, code))


class CrossingTable(Lazy):
    """Every selected crossing point with its published figures by direction, and their CSV."""

    def content(self):
        options = {"index": False, "sizing_mode": "stretch_width", "text_align": "start",
                   "css_classes": ["fm-table"],
                   "stylesheets": [RTL_TABLE_CSS] if self.language == "ar" else []}  # fmt: skip
        view = self.store.param.view
        download = pn.widgets.FileDownload(
            callback=lambda: io.StringIO(self.table().to_csv(index=False)), filename="flowmon_by_point.csv",
            label=self.t("download_table").format(kind=self.t("download.point")), color="primary",
            variant="outline",
        )  # fmt: skip
        return pn.Column(
            pn.pane.Markdown(f"**{self.t('tab.by_point')}**"), download,
            pn.pane.DataFrame(pn.bind(self.per_view("shown", self.shown), view), **options),
            sizing_mode="stretch_width",
            styles=self.direction_styles(),
        )  # fmt: skip

    def table(self, view=None) -> pd.DataFrame:
        """Exactly what the table shows (published figures): one row per point, a column per direction."""
        view = self.store.view if view is None else view
        if not shows_crossings(view):
            return pd.DataFrame()
        points = crossings.map_points(view.crossings["by_point"])
        name = "name_ar" if self.language == "ar" else "name"
        labels = direction_labels(self.language)
        table = points[["code", name, *crossings.MEASURES]].rename(columns={name: self.t("column.point"),
                                                                           **labels})  # fmt: skip
        return table.reset_index(drop=True)

    def shown(self, view) -> pd.DataFrame:
        table = self.table(view)
        for column in direction_labels(self.language).values():
            if column in table.columns:
                table[column] = [format_count(v) for v in table[column]]
        return table
