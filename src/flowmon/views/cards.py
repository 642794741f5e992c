"""KPI cards: a stream's total and its change against the previous period, as HTML (pure); the crossing card
with in, out, net and the daily average."""

from __future__ import annotations

import html

import pandas as pd

from flowmon.views.style import DIRECTION_COLORS, STREAM_COLORS, STREAM_LABELS, STREAM_UNITS, format_count

WORDS = {
    "change_hidden": "change hidden (small numbers)",
    "no_previous_cases": "no cases in the previous period",
    "none_either": "none in either period",
}


def change_text(
    value,
    previous,
    previous_label: str = "vs previous period",
    *,
    previous_hidden: bool = True,
    no_comparison: str = "no data for the previous period",
    words: dict[str, str] | None = None,
) -> str:
    """The change against the previous period in words; why not, when it cannot be shown.

    ``words`` (``change_hidden``, ``no_previous_cases``, ``none_either``) give them in another language.
    """
    words = {**WORDS, **(words or {})}
    if pd.isna(value) or (pd.isna(previous) and previous_hidden):
        return words["change_hidden"]
    if pd.isna(previous):
        return no_comparison
    if previous == 0:
        return words["no_previous_cases"] if value else words["none_either"]
    change = (value - previous) / previous
    arrow = "▲" if change > 0 else "▼" if change < 0 else "■"
    return f"{arrow} {change:+.0%} {previous_label} ({format_count(previous)})"


def kpi_card(
    stream: str,
    value,
    previous,
    *,
    label: str | None = None,
    unit: str | None = None,
    previous_label: str = "vs previous period",
    previous_hidden: bool = True,
    no_comparison: str = "no data for the previous period",
    words: dict[str, str] | None = None,
) -> str:
    """One card: the stream's name, its total, what is counted, the change against the previous period."""
    change = change_text(
        value,
        previous,
        previous_label,
        previous_hidden=previous_hidden,
        no_comparison=no_comparison,
        words=words,
    )
    label = html.escape(label or STREAM_LABELS[stream])
    unit = html.escape(unit or STREAM_UNITS[stream])
    return (
        f'<div class="fm-kpi" style="border-top:6px solid {STREAM_COLORS[stream]}" data-stream="{stream}">'
        f'<div class="fm-kpi-label">{label}</div>'
        f'<div class="fm-kpi-value">{format_count(value)}</div>'
        f'<div class="fm-kpi-unit">{unit}</div>'
        f'<div class="fm-kpi-change">{html.escape(change)}</div></div>'
    )


def kpi_cards(
    kpis: pd.DataFrame,
    labels: dict[str, str] | None = None,
    units: dict[str, str] | None = None,
    direction: str = "ltr",
    previous: str = "vs previous period",
    no_comparison: str = "no data for the previous period",
    words: dict[str, str] | None = None,
) -> str:
    """One card per row of ``kpis`` (stream, value, previous)."""
    cards = [
        kpi_card(row.stream, row.value, row.previous, label=(labels or {}).get(row.stream),
                 unit=(units or {}).get(row.stream), previous_label=previous,
                 previous_hidden=bool(getattr(row, "previous_suppressed", True)), no_comparison=no_comparison,
                 words=words)
        for row in kpis.itertuples(index=False)
    ]  # fmt: skip
    return f'<div class="fm-kpis" dir="{direction}">' + "".join(cards) + "</div>"


CROSSING_WORDS = {
    "title": "Cross-border movements",
    "in": "In (into Sudan)",
    "out": "Out (of Sudan)",
    "net": "Net (in − out)",
    "daily average": "Daily average",
    "unit": "people crossing",
    "per_day": "people a day",
}
_CROSSING_COLORS = {"in": DIRECTION_COLORS["in"], "out": DIRECTION_COLORS["out"], "net": "#333333",
                    "daily average": DIRECTION_COLORS["all"]}  # fmt: skip


def _signed(value) -> str:
    """A net figure with its sign (+1,200 / −300), or the mark of a hidden one."""
    if pd.isna(value):
        return format_count(value)
    return f"{'+' if value > 0 else '−' if value < 0 else ''}{format_count(abs(value))}"


def crossing_card(
    card: pd.DataFrame,
    *,
    words: dict[str, str] | None = None,
    direction: str = "ltr",
    previous: str = "vs previous period",
    no_comparison: str = "no data for the previous period",
    change_words: dict[str, str] | None = None,
) -> str:
    """The crossing KPIs (``flowmon.crossings.card``: measure in, out, net, daily average with value and
    previous) as one row of cards. Net carries its sign; the daily average one decimal."""
    words = {**CROSSING_WORDS, **(words or {})}
    cards = []
    for row in card.itertuples(index=False):
        measure = row.measure
        if measure == "daily average":
            shown = "*" if pd.isna(row.value) else f"{row.value:,.1f}"
            unit = words["per_day"]
        else:
            shown = _signed(row.value) if measure == "net" else format_count(row.value)
            unit = words["unit"]
        if measure == "net" and pd.notna(row.value) and pd.notna(row.previous):
            change = f"{_signed(row.value - row.previous)} {previous} ({_signed(row.previous)})"
        elif measure == "net":
            change = no_comparison
        else:
            change = change_text(row.value, row.previous, previous, previous_hidden=False,
                                 no_comparison=no_comparison, words=change_words)  # fmt: skip
        cards.append(
            f'<div class="fm-kpi" style="border-top:6px solid {_CROSSING_COLORS[measure]}" '
            f'data-stream="crossing {html.escape(measure)}" data-measure="{html.escape(measure)}">'
            f'<div class="fm-kpi-label">{html.escape(words[measure])}</div>'
            f'<div class="fm-kpi-value">{html.escape(shown)}</div>'
            f'<div class="fm-kpi-unit">{html.escape(unit)}</div>'
            f'<div class="fm-kpi-change">{html.escape(change)}</div></div>'
        )
    title = f'<div class="fm-kpi-title">{html.escape(words["title"])}</div>'
    body = "".join(cards)
    return f'<div class="fm-crossing" dir="{direction}">{title}<div class="fm-kpis">{body}</div></div>'


CARD_CSS = """
.fm-kpis { display: flex; gap: 12px; flex-wrap: wrap; }
.fm-kpi { flex: 1 1 170px; background: #fff; border-radius: 6px; padding: 10px 14px;
          box-shadow: 0 1px 3px rgba(0,0,0,.15); }
.fm-kpi-label { font-size: 0.95em; font-weight: 600; color: #333; }
.fm-kpi-value { font-size: 2.1em; font-weight: 700; color: #111; line-height: 1.2; }
.fm-kpi-unit { font-size: 0.85em; color: #555; }
.fm-kpi-change { font-size: 0.85em; color: #333; margin-top: 4px; }
.fm-kpi-title { font-size: 1.05em; font-weight: 700; margin: 10px 0 6px; }
"""
