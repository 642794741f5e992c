"""The pcode gazetteer: Sudan's 19 admin-1 units and the names people give them.

Names are matched in three steps, and a match says which step found it:

- ``exact``: the pcode itself (``SD15``), or the official COD-AB English or Arabic name, ignoring case,
  accents, punctuation, underscores, spacing and the word "state" (ولاية).
- ``alias``: a spelling listed in ``geo/aliases.csv``, or any name that becomes an official name or an alias
  once the word variants in ``geo/name_tokens.csv`` are applied (articles dropped, "Shamal"/"N." read as
  "North", "Kordufan" as "Kordofan", ...).
- ``fuzzy``: a close typo of exactly one state's names (a similarity cutoff and a margin to the runner-up).

Regions that span several states ("Darfur", "Kordofan") are listed in the alias file without a pcode, so they
never match, not even fuzzily. Every mapping lives in the data files, not in this module.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

import pandas as pd

from flowmon._resources import reference_path

# A close typo: at least this similar to one state's names...
FUZZY_CUTOFF = 0.85
# ...and at least this much more similar than to any other state's (or region's) names.
FUZZY_MARGIN = 0.06
# Shorter keys are too easy to confuse ("Sinar" vs "Sennar" is fine, "Nile" vs "Nil" is not a typo).
FUZZY_MIN_LENGTH = 5

# Words that say "this is a state", not which one.
_FILLER_WORDS = frozenset({"state", "wilayat", "wilayah", "wilaya", "ولايه"})
_ARABIC_LETTERS = str.maketrans({"ة": "ه", "ى": "ي", "ٱ": "ا", "ـ": None})
_PCODE = re.compile(r"sd\d\d")
_SEPARATORS = re.compile(r"[\s_\-.,;:/()\[\]'\"`’ʼ‘]+")


@dataclass(frozen=True)
class Match:
    """A name placed on a pcode; ``kind`` is ``"exact"``, ``"alias"`` or ``"fuzzy"``, ``name`` the input."""

    pcode: str
    kind: str
    name: str


def normalise(name: str) -> str:
    """The name in lower case without accents, Arabic hamza or vowel marks, punctuation or filler words."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold().translate(_ARABIC_LETTERS)
    return " ".join(word for word in _SEPARATORS.split(text) if word and word not in _FILLER_WORDS)


def _variant_key(loose: str, tokens: dict[str, str]) -> str:
    words = []
    for word in loose.split():
        # The Arabic article is written joined to its word (الجزيرة): drop it as the Latin ones are.
        if word.startswith("ال") and len(word) > 3:
            word = word[2:]
        word = tokens.get(word, word)
        if word:
            words.append(word)
    return " ".join(words)


def name_key(name: str) -> str:
    """The key aliases are matched on: :func:`normalise` plus the word variants of ``geo/name_tokens.csv``."""
    return _variant_key(normalise(name), _tokens())


@cache
def states() -> pd.DataFrame:
    """The 19 admin-1 units (SD01..SD19): ``pcode``, ``name_en``, ``name_ar``."""
    table = pd.read_csv(reference_path("states.csv"), dtype=str, keep_default_na=False)
    return table.sort_values("pcode", ignore_index=True)


@cache
def aliases() -> pd.DataFrame:
    """The alias table: ``alias``, ``pcode`` (NA for regions that span several states), ``note``."""
    table = pd.read_csv(reference_path("aliases.csv"), dtype=object, keep_default_na=False)
    table["pcode"] = table["pcode"].astype("string").replace("", pd.NA)
    return table


@cache
def _tokens() -> dict[str, str]:
    table = pd.read_csv(reference_path("name_tokens.csv"), dtype=str, keep_default_na=False)
    return {
        normalise(token): replacement
        for token, replacement in zip(table["token"], table["replacement"], strict=True)
    }


@dataclass(frozen=True)
class _Index:
    pcodes: frozenset[str]
    exact: dict[str, str]
    # key -> pcode, or None for a region that must never match
    by_key: dict[str, str | None]


@cache
def _index() -> _Index:
    table = states()
    exact: dict[str, str] = {}
    by_key: dict[str, str | None] = {}

    def add(mapping: dict, key: str, pcode: str | None, source: str) -> None:
        if key in mapping and mapping[key] != pcode:
            raise ValueError(
                f"gazetteer: {source!r} gives key {key!r} to {pcode}, already given to {mapping[key]}; "
                "fix geo/aliases.csv or geo/name_tokens.csv"
            )
        mapping[key] = pcode

    official = [
        (name, pcode)
        for col in ("name_en", "name_ar")
        for name, pcode in zip(table[col], table["pcode"], strict=True)
    ]
    for name, pcode in official:
        add(exact, normalise(name), pcode, name)
        add(by_key, name_key(name), pcode, name)
    known = set(table["pcode"])
    for row, (alias, pcode) in enumerate(zip(aliases()["alias"], aliases()["pcode"], strict=True), start=2):
        if pd.isna(pcode):
            pcode = None
        elif pcode not in known:
            raise ValueError(f"geo/aliases.csv row {row}, column pcode: unknown pcode {pcode!r}")
        add(by_key, name_key(alias), pcode, alias)
    return _Index(pcodes=frozenset(known), exact=exact, by_key=by_key)


def _fuzzy(key: str) -> str | None:
    if len(key) < FUZZY_MIN_LENGTH:
        return None
    best_by_target: dict[str | None, float] = {}
    matcher = difflib.SequenceMatcher(b=key, autojunk=False)
    for candidate, pcode in _index().by_key.items():
        matcher.set_seq1(candidate)
        if (
            matcher.real_quick_ratio() < FUZZY_CUTOFF - FUZZY_MARGIN
            or matcher.quick_ratio() < FUZZY_CUTOFF - FUZZY_MARGIN
        ):
            continue
        score = matcher.ratio()
        if score > best_by_target.get(pcode, 0.0):
            best_by_target[pcode] = score
    ranked = sorted(best_by_target.items(), key=lambda item: item[1], reverse=True)
    if not ranked or ranked[0][1] < FUZZY_CUTOFF:
        return None
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < FUZZY_MARGIN:
        return None
    return ranked[0][0]  # None when the closest name is a region


@lru_cache(maxsize=4096)
def _lookup(name: str) -> tuple[str, str] | None:
    loose = normalise(name)
    if not loose:
        return None
    index = _index()
    if _PCODE.fullmatch(loose) and loose.upper() in index.pcodes:
        return loose.upper(), "exact"
    if loose in index.exact:
        return index.exact[loose], "exact"
    key = _variant_key(loose, _tokens())
    if key in index.by_key:
        pcode = index.by_key[key]
        return None if pcode is None else (pcode, "alias")
    pcode = _fuzzy(key)
    return None if pcode is None else (pcode, "fuzzy")


def to_pcode(name: str) -> Match | None:
    """The pcode of a state name in any known spelling, or None when it cannot be placed on one state."""
    if not isinstance(name, str):
        return None
    found = _lookup(name)
    return None if found is None else Match(pcode=found[0], kind=found[1], name=name)


def match_table(names: Iterable[str]) -> pd.DataFrame:
    """One row per distinct non-blank name: ``name``, ``count``, ``pcode`` (NA when unmatched), ``kind``.

    The table to show a user what was matched how, fuzzy matches included.
    """
    values = pd.Series(names, dtype=object) if not isinstance(names, pd.Series) else names
    counts = values[values.notna()].astype(str).value_counts(sort=False)
    counts = counts[counts.index.str.strip() != ""]
    found = [_lookup(name) for name in counts.index]
    return pd.DataFrame(
        {
            "name": counts.index.astype(object),
            "count": counts.to_numpy(),
            "pcode": pd.array([f[0] if f else pd.NA for f in found], dtype="string"),
            "kind": pd.array([f[1] if f else pd.NA for f in found], dtype="string"),
        }
    )


def match_names(names: Iterable[str]) -> tuple[pd.Series, dict[str, int]]:
    """Pcodes aligned with ``names`` (NA where unmatched), and each unmatched name with its count.

    Each distinct name is matched once, so a million rows of a few hundred spellings take well under a second.
    Missing and blank values give NA and are not listed as unmatched names.
    """
    values = names if isinstance(names, pd.Series) else pd.Series(list(names), dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    found = [_lookup(name) if isinstance(name, str) else None for name in uniques]
    unique_pcodes = pd.array([f[0] if f else pd.NA for f in found], dtype="string")
    pcodes = pd.Series(unique_pcodes.take(codes, allow_fill=True), index=values.index, dtype="string")
    counts = pd.Series(codes[codes >= 0]).value_counts(sort=False)
    unmatched = {
        str(uniques[code]): int(count)
        for code, count in counts.sort_index().items()
        if found[code] is None and str(uniques[code]).strip()
    }
    return pcodes, unmatched
