"""KPI cards: a stream's total and its change against the previous period, as HTML (pure)."""

from __future__ import annotations

import html

import pandas as pd

from flowmon.views.style import STREAM_COLORS, STREAM_LABELS, STREAM_UNITS, format_count

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


CARD_CSS = """
.fm-kpis { display: flex; gap: 12px; flex-wrap: wrap; }
.fm-kpi { flex: 1 1 170px; background: #fff; border-radius: 6px; padding: 10px 14px;
          box-shadow: 0 1px 3px rgba(0,0,0,.15); }
.fm-kpi-label { font-size: 0.95em; font-weight: 600; color: #333; }
.fm-kpi-value { font-size: 2.1em; font-weight: 700; color: #111; line-height: 1.2; }
.fm-kpi-unit { font-size: 0.85em; color: #555; }
.fm-kpi-change { font-size: 0.85em; color: #333; margin-top: 4px; }
"""
