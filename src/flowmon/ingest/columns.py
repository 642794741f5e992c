"""Users' column names and values, mapped onto flowmon's fields through ``synonyms.csv``.

The data file has one row per known spelling: ``kind`` (``column`` or ``value``), ``stream`` (a stream,
``case`` for the three case streams, or blank for all), ``field``, ``value`` (the canonical value, for
``kind=value``) and ``synonym``. Header texts and values are compared after :func:`normalise` (case,
accents, punctuation, spacing); HXL hashtags after :func:`normalise_hxl` (attribute order does not matter).
The order of the file is the order of preference when two columns of one file name the same field. Typos
seen in real exports ("STATE OF DISPLACEMET", "INDIVIUALS") are listed like any other synonym: nothing is
matched fuzzily.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd

from flowmon import schema

CASE = "case"
SYNONYMS_FILE = "synonyms.csv"
_SEPARATORS = re.compile(r"[\s_\-.,;:/\\()\[\]'\"`’*?!#|]+")
_ARABIC_LETTERS = str.maketrans({"ة": "ه", "ى": "ي", "أ": "ا", "إ": "ا", "آ": "ا", "ـ": None})


def normalise(text: object) -> str:
    """Lower case, no accents or Arabic letter variants, words separated by single spaces."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.casefold().translate(_ARABIC_LETTERS)
    return " ".join(word for word in _SEPARATORS.split(plain) if word)


_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def normalise_value(value: object) -> str:
    """Like :func:`normalise`, but numbers are kept as written: ``-99`` (unknown) is not ``99`` (an age)."""
    text = "" if value is None else str(value).strip()
    return text if _NUMBER.fullmatch(text) else normalise(text)


_HXL_TAG = re.compile(r"^#[a-z][a-z0-9_]*(\s*\+\s*[a-z][a-z0-9_]*)*$", re.IGNORECASE)


def is_hxl(text: object) -> bool:
    """An HXL hashtag with attributes (``#adm1+name``); ``#123`` is not one."""
    return isinstance(text, str) and bool(_HXL_TAG.match(text.strip()))


def normalise_hxl(tag: str) -> str:
    """``#Adm1 +Name`` and ``#adm1+name`` alike; attributes sorted, since their order carries no meaning."""
    parts = [p.strip().casefold() for p in tag.strip().split("+")]
    head, attributes = parts[0].replace(" ", ""), sorted(p for p in parts[1:] if p)
    return "+".join([head, *attributes])


@dataclass(frozen=True)
class Synonyms:
    # (stream scope, normalised header or hxl tag) -> field, in file order
    columns: tuple[tuple[str, str, str], ...]
    # field -> stream scope -> normalised synonym -> canonical value ("" = missing)
    values: dict[str, dict[str, dict[str, str]]]


def _applies(scope: str, stream: str) -> bool:
    return scope == "" or scope == stream or (scope == CASE and stream in schema.STREAMS)


@cache
def synonyms() -> Synonyms:
    text = resources.files("flowmon.ingest").joinpath(SYNONYMS_FILE)
    with resources.as_file(text) as path:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    columns = []
    values: dict[str, dict[str, dict[str, str]]] = {}
    for row, record in enumerate(table.itertuples(index=False), start=2):
        if record.kind == "column":
            key = normalise_hxl(record.synonym) if is_hxl(record.synonym) else normalise(record.synonym)
            columns.append((record.stream, key, record.field))
        elif record.kind == "value":
            scoped = values.setdefault(record.field, {}).setdefault(record.stream, {})
            scoped[normalise_value(record.synonym)] = record.value
        else:
            raise ValueError(
                f"{SYNONYMS_FILE} row {row}, column kind: {record.kind!r} is not column or value"
            )
    return Synonyms(columns=tuple(columns), values=values)


def column_field(text: object, stream: str) -> tuple[str, int] | None:
    """The field a header (or HXL tag) names for ``stream``, and its rank in the file (lower: preferred)."""
    key = normalise_hxl(str(text)) if is_hxl(text) else normalise(text)
    if not key:
        return None
    for rank, (scope, synonym, field) in enumerate(synonyms().columns):
        if synonym == key and _applies(scope, stream):
            return field, rank
    return None


@cache
def _spellings() -> dict[tuple[str, str], tuple[str, ...]]:
    text = resources.files("flowmon.ingest").joinpath(SYNONYMS_FILE)
    with resources.as_file(text) as path:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table = table[table["kind"] == "column"]
    out: dict[tuple[str, str], list[str]] = {}
    for scope, field, synonym in zip(table["stream"], table["field"], table["synonym"], strict=True):
        out.setdefault((scope, field), []).append(synonym)
    return {key: tuple(found) for key, found in out.items()}


def spellings(field: str, stream: str) -> list[str]:
    """The column names (as written in the synonyms file) that feed ``field`` for ``stream``, for messages."""
    return [
        s
        for (scope, name), found in _spellings().items()
        if name == field and _applies(scope, stream)
        for s in found
    ]


def known_header(text: object) -> bool:
    """Whether a header text is a known column name of any stream (used to find the header row)."""
    key = normalise_hxl(str(text)) if is_hxl(text) else normalise(text)
    return bool(key) and any(synonym == key for _, synonym, _ in synonyms().columns)


def value_map(field: str, stream: str) -> dict[str, str]:
    """Normalised synonym -> canonical value for ``field`` in ``stream`` (blank canonical = missing)."""
    out: dict[str, str] = {}
    for scope, mapping in synonyms().values.get(field, {}).items():
        if _applies(scope, stream):
            out.update(mapping)
    return out


def unknown_tokens() -> frozenset[str]:
    """Values that mean "unknown" in any field: ``-99`` (CTDC), "unknown", "n/a", ..."""
    return frozenset(value_map("unknown", ""))


@dataclass(frozen=True)
class ColumnMap:
    """Which column of the file feeds each field: ``fields[field] = column position``."""

    fields: dict[str, int]
    # Columns that name a field another (preferred) column already feeds, and columns nobody reads.
    shadowed: dict[int, str]
    ignored: tuple[int, ...]


def map_columns(headers: list[str], hxl: list[str] | None, stream: str) -> ColumnMap:
    """Place each column on a field: its HXL tag first (when the file has an HXL row), else its header."""
    best: dict[str, tuple[int, int]] = {}
    shadowed: dict[int, str] = {}
    ignored = []
    for position, header in enumerate(headers):
        found = None
        if hxl is not None and position < len(hxl) and hxl[position]:
            found = column_field(hxl[position], stream)
        if found is None:
            found = column_field(header, stream)
        if found is None:
            ignored.append(position)
            continue
        field, rank = found
        if field in best and best[field][0] <= rank:
            shadowed[position] = field
            continue
        if field in best:
            shadowed[best[field][1]] = field
        best[field] = (rank, position)
    return ColumnMap(
        fields={field: position for field, (_, position) in best.items()},
        shadowed=shadowed,
        ignored=tuple(ignored),
    )
