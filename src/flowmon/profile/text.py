"""Sentences of the profile, generated from published figures only: values, ranks and changes.

No record text (names, notes, institutions) ever reaches a sentence: the inputs are (name, number) pairs of
published tables and KPI rows, and the names are those of states, countries, categories and streams.
"""

from __future__ import annotations

import pandas as pd

from flowmon.profile.words import word


def number(value) -> str:
    return f"{int(value):,}"


def listing(items: list[tuple[str, int]], language: str = "en", n: int = 3) -> str:
    """``Red Sea (1,234), River Nile (567) and Northern (321)``: the first ``n``, largest first as given."""
    shown = [f"{name} ({number(value)})" for name, value in items[:n]]
    if len(shown) <= 1:
        return "".join(shown)
    joiner = "، " if language == "ar" else ", "
    last = f" {word('and', language)}" + ("" if language == "ar" else " ")
    return joiner.join(shown[:-1]) + last + shown[-1]


def change(row: pd.Series | dict, previous_words: str, language: str = "en") -> str | None:
    """``up 12.3% on 2024`` from a KPI row's published ``change_pct``; None when there is no comparison."""
    pct = row.get("change_pct")
    if pct is None or pd.isna(pct):
        return None
    pct = float(pct)
    if pct == 0:
        return word("kpi.change_same", language).format(period=previous_words)
    key = "kpi.change_up" if pct > 0 else "kpi.change_down"
    return word(key, language).format(pct=f"{abs(pct):.1f}", period=previous_words)


def kpi_sentence(what: str, unit: str, row, period_words: str, previous_words: str, language: str) -> str:
    """``AVRR returns: 557 returnees in 2025, down 3.1% on 2024 (575 in 2024).``"""
    phrase = change(row, previous_words, language)
    value = int(row["value"])
    if phrase is None or pd.isna(row.get("previous")):
        return word("s.kpi_plain", language).format(what=what, value=value, unit=unit, period=period_words)
    return word("s.kpi_change", language).format(
        what=what,
        value=value,
        unit=unit,
        period=period_words,
        change=phrase,
        previous=int(row["previous"]),
        previous_period=previous_words,
    )


def ranked(table: pd.DataFrame, column: str, name, n: int | None = None) -> list[tuple[str, int]]:
    """``(name(code), value)`` of a published table's non-zero rows, largest first (ties by code)."""
    rows = table[table["value"].fillna(0) > 0]
    rows = rows.assign(_code=rows[column].astype(str)).sort_values(
        ["value", "_code"], ascending=[False, True], kind="stable"
    )
    items = [
        (name(code), int(value)) for code, value in zip(rows[column].astype(str), rows["value"], strict=True)
    ]
    return items[:n] if n else items
