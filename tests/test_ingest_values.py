"""Parsing users' values: dates, ages, countries, states, offices, coded fields and column names."""

from __future__ import annotations

import pandas as pd
import pytest

from flowmon.ingest import columns, values


def test_dates_in_every_format_users_send():
    parse = values.parse_date(values.DMY)
    expected = pd.Timestamp("2024-03-05")
    formats = ["2024-03-05", "05/03/2024", "5/3/24", "05.03.2024", "5-Mar-24", "5 March 2024", "Mar 5, 2024"]
    for text in [*formats, "45356", 45356, 45356.0, pd.Timestamp("2024-03-05 14:30"), "2024-03-05 14:30:00"]:
        assert parse(text) == (expected, None), text
    assert parse("") == (None, None)
    assert parse("31/02/2024")[1] == "not a valid date (read as day/month/year)"
    assert parse("2024-13-45")[1] == "not a valid date"
    assert parse("yesterday")[1] == "not a date"
    assert parse(123)[1] == "not a date"  # not an Excel date serial of this century


def test_day_month_order_is_decided_per_column_and_never_silently():
    day_first = pd.Series(["03/04/2024", "25/03/2024"])
    assert values.date_order(day_first)[:2] == (values.DMY, False)
    month_first = pd.Series(["03/04/2024", "03/25/2024"])
    order, mixed, note = values.date_order(month_first)
    assert (order, mixed) == (values.MDY, False) and "month/day" in note
    assert values.parse_date(order)("03/04/2024") == (pd.Timestamp("2024-03-04"), None)

    no_evidence = pd.Series(["03/04/2024", "01/02/2024"])
    order, mixed, note = values.date_order(no_evidence)
    assert order == values.DMY and "--date-order" in note
    assert values.date_order(no_evidence, forced=values.MDY) == (values.MDY, False, None)

    both = pd.Series(["25/03/2024", "03/25/2024", "03/04/2024", "05/05/2024"])
    order, mixed, note = values.date_order(both)
    assert mixed and "both" in note
    parse = values.parse_date(order, mixed)
    assert parse("25/03/2024")[0] == parse("03/25/2024")[0] == pd.Timestamp("2024-03-25")
    assert parse("05/05/2024")[0] == pd.Timestamp("2024-05-05")  # the same either way
    assert "cannot be told apart" in parse("03/04/2024")[1]


@pytest.mark.parametrize(
    ("given", "group"),
    [
        (34, "18-59"), ("17", "0-17"), ("17.9", "0-17"), ("60", "60+"), (0, "0-17"),
        ("0--8", "0-17"), ("9--17", "0-17"), ("18--20", "18-59"), ("39--47", "18-59"),
        ("48+", "unknown"), ("17--20", "unknown"), ("55-64", "unknown"), ("65+", "60+"), ("60+", "60+"),
        ("18-59", "18-59"), ("Child", "0-17"), ("under 18", "0-17"), ("elderly", "60+"),
        ("-99", "unknown"), ("", "unknown"), (None, "unknown"),
    ],
)  # fmt: skip
def test_ages_and_ctdc_ranges(given, group):
    assert values.parse_age(given) == (group, None)


@pytest.mark.parametrize("given", ["200", "-5", "adult", "20--18", "old"])
def test_ages_that_are_not_ages_are_rejected(given):
    assert values.parse_age(given)[0] is None and values.parse_age(given)[1]


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("ER", "ERI"), ("eri", "ERI"), ("Eritrea", "ERI"), ("Eritrean", "ERI"), ("إريتري", "ERI"),
        ("SS", "SSD"), ("South Sudanese", "SSD"), ("Côte d'Ivoire", "CIV"), ("Cote d'Ivoire", "CIV"),
        ("Korea, Republic of", "KOR"), ("Republic of Korea", "KOR"), ("Niger", "NER"), ("Nigeria", "NGA"),
        ("-99", "UNK"), ("00", "UNK"), ("", "UNK"), ("unknown", "UNK"), ("UNK", "UNK"),
    ],
)  # fmt: skip
def test_countries_by_code_name_demonym_or_arabic(given, code):
    assert values.parse_country(blank="UNK")(given) == (code, None)


def test_countries_not_recognised_are_rejected_not_guessed():
    parse = values.parse_country(blank="UNK")
    for text in ("Wakanda", "XX", "Eritria"):
        assert parse(text)[0] is None and "not a country" in parse(text)[1]


def test_states_by_pcode_name_alias_and_arabic_but_never_fuzzy():
    assert values.parse_state("SD12") == ("SD12", None)
    assert values.parse_state("sd12") == ("SD12", None)
    for name in ("Gedaref", "Gedarif", "Al Qadarif", "القضارف", "Gedaref State"):
        assert values.parse_state(name) == ("SD12", None), name
    assert values.parse_state("SD20")[1] == "not a state pcode (SD01-SD19)"
    assert values.parse_state("Darfur") == (None, "not a known state name")
    value, problem = values.parse_state("Khartuom")
    assert value is None and "closest: Khartoum, SD01" in problem
    assert values.parse_state("-99") == (None, None)


def test_offices_by_code_or_name():
    assert values.parse_office("KRT") == ("KRT", None)
    assert values.parse_office("Port Sudan") == ("PZU", None)
    assert values.parse_office("كسلا") == ("KSL", None)
    assert values.parse_office("Atbara")[0] is None


def test_coded_fields_through_the_synonyms_file():
    sex = values.parse_coded("sex", "caseload", blank="unknown")
    assert [sex(v)[0] for v in ("F", "male", "أنثى", "", "-99")] == [
        "female",
        "male",
        "female",
        "unknown",
        "unknown",
    ]
    assert sex("other")[0] is None
    exploitation = values.parse_coded("category", "referral", blank="unknown")
    assert [exploitation(v)[0] for v in ("0", "1", "3", "-99", "Forced labor")] == [
        "forced labour", "sexual exploitation", "forced marriage", "unknown", "forced labour",
    ]  # fmt: skip
    service = values.parse_coded("category", "caseload", blank=None)
    assert service("Info session")[0] == "information session"
    assert service("0")[0] is None  # CTDC codes mean nothing for a caseload


def test_counts():
    assert values.parse_count("1,200") == (1200, None)
    assert values.parse_count(3.0) == (3, None)
    assert values.parse_count("2.5")[1] == "not a whole number"
    assert values.parse_count("many")[1] == "not a number"
    assert values.parse_count("-3") == (-3, None)  # the schema rejects it, naming the rule


def test_column_names_synonyms_typos_and_hxl():
    assert columns.column_field("STATE OF DISPLACEMET", "displacement")[0] == "destination"
    assert columns.column_field("  Date of Registration: ", "caseload")[0] == "date"
    assert columns.column_field("#adm1 +pcode", "displacement")[0] == "destination_pcode"
    assert columns.column_field("#affected+ind+idps", "displacement")[0] == "individuals"
    assert columns.column_field("Reintegration status", "return")[0] == "category"
    assert columns.column_field("Reintegration status", "caseload") is None
    mapping = columns.map_columns(["Case No", "Date", "Registration date", "Notes"], None, "caseload")
    # "registration date" is listed before the bare "date": it wins, and the other is reported as not read.
    assert mapping.fields == {"record_id": 0, "date": 2}
    assert mapping.shadowed == {1: "date"} and mapping.ignored == (3,)


def test_values_are_parsed_once_per_distinct_value():
    calls = []

    def parse(value):
        calls.append(value)
        return value, None

    column = pd.Series(["a", "b", "a", None, "b"] * 1000)
    parsed = values.parse_column(column, parse)
    assert sorted(calls, key=str) == [None, "a", "b"]
    assert parsed.values.tolist() == [None if pd.isna(v) else v for v in column]


def test_hxl_tags_are_told_from_hash_numbers():
    assert columns.is_hxl("#adm1+name") and columns.is_hxl("#affected +idps +ind")
    assert not columns.is_hxl("#123") and not columns.is_hxl("# of people") and not columns.is_hxl("#")
