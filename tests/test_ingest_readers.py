"""Readers: encodings, delimiters, title/group/header/HXL rows, sheets, and the user's row numbers."""

from __future__ import annotations

import codecs
from pathlib import Path

import openpyxl
import pytest

from flowmon.ingest import read_table
from flowmon.ingest.readers import UnreadableFile, detect_encoding, read_raw

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"


def test_utf8_bom_file_keeps_arabic_and_user_row_numbers():
    table = read_table(FIXTURES / "caseload_mrrc_utf8bom.csv")
    assert table.attrs["encoding"] == "utf-8-sig"
    assert table.attrs["header_row"] == 4
    assert table.attrs["title"] == ["IOM Sudan - MRRC Port Sudan", "Caseload export 01/01/2024 - 31/03/2024"]
    assert list(table.columns[:3]) == ["Case No", "Date of Registration", "Office"]
    # Data start on spreadsheet row 5; the blank row 19 is not data, and numbering goes on after it.
    assert table.index[0] == 5
    assert 19 not in table.index and table.index[table.index > 19][0] == 20
    assert table.at[6, "State"] == "البحر الأحمر"


def test_cp1256_file_is_decoded_as_windows_arabic():
    path = FIXTURES / "referral_ctdc_cp1256.csv"
    assert detect_encoding(path) == "cp1256"
    table = read_table(path)
    assert table.columns[0] == "رقم الحالة"
    assert table.at[3, "الجنس"] == "أنثى"
    assert table.attrs["title"] == ["وحدة مكافحة الاتجار بالبشر - كسلا"]


def test_utf16_semicolon_file(tmp_path):
    path = tmp_path / "export.csv"
    text = "Case No;Date;Office;State\r\nA-1;01/02/2024;KRT;Khartoum\r\n"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    table = read_table(path)
    assert list(table.columns) == ["Case No", "Date", "Office", "State"]
    assert table.loc[2, "State"] == "Khartoum"


def test_dtm_layout_title_group_header_and_hxl(shared_data):
    raw = read_raw(shared_data / "dtm" / "raw_idps_state_data.csv")
    assert raw.header_row == 4
    assert raw.title == ["DTM SUDAN: IDP Master List 25-03-2024"]
    assert raw.header[0] == "STATE OF DISPLACEMET"
    assert raw.hxl[:4] == ["#adm1+name", "#adm1+pcode", "#affected+idps+ind", "#affected+idps+hh"]
    # Group labels spread over the columns they span, as merged cells do.
    assert raw.groups[4] == raw.groups[15] == "STATE of ORIGIN BY INDIVIUALS"
    assert raw.groups[16] == "NATIONALITY BY INDIVIUALS"
    assert raw.data.index[0] == 6 and len(raw.data) == 18


def test_rows_with_too_many_cells_are_reported_not_dropped(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text(
        "Case No,Date,Office,State\nA-1,01/02/2024,KRT,Khartoum\nA-2,01/02/2024,KRT,Khartoum,extra\n"
    )
    raw = read_raw(path)
    assert [p["row"] for p in raw.problems] == [3]
    assert raw.problems[0]["value"] == "extra"
    assert list(raw.data.index) == [2]


def test_trailing_blank_cells_beyond_the_header_are_fine(tmp_path):
    path = tmp_path / "trailing.csv"
    path.write_text("Case No,Date,Office,State\nA-1,01/02/2024,KRT,Khartoum,,,\n")
    raw = read_raw(path)
    assert raw.problems == [] and list(raw.data.index) == [2]


def _workbook(path: Path) -> None:
    book = openpyxl.Workbook()
    readme = book.active
    readme.title = "Read Me"
    readme["A1"] = "This workbook holds the AVRR returns of 2024."
    readme["A2"] = "Columns: Case ID, Departure date, ..."
    for name, office in (("Q1", "KRT"), ("Q2", "PZU")):
        sheet = book.create_sheet(name)
        sheet["A1"] = f"AVRR returns {name}"
        sheet.append([])
        sheet.append(["Case ID", "Departure date", "Office", "State", "Country of return", "Status"])
        sheet.append(["R-1", "03/02/2024", office, "Khartoum", "Ethiopia", "completed"])
    book.save(path)


def test_xlsx_skips_read_me_sheet_and_selects_sheets_by_name(tmp_path):
    path = tmp_path / "returns.xlsx"
    _workbook(path)
    first = read_table(path)
    assert first.attrs["sheet"] == "Q1"
    assert first.attrs["header_row"] == 3
    assert list(first.index) == [4]
    second = read_table(path, sheet="q2")
    assert second.attrs["sheet"] == "Q2" and second.iloc[0]["Office"] == "PZU"
    with pytest.raises(UnreadableFile, match="no sheet named 'Q3'"):
        read_table(path, sheet="Q3")


def test_unreadable_files_say_why(tmp_path):
    with pytest.raises(UnreadableFile, match="no such file"):
        read_raw(tmp_path / "missing.csv")
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    with pytest.raises(UnreadableFile, match=r"old Excel \.xls"):
        read_raw(old)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(UnreadableFile, match="empty"):
        read_raw(empty)
    with pytest.raises(UnreadableFile, match="CSV file, which has no sheets"):
        read_raw(FIXTURES / "dtm_returnees_long.csv", sheet="Data")
