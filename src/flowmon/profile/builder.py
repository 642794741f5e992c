"""The profile as one HTML document of A4 pages, built from the published ``ViewData`` of its period.

Chapters follow IOM's migration profile template: key figures, displacement, assisted returns and
reintegration, counter-trafficking, cross-border movements (when the store has them), diaspora engagement
(TRQN), and data sources, coverage and gaps. Every figure is a cell of ``viewdata.build(dataset,
Filters(period, office))`` (the dashboard's numbers for the same view) or of ``flowmon.trqn.counts``; every
page carries its sources with their "as of" dates and the view's protection footnote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from importlib import resources
from pathlib import Path
from string import Template

import pandas as pd

from flowmon import i18n, schema, trqn, viewdata
from flowmon.datastore import open_dataset
from flowmon.filters import Filters, period_kind
from flowmon.profile import charts
from flowmon.profile.text import change, kpi_sentence, listing, number, ranked
from flowmon.profile.words import country, term, word

FONTS = {
    "en": '"Noto Sans", "Noto Sans Arabic", "DejaVu Sans", sans-serif',
    "ar": '"Noto Naskh Arabic", "Noto Sans Arabic", "Noto Sans", "DejaVu Sans", sans-serif',
}
CASE_STREAMS = schema.STREAMS


@dataclass
class Page:
    chapter: str
    body: str
    streams: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass
class Profile:
    """The built profile: the HTML to print, its pages and the view its numbers come from."""

    html: str
    pages: list[Page]
    view: viewdata.ViewData
    trqn: dict = field(default_factory=dict)
    language: str = "en"


class _Names:
    def __init__(self, dataset, language: str):
        self.language = language
        column = "name_ar" if language == "ar" else "name_en"
        self.states = dataset.states.set_index("pcode")[column].to_dict()
        offices = dataset.offices.set_index("code")
        self.offices = offices["name_ar" if language == "ar" else "name"].to_dict()

    def state(self, pcode) -> str:
        return self.states.get(str(pcode), str(pcode))

    def country(self, code) -> str:
        return country(str(code), self.language)

    def term(self, code) -> str:
        return term(str(code), self.language)


def build_profile(
    data_dir, period: str, *, office: str | None = None, language: str = "en", operator_k=None
) -> Profile:
    """The profile of ``period`` (a calendar month, quarter, half-year or year) for one office or all."""
    if language not in i18n.LANGUAGES:
        raise ValueError(f"--lang: {language!r} is not one of {', '.join(i18n.LANGUAGES)}")
    period_kind(period)  # a clear error for a malformed period
    dataset = open_dataset(data_dir)
    if dataset.empty:
        raise ValueError(f"{data_dir}: the store holds no data (run flowmon ingest or flowmon demo first)")
    view = viewdata.build(
        dataset, Filters(period=period, office=office), operator_k=operator_k, language=language
    )
    # A period only partly covered is not compared with the previous one (as the dashboard's KPIs).
    previous = None if view.partial else view.previous
    trqn_counts = trqn.counts(dataset.data_dir, period, previous)
    names = _Names(dataset, language)
    ctx = _Context(view, names, language, trqn_counts, dataset)
    pages = [
        ctx.key_figures(),
        ctx.displacement(),
        ctx.returns(),
        ctx.trafficking(),
        ctx.crossings_and_trqn(),
        ctx.sources_page(),
    ]
    return Profile(_document(ctx, pages), pages, view, trqn_counts, language)


class _Context:
    def __init__(self, view, names: _Names, language: str, trqn_counts: dict, dataset):
        self.view = view
        self.names = names
        self.lang = language
        self.trqn = trqn_counts
        self.dataset = dataset
        self.period_words = viewdata.period_words(view.filters.period, language)
        self.previous_words = viewdata.period_words(view.previous, language) if view.previous else ""
        self.rtl = language == "ar"

    def w(self, key: str) -> str:
        return word(key, self.lang)

    def stream_name(self, stream: str) -> str:
        return self.w("trqn") if stream == trqn.STREAM else i18n.text(stream, self.lang)

    def rows(self, table: str, stream: str | None = None) -> pd.DataFrame:
        frame = self.view.tables[table]
        return frame[frame["stream"] == stream] if stream and "stream" in frame.columns else frame

    # --- pieces -------------------------------------------------------------------------------------
    def bars(self, heading: str, items: list[tuple[str, int]], width: int = 320) -> str:
        if not items:
            return ""
        return f"<div><h2>{escape(heading)}</h2>{charts.bars(items, width=width, rtl=self.rtl)}</div>"

    def sentences(self, lines: list[str | None]) -> str:
        shown = [line for line in lines if line]
        return '<ul class="sentences">' + "".join(f"<li>{escape(s)}</li>" for s in shown) + "</ul>"

    def table(self, heading: str, header: list[str], rows: list[list], numeric: set[int]) -> str:
        if not rows:
            return ""
        head = "".join(
            f'<th class="{"n" if i in numeric else ""}">{escape(h)}</th>' for i, h in enumerate(header)
        )
        body = "".join(
            "<tr>"
            + "".join(
                f'<td class="n">{number(c)}</td>' if i in numeric else f"<td><bdi>{escape(str(c))}</bdi></td>"
                for i, c in enumerate(row)
            )
            + "</tr>"
            for row in rows
        )
        return f"<h2>{escape(heading)}</h2><table><tr>{head}</tr>{body}</table>"

    def kpi_line(self, stream: str) -> str | None:
        row = self.view.kpi(stream)
        if row is None:
            return None
        if stream == schema.DISPLACEMENT and not self.view.rounds.empty:
            # A stock (DTM rounds) is people displaced at a date, not movements within the period.
            return self.w("s.stock").format(value=int(row["value"]))
        return kpi_sentence(
            self.stream_name(stream),
            i18n.text(f"unit.{stream}", self.lang),
            row,
            self.period_words,
            self.previous_words,
            self.lang,
        )

    def none_line(self, stream: str) -> str:
        return self.w("s.none").format(what=self.stream_name(stream), period=self.period_words)

    # --- chapters -----------------------------------------------------------------------------------
    def key_figures(self) -> Page:
        view = self.view
        cards = []
        for row in view.kpis.itertuples(index=False):
            row = row._asdict()
            phrase = change(row, self.previous_words, self.lang)
            if phrase is None:
                reason = i18n.text("partial_no_change" if view.partial else "no_previous", self.lang)
                phrase = reason if view.previous else ""
            trend = self.rows("by_period", row["stream"]).sort_values("period")["value"].fillna(0)
            cards.append(
                f'<div class="kpi"><div class="name">{escape(self.stream_name(row["stream"]))}</div>'
                f'<div class="value">{number(row["value"])}</div>'
                f'<div class="change">{escape(phrase)}</div>'
                f"{charts.sparkline([int(v) for v in trend], rtl=self.rtl)}</div>"
            )
        total = self.trqn.get("total")
        if total is not None and len(total):
            phrase = change(total.iloc[0], self.previous_words, self.lang) or ""
            cards.append(
                f'<div class="kpi"><div class="name">{escape(self.w("trqn"))}</div>'
                f'<div class="value">{number(total.iloc[0]["value"])}</div>'
                f'<div class="change">{escape(phrase)}</div></div>'
            )
        lines = [self.kpi_line(s) for s in schema.ALL_STREAMS]
        lines.append(self._trqn_sentence())
        lines.extend(view.notices)
        services = ranked(self.rows("by_category", "caseload"), "category", self.names.term)
        nationalities = ranked(self.rows("by_nationality", "caseload"), "nationality", self.names.country, 8)
        if nationalities:
            lines.append(self.w("s.caseload_nationality").format(list=listing(nationalities, self.lang)))
        office = self.names.offices.get(view.filters.office) if view.filters.office else None
        where = self.w("office_name").format(name=office) if office else self.w("all_offices")
        body = (
            f'<h1 class="cover">{escape(self.w("profile"))}</h1>'
            f'<p class="note">{escape(self.w("subtitle"))}. {escape(self.w("generated"))}.</p>'
            f"<p><b>{escape(self.w('period'))}:</b> {escape(self.period_words)} · "
            f"<b>{escape(self.w('office'))}:</b> {escape(where)}</p>"
            f"<h2>{escape(self.w('h.kpis'))}</h2>"
            f'<div class="kpis">{"".join(cards)}</div>'
            f"{self.sentences(lines)}"
            '<div class="grid">'
            f"{self.bars(self.w('h.caseload_services'), services)}"
            f"{self.bars(self.w('h.caseload_nationality'), nationalities)}"
            "</div>"
        )
        return Page("ch.key", body, (*self.view.streams_present, trqn.STREAM))

    def displacement(self) -> Page:
        stream = schema.DISPLACEMENT
        if stream not in self.view.streams_present:
            return Page("ch.displacement", self.sentences([self.none_line(stream)]), (stream,))
        hosts = ranked(self.rows("by_state", stream), "state_pcode", self.names.state, 8)
        origins = ranked(self.rows("departures", stream), "state_pcode", self.names.state, 8)
        flows = self.rows("state_flows")
        flows = flows[flows["value"].fillna(0) > 0].sort_values(
            ["value", "origin_pcode", "destination_pcode"], ascending=[False, True, True], kind="stable"
        )
        lines = [self.kpi_line(stream)]
        if hosts:
            lines.append(self.w("s.host").format(list=listing(hosts, self.lang)))
        if origins:
            lines.append(self.w("s.origin").format(list=listing(origins, self.lang)))
        top = flows.head(10)
        if len(top):
            first = top.iloc[0]
            lines.append(
                self.w("s.flow").format(
                    origin=self.names.state(first["origin_pcode"]),
                    destination=self.names.state(first["destination_pcode"]),
                    value=int(first["value"]),
                )
            )
        else:
            lines.append(self.w("s.no_flows"))
        pairs = [
            (self.names.state(o), self.names.state(d), int(v))
            for o, d, v in zip(top["origin_pcode"], top["destination_pcode"], top["value"], strict=True)
        ]
        sankey = (
            f"<h2>{escape(self.w('h.sankey'))}</h2>{charts.sankey(pairs[:6], height=210, rtl=self.rtl)}"
            if pairs
            else ""
        )
        table = self.table(
            self.w("h.flow_table"),
            [self.w("col.origin"), self.w("col.destination"), self.w("col.people")],
            [[o, d, v] for o, d, v in pairs[:6]],
            {2},
        )
        body = (
            self.sentences(lines)
            + '<div class="grid">'
            + self.bars(self.w("h.by_state_in"), hosts)
            + self.bars(self.w("h.by_state_out"), origins)
            + "</div>"
            + sankey
            + table
        )
        return Page("ch.displacement", body, (stream,))

    def returns(self) -> Page:
        stream = "return"
        if stream not in self.view.streams_present:
            return Page("ch.returns", self.sentences([self.none_line(stream)]), (stream,))
        status = ranked(self.rows("by_category", stream), "category", self.names.term)
        nationalities = ranked(self.rows("by_nationality", stream), "nationality", self.names.country, 8)
        flows = self.rows("return_flows")
        flows = (
            flows[flows["value"].fillna(0) > 0]
            .sort_values(
                ["value", "state_pcode", "destination"], ascending=[False, True, True], kind="stable"
            )
            .head(12)
        )
        lines = [self.kpi_line(stream)]
        if len(flows):
            first = flows.iloc[0]
            lines.append(
                self.w("s.return_flow").format(
                    state=self.names.state(first["state_pcode"]),
                    country=self.names.country(first["destination"]),
                    value=int(first["value"]),
                )
            )
        if status:
            lines.append(self.w("s.reintegration").format(list=listing(status, self.lang, n=len(status))))
        if nationalities:
            lines.append(self.w("s.nationality").format(list=listing(nationalities, self.lang)))
        table = self.table(
            self.w("h.return_flows"),
            [self.w("col.state"), self.w("col.country"), self.w("col.people")],
            [
                [self.names.state(s), self.names.country(d), int(v)]
                for s, d, v in zip(flows["state_pcode"], flows["destination"], flows["value"], strict=True)
            ],
            {2},
        )
        body = (
            self.sentences(lines)
            + '<div class="grid">'
            + self.bars(self.w("h.reintegration"), status)
            + self.bars(self.w("h.return_nationality"), nationalities)
            + "</div>"
            + table
        )
        return Page("ch.returns", body, (stream,))

    def trafficking(self) -> Page:
        stream = "referral"
        if stream not in self.view.streams_present:
            return Page("ch.trafficking", self.sentences([self.none_line(stream)]), (stream,))
        kinds = ranked(self.rows("by_category", stream), "category", self.names.term)
        services = ranked(self.rows("by_referred_to", stream), "referred_to", self.names.term)
        nationalities = ranked(self.rows("by_nationality", stream), "nationality", self.names.country, 8)
        lines = [self.kpi_line(stream)]
        if kinds:
            lines.append(self.w("s.exploitation").format(list=listing(kinds, self.lang)))
        if services:
            lines.append(self.w("s.services").format(list=listing(services, self.lang)))
        if nationalities:
            lines.append(self.w("s.victim_nationality").format(list=listing(nationalities, self.lang)))
        body = (
            self.sentences(lines)
            + '<div class="grid">'
            + self.bars(self.w("h.exploitation"), kinds)
            + self.bars(self.w("h.services"), services)
            + "</div>"
            + self.bars(self.w("h.referral_nationality"), nationalities, width=420)
        )
        return Page("ch.trafficking", body, (stream,))

    def _trqn_sentence(self) -> str | None:
        total = self.trqn.get("total")
        if total is None or not len(total):
            return None
        row = total.iloc[0]
        phrase = change(row, self.previous_words, self.lang)
        if phrase is None:
            return self.w("s.trqn").format(value=int(row["value"]), period=self.period_words)
        return self.w("s.trqn_change").format(
            value=int(row["value"]),
            period=self.period_words,
            change=phrase,
            previous=int(row["previous"]),
            previous_period=self.previous_words,
        )

    def crossings_and_trqn(self) -> Page:
        crossings = self.view.tables.get("crossings")
        if crossings is None or crossings.empty:
            first = f"<h1>{escape(self.w('ch.crossings'))}</h1>" + self.sentences(
                [self.w("s.crossings_none")]
            )
        else:
            shown = crossings.drop(columns=[c for c in ("suppressed",) if c in crossings.columns]).head(12)
            numeric = {i for i, c in enumerate(shown.columns) if c == "value"}
            first = f"<h1>{escape(self.w('ch.crossings'))}</h1>" + self.table(
                "", [str(c) for c in shown.columns], shown.astype(object).values.tolist(), numeric
            )
        sectors = ranked(self.trqn["by_sector"], "sector", self.names.term) if self.trqn else []
        states = ranked(self.trqn["by_state"], "state_pcode", self.names.state, 10) if self.trqn else []
        residence = (
            ranked(self.trqn["by_residence"], "country_of_residence", self.names.country, 8)
            if self.trqn
            else []
        )
        lines = [self._trqn_sentence() or self.w("s.trqn_none")]
        if sectors:
            lines.append(self.w("s.trqn_sector").format(list=listing(sectors, self.lang, n=len(sectors))))
        if states:
            lines.append(self.w("s.trqn_state").format(list=listing(states, self.lang)))
        if residence:
            lines.append(self.w("s.trqn_residence").format(list=listing(residence, self.lang)))
        if self.view.filters.office:
            lines.append(self.w("s.trqn_national"))
        lines.append(self.w("s.trqn_k"))
        body = (
            first
            + f"<h1>{escape(self.w('ch.trqn'))}</h1>"
            + self.sentences(lines)
            + '<div class="grid">'
            + self.bars(self.w("h.trqn_sector"), sectors)
            + self.bars(self.w("h.trqn_state"), states)
            + "</div>"
            + self.bars(self.w("h.trqn_residence"), residence)
        )
        return Page("", body, ("crossings", trqn.STREAM))

    def sources_page(self) -> Page:
        view = self.view
        rows = [
            [self.stream_name(s["stream"]) if s["stream"] else "", s["source"], s["as_of"]]
            for s in view.sources
        ]
        table = self.table(
            self.w("h.sources"),
            [self.w("col.stream"), self.w("col.source"), self.w("col.as_of")],
            rows,
            set(),
        )
        coverage = []
        if view.data_start is not None:
            coverage.append(
                self.w("cov.months").format(
                    first=i18n.month_name(view.data_start, self.lang),
                    last=i18n.month_name(view.data_end, self.lang),
                )
            )
        key = "cov.partial" if view.partial else "cov.full"
        coverage.append(self.w(key).format(period=self.period_words))
        if not view.rounds.empty:
            rounds = "; ".join(
                f"{r.source} ({pd.Timestamp(r.date):%Y-%m-%d})" for r in view.rounds.itertuples()
            )
            coverage.append(self.w("cov.rounds").format(rounds=rounds))
        gaps = []
        absent = [self.stream_name(s) for s in schema.ALL_STREAMS if s not in view.streams_present]
        if not self.trqn:
            absent.append(self.w("trqn"))
        if not view.tables.get("crossings", pd.DataFrame()).shape[0]:
            absent.append(self.w("ch.crossings").split(" ", 1)[1])
        if absent:
            gaps.append(
                self.w("cov.absent").format(
                    list=", ".join(absent) if self.lang != "ar" else "، ".join(absent)
                )
            )
        closed = [
            self.names.offices.get(code, code) for code, is_open in view.offices_open.items() if not is_open
        ]
        if closed and any(s in view.streams_present for s in CASE_STREAMS):
            gaps.append(self.w("cov.offices").format(list=("، " if self.rtl else ", ").join(closed)))
        gaps.append(
            self.w("cov.protect").format(
                k=view.k.get("caseload", 5) - 1, k_ref=view.k.get("referral", 11) - 1
            )
        )
        gaps.append(self.w("cov.record_text"))
        if view.synthetic:
            gaps.append(self.w("cov.synthetic"))
        body = (
            table
            + f"<h2>{escape(self.w('h.coverage'))}</h2>"
            + self.sentences(coverage)
            + f"<h2>{escape(self.w('h.gaps'))}</h2>"
            + self.sentences(gaps)
        )
        return Page("ch.sources", body, tuple(s["stream"] for s in view.sources))


def _ltr(text: str) -> str:
    return f'<bdi dir="ltr">{escape(str(text))}</bdi>'


def _footer(ctx: _Context, page: Page, n: int, total: int) -> str:
    view = ctx.view
    # A chapter without data of its own names what the store holds (so its page still says as of when).
    shown = [s for s in view.sources if s["stream"] in page.streams] or list(view.sources)
    # File names and dates kept left to right inside Arabic text (else 2026-06-30 reads 30-06-2026).
    sources = "; ".join(
        f"{escape(ctx.stream_name(s['stream']))}: {_ltr(s['source'])} ({escape(ctx.w('as_of'))} "
        f"{_ltr(s['as_of'] or '?')})"
        for s in shown
    )
    footnote = view.footnote
    if not footnote and any(s in CASE_STREAMS or s == trqn.STREAM for s in page.streams):
        from flowmon import privacy

        footnote = privacy.footnote(CASE_STREAMS, language=ctx.lang)
    return (
        "<footer>"
        f"<div>{escape(ctx.w('sources'))}: {sources or '—'}</div>"
        f"<div>{escape(footnote)}</div>"
        f'<div class="pageno">{escape(ctx.w("page").format(n=n, total=total))}</div>'
        "</footer>"
    )


def _document(ctx: _Context, pages: list[Page]) -> str:
    view = ctx.view
    sections = []
    office = ctx.names.offices.get(view.filters.office) if view.filters.office else ctx.w("all_offices")
    banner = (
        f'<div class="synthetic">{escape(i18n.text("synthetic", ctx.lang))}</div>' if view.synthetic else ""
    )
    for n, page in enumerate(pages, start=1):
        heading = (
            f"<h1>{escape(ctx.w(page.chapter))}</h1>" if page.chapter and page.chapter != "ch.key" else ""
        )
        sections.append(
            f'<section class="page" data-page="{n}">'
            f'<div class="top"><span>IOM Sudan · flowmon</span>'
            f"<span>{escape(ctx.w('profile'))} · {escape(ctx.period_words)} · {escape(office)}</span></div>"
            f'{banner}<div class="body">{heading}{page.body}</div>'
            f"{_footer(ctx, page, n, len(pages))}</section>"
        )
    template = Template(resources.files("flowmon.profile").joinpath("template.html").read_text("utf-8"))
    return template.substitute(
        lang=ctx.lang,
        dir=i18n.direction(ctx.lang),
        title=escape(f"{ctx.w('profile')} · {ctx.period_words}"),
        fonts=FONTS[ctx.lang],
        pages="\n".join(sections),
    )


def write_html(profile: Profile, path: str | Path) -> Path:
    from flowmon import store

    store.write_text_atomic(path, profile.html)
    return Path(path)
