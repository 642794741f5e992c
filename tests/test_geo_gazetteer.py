"""The pcode gazetteer: real-world spellings of Sudan's states map to the right pcodes, nothing else does."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flowmon import geo
from flowmon.schema import STATE_PCODES

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"

SPELLINGS = {
    "SD01": ["Khartoum", "Khartum", "KHARTOUM", "Khartoum State", "الخرطوم", "ولاية الخرطوم", "Al Khartoum"],
    "SD02": [
        "North Darfur",
        "Shamal Darfur",
        "N. Darfur",
        "N Darfur",
        "north_darfur",
        "Northern Darfur",
        "شمال دارفور",
    ],
    "SD03": ["South Darfur", "Janub Darfur", "S. Darfur", "Southern Darfur", "جنوب دارفور"],
    "SD04": ["West Darfur", "Gharb Darfur", "W. Darfur", "Western Darfur", "غرب دارفور"],
    "SD05": ["East Darfur", "Sharq Darfur", "E. Darfur", "شرق دارفور"],
    "SD06": ["Central Darfur", "Wasat Darfur", "Centre Darfur", "وسط دارفور"],
    "SD07": ["South Kordofan", "South Kordufan", "Janub Kurdufan", "S. Kordofan", "جنوب كردفان"],
    "SD08": ["Blue Nile", "An Nil al Azraq", "Blue Nile State", "blue-nile", "النيل الأزرق", "النيل الازرق"],
    "SD09": ["White Nile", "An Nil al Abyad", "White_Nile", "النيل الأبيض"],
    "SD10": ["Red Sea", "Al Bahr al Ahmar", "Bahr el Ahmar", "البحر الأحمر"],
    "SD11": ["Kassala", "Kasala", "كسلا"],
    "SD12": ["Gedaref", "Gedarif", "Al Qadarif", "Al Qaḑārif", "Gadarif", "القضارف"],
    "SD13": [
        "North Kordofan",
        "North Kordufan",
        "N. Kordofan",
        "Shamal Kordofan",
        "Shamal Kurdufan",
        "شمال كردفان",
    ],
    "SD14": ["Sennar", "Sinnar", "Sinnār", "سنار"],
    "SD15": [
        "Aj Jazirah",
        "Gezira",
        "Al Jazirah",
        "Al Gezira",
        "El Gezira",
        "Al Jazira",
        "الجزيرة",
        "ولاية الجزيرة",
    ],
    "SD16": ["River Nile", "Nahr an Nil", "Nahr al Nil", "river  nile", "نهر النيل"],
    "SD17": ["Northern", "Northern State", "Ash Shamaliyah", "Ash Shamaliya", "الشمالية"],
    "SD18": ["West Kordofan", "West Kordufan", "Gharb Kurdufan", "W. Kordofan", "غرب كردفان"],
    "SD19": ["Abyei PCA", "Abyei", "Abyei Area", "abyei_pca", "إدارية أبيي", "أبيي"],
}

UNPLACEABLE = [
    "Darfur",
    "Greater Darfur",
    "Kordofan",
    "Kordufan",
    "دارفور",
    "كردفان",
    "Sudan",
    "Paris",
    "",
    "  ",
    "North",
]


@pytest.mark.parametrize(("pcode", "name"), [(p, n) for p, names in SPELLINGS.items() for n in names])
def test_spellings_map_to_their_pcode(pcode: str, name: str) -> None:
    match = geo.to_pcode(name)
    assert match is not None, name
    assert match.pcode == pcode
    assert match.name == name
    assert match.kind in {"exact", "alias"}


@pytest.mark.parametrize("name", UNPLACEABLE)
def test_regions_and_unknown_names_are_never_guessed(name: str) -> None:
    assert geo.to_pcode(name) is None


def test_official_names_are_exact_and_variants_are_aliases() -> None:
    for row in geo.states().itertuples():
        assert geo.to_pcode(row.name_en) == geo.Match(row.pcode, "exact", row.name_en)
        assert geo.to_pcode(row.name_ar).kind == "exact"
        assert geo.to_pcode(f"  {row.name_en.upper()}  state").kind == "exact"
    assert geo.to_pcode("Gezira").kind == "alias"


def test_pcodes_are_exact_matches_of_themselves() -> None:
    assert geo.to_pcode("SD15") == geo.Match("SD15", "exact", "SD15")
    assert geo.to_pcode(" sd01 ").pcode == "SD01"
    assert geo.to_pcode("SD20") is None and geo.to_pcode("SS01") is None


@pytest.mark.parametrize(
    ("typo", "pcode"),
    [("Soth Darfur", "SD03"), ("Kasalla", "SD11"), ("Gedaraf", "SD12"), ("Khartuom", "SD01")],
)
def test_close_typos_of_one_state_are_fuzzy(typo: str, pcode: str) -> None:
    assert geo.to_pcode(typo) == geo.Match(pcode, "fuzzy", typo)


@pytest.mark.parametrize("typo", ["Est Darfur", "Kordufann", "Darfor", "Nile", "Kordfan"])
def test_typos_equally_close_to_several_states_or_a_region_are_unmatched(typo: str) -> None:
    # "Est" is one letter from both "East" and "West"; the rest are closest to a region or too short.
    assert geo.to_pcode(typo) is None


def test_states_table() -> None:
    table = geo.states()
    assert list(table.columns) == ["pcode", "name_en", "name_ar"]
    assert tuple(table["pcode"]) == STATE_PCODES
    assert table["name_en"].is_unique and table["name_ar"].is_unique


def test_states_agree_with_cod_ab_names() -> None:
    path = SHARED_DATA / "cod-ab" / "sdn_adm1_pcodes.csv"
    if not path.exists():
        pytest.skip(f"{path} not present")
    cod = pd.read_csv(path, dtype=str).rename(
        columns={"ADM1_PCODE": "pcode", "ADM1_EN": "name_en", "ADM1_AR": "name_ar"}
    )
    merged = geo.states().merge(cod, on="pcode", suffixes=("", "_cod"), validate="one_to_one")
    assert len(merged) == 19
    assert (merged["name_en"] == merged["name_en_cod"]).all()
    assert (merged["name_ar"] == merged["name_ar_cod"]).all()


def test_every_alias_row_maps_where_the_file_says() -> None:
    for row in geo.gazetteer.aliases().itertuples():
        match = geo.to_pcode(row.alias)
        if pd.isna(row.pcode):
            assert match is None, row.alias
        else:
            assert match is not None and match.pcode == row.pcode, row.alias


def test_dtm_master_list_state_names_all_match_their_codes() -> None:
    path = SHARED_DATA / "dtm" / "raw_idps_state_data.csv"
    if not path.exists():
        pytest.skip(f"{path} not present")
    raw = pd.read_csv(path, header=None, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    header = raw.iloc[3].str.strip()
    rows = raw.iloc[5:]
    rows = rows[rows[1].str.match(r"SD\d\d")]
    pcodes, unmatched = geo.match_names(rows[0])
    assert unmatched == {}
    assert list(pcodes) == list(rows[1])
    # The origin columns of the header row are state names too.
    origins = [name for name in header[4:] if name and "SUDANESE" not in name]
    assert len(origins) == 12
    assert all(geo.to_pcode(name) is not None for name in origins)


def test_match_names_aligns_with_input_and_counts_unmatched() -> None:
    names = pd.Series(
        ["Gezira", "Darfur", None, "Khartoum", "Darfur", "Atlantis", "", "gezira"], index=list("abcdefgh")
    )
    pcodes, unmatched = geo.match_names(names)
    assert pcodes.index.equals(names.index)
    assert pcodes.tolist() == ["SD15", pd.NA, pd.NA, "SD01", pd.NA, pd.NA, pd.NA, "SD15"]
    assert unmatched == {"Darfur": 2, "Atlantis": 1}


def test_match_names_accepts_plain_iterables() -> None:
    pcodes, unmatched = geo.match_names(iter(["Sinnar", "Nowhere"]))
    assert pcodes.tolist() == ["SD14", pd.NA]
    assert unmatched == {"Nowhere": 1}


def test_match_table_reports_the_kind_of_each_distinct_name() -> None:
    table = geo.match_table(["Gezira", "Gezira", "Soth Darfur", "Darfur", "Khartoum"]).set_index("name")
    assert table.loc["Gezira", "count"] == 2
    assert table.loc["Gezira", "kind"] == "alias"
    assert table.loc["Soth Darfur", "kind"] == "fuzzy"
    assert pd.isna(table.loc["Darfur", "pcode"])
    assert table.loc["Khartoum", "kind"] == "exact"


def test_match_names_matches_a_million_names_by_their_distinct_spellings() -> None:
    spellings = [name for names in SPELLINGS.values() for name in names] + ["Darfur", "Unknown place"]
    rng = np.random.default_rng(0)
    names = pd.Series(np.array(spellings, dtype=object)[rng.integers(0, len(spellings), 1_000_000)])
    start = time.perf_counter()
    pcodes, unmatched = geo.match_names(names)
    elapsed = time.perf_counter() - start
    assert pcodes.notna().sum() + sum(unmatched.values()) == len(names)
    assert set(unmatched) == {"Darfur", "Unknown place"}
    assert elapsed < 5, f"match_names took {elapsed:.1f} s on 1M names"
