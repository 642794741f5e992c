"""Read CSV, XLSX and JSON exports as users bring them, and find where the table starts.

A sheet is read as a grid of cells whose index is the row number the user sees (1-based, title rows counted),
then its layout is found: title rows above the header, a group-label row just above it ("STATE of ORIGIN"
spanning several columns, as merged cells leave it), the header row (the row with the most known column names,
or state names, among the first rows), an HXL hashtag row just below it, and the data rows after that. Blank
rows are not data and are dropped.

JSON (a DTM API answer, or any list of records) is read as JSON: its records become rows under a header of
their keys, and row numbers count the header as row 1, so record n is row n + 1.

Encodings: UTF-8 (with or without a byte-order mark), UTF-16 (Excel's "Unicode text"), and otherwise Windows
Arabic (cp1256), the usual encoding of Arabic exports from Excel on Windows; cp1256 also keeps the accented
Latin letters of French names. The delimiter (comma, semicolon, tab, pipe) is the one that splits the first
lines most consistently.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from flowmon import geo
from flowmon.ingest import columns

HEADER_SEARCH_ROWS = 30
MIN_HEADER_SCORE = 2
SNIFF_BYTES = 1 << 16
DELIMITERS = (",", ";", "\t", "|")
# Sheets that document a workbook rather than hold its data.
NOT_DATA_SHEETS = frozenset(
    {
        "read me",
        "readme",
        "notes",
        "note",
        "about",
        "metadata",
        "meta",
        "info",
        "information",
        "definitions",
        "instructions",
        "cover",
        "contents",
        "lists",
        "lookups",
        "lookup",
        "codes",
        "dropdowns",
    }
)

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"


class UnreadableFile(ValueError):
    """The file cannot be read as a table at all (its name is in the message)."""


@dataclass
class RawTable:
    """One sheet of a file, laid out: header, optional HXL tags and group labels, and the data rows.

    ``data`` has one column per header position (0, 1, ...) and the user's row numbers as its index.
    ``problems`` are rows the reader itself could not place (more cells than the header has), as rejections.
    """

    path: Path
    sheet: str | None
    encoding: str | None
    header: list[str]
    hxl: list[str] | None
    groups: list[str]
    title: list[str]
    header_row: int
    data: pd.DataFrame
    problems: list[dict] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)

    @property
    def title_text(self) -> str:
        return " ".join(self.title)


# ---------------------------------------------------------------- encodings and delimiters


def detect_encoding(path: Path) -> str:
    with open(path, "rb") as file:
        head = file.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        file.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for block in iter(lambda: file.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1256"
    return "utf-8"


def detect_delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines()[:60] if line.strip()]
    if len(lines) > 1 and not sample.endswith("\n"):
        lines = lines[:-1]  # the sample may cut the last line short

    def quality(delimiter: str) -> tuple[int, int]:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        multi = [c for c in counts if c > 1]
        if not multi:
            return (0, 0)
        width, agreeing = Counter(multi).most_common(1)[0]
        return (agreeing, width)

    best = max(DELIMITERS, key=quality)
    return best if quality(best)[0] else ","


# ---------------------------------------------------------------- grids


def _read_csv_grid(path: Path) -> tuple[pd.DataFrame, str, list[dict]]:
    encoding = detect_encoding(path)
    with open(path, encoding=encoding, newline="") as file:
        sample = file.read(SNIFF_BYTES)
    if "\x00" in sample:
        raise UnreadableFile(f"{path}: binary content, not a CSV or XLSX file")
    delimiter = detect_delimiter(sample)
    sample_rows = list(csv.reader(io.StringIO(sample), delimiter=delimiter))[:200]
    width = max((len(row) for row in sample_rows), default=0)
    if width == 0:
        raise UnreadableFile(f"{path}: the file is empty")
    try:
        grid = pd.read_csv(
            path,
            sep=delimiter,
            header=None,
            names=range(width),
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            encoding=encoding,
            engine="c",
        )
        problems: list[dict] = []
    except pd.errors.ParserError:
        grid, problems = _read_ragged_csv(path, encoding, delimiter, width)
    grid.index = pd.RangeIndex(1, len(grid) + 1)
    return grid, encoding, problems


def _read_ragged_csv(
    path: Path, encoding: str, delimiter: str, width: int
) -> tuple[pd.DataFrame, list[dict]]:
    """Rows with more cells than the widest of the first rows: keep them if the extra cells are blank."""
    rows, problems = [], []
    with open(path, encoding=encoding, newline="") as file:
        for number, row in enumerate(csv.reader(file, delimiter=delimiter), start=1):
            extra = [cell for cell in row[width:] if cell.strip()]
            if extra:
                problems.append(
                    {
                        "row": number,
                        "column": None,
                        "value": delimiter.join(extra),
                        "reason": f"{len(row)} cells where the first rows have at most {width}: "
                        "a stray delimiter?",
                    }
                )
                row = []
            rows.append((row + [""] * width)[:width])
    return pd.DataFrame(rows, columns=range(width), dtype=object), problems


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _row_texts(row) -> list[str]:
    return [_cell_text(value) for value in row]


def _open_workbook(path: Path):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise UnreadableFile(f"{path}: not a readable XLSX workbook ({error})") from error


def _is_data_sheet_name(name: str) -> bool:
    return columns.normalise(name) not in NOT_DATA_SHEETS


def _choose_sheet(workbook, path: Path, sheet: str | None) -> str:
    names = list(workbook.sheetnames)
    if sheet is not None:
        if sheet in names:
            return sheet
        by_key = {columns.normalise(name): name for name in names}
        if columns.normalise(sheet) in by_key:
            return by_key[columns.normalise(sheet)]
        raise UnreadableFile(f"{path}: no sheet named {sheet!r}; the sheets are {', '.join(names)}")
    candidates = [name for name in names if _is_data_sheet_name(name)] or names
    for name in candidates:
        rows = workbook[name].iter_rows(min_row=1, max_row=HEADER_SEARCH_ROWS, values_only=True)
        if max((_header_score(_row_texts(row)) for row in rows), default=0) >= MIN_HEADER_SCORE:
            return name
    return candidates[0]


def _read_xlsx_grid(path: Path, sheet: str | None) -> tuple[pd.DataFrame, str, list[str]]:
    workbook = _open_workbook(path)
    try:
        name = _choose_sheet(workbook, path, sheet)
        rows = [
            ["" if value is None else value.strip() if isinstance(value, str) else value for value in row]
            for row in workbook[name].iter_rows(min_row=1, min_col=1, values_only=True)
        ]
        sheets = list(workbook.sheetnames)
    finally:
        workbook.close()
    width = max((len(row) for row in rows), default=0)
    if width == 0:
        raise UnreadableFile(f"{path}: sheet {name!r} is empty")
    grid = pd.DataFrame([(row + [""] * width)[:width] for row in rows], columns=range(width), dtype=object)
    grid.index = pd.RangeIndex(1, len(grid) + 1)
    return grid, name, sheets


def read_grid(path: str | os.PathLike, sheet: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Every cell of a CSV file or an XLSX sheet, indexed by the user's row numbers, and how it was read."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(f"{path}: no such file")
    with open(path, "rb") as file:
        magic = file.read(4)
    if magic.startswith(_XLS_MAGIC):
        raise UnreadableFile(f"{path}: an old Excel .xls workbook; save it as .xlsx or CSV and try again")
    if magic.startswith(_XLSX_MAGIC):
        grid, name, sheets = _read_xlsx_grid(path, sheet)
        return grid, {"sheet": name, "sheets": sheets, "encoding": None, "problems": []}
    if _looks_like_json(path):
        if sheet is not None:
            raise UnreadableFile(
                f"{path}: --sheet {sheet!r} given, but this is a JSON file, which has no sheets"
            )
        return _read_json_grid(path), {"sheet": None, "sheets": [], "encoding": "utf-8", "problems": []}
    if sheet is not None:
        raise UnreadableFile(f"{path}: --sheet {sheet!r} given, but this is a CSV file, which has no sheets")
    try:
        grid, encoding, problems = _read_csv_grid(path)
    except UnicodeError as error:
        raise UnreadableFile(f"{path}: cannot decode the text ({error})") from error
    return grid, {"sheet": None, "sheets": [], "encoding": encoding, "problems": problems}


def _looks_like_json(path: Path) -> bool:
    """A file whose first character (after a byte-order mark and blanks) opens a JSON object or array."""
    with open(path, "rb") as file:
        head = file.read(512).lstrip(codecs.BOM_UTF8).lstrip()
    return head[:1] in (b"{", b"[") or (path.suffix.lower() == ".json" and not head[:1].isalnum())


# Where JSON APIs put their list of records: the DTM API v2 answers {"result": [...], "isSuccess": ...}.
JSON_RECORD_KEYS = ("result", "results", "data", "records", "items", "rows")


def _read_json_grid(path: Path) -> pd.DataFrame:
    """A JSON answer as a grid: its list of records (at the top, or under ``result`` and the like) with a
    header row of their keys. Maps and anything else that is not a list of records are named as such."""
    import json

    try:
        with open(path, encoding="utf-8-sig") as file:
            answer = json.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UnreadableFile(f"{path}: not valid JSON ({error})") from None
    if isinstance(answer, dict) and answer.get("type") in ("FeatureCollection", "Feature", "Topology"):
        raise UnreadableFile(
            f"{path}: a map ({'TopoJSON' if answer['type'] == 'Topology' else 'GeoJSON'}), not a table: "
            "install boundaries with `flowmon geo import FILE`"
        )
    records = answer
    if isinstance(answer, dict):
        if answer.get("isSuccess") is False or answer.get("errorMessages"):
            messages = "; ".join(map(str, answer.get("errorMessages") or [])) or "no reason given"
            raise UnreadableFile(f"{path}: the API answered with an error: {messages}")
        records = next((answer[k] for k in JSON_RECORD_KEYS if isinstance(answer.get(k), list)), None)
        if records is None:
            keys = ", ".join(map(str, list(answer)[:12]))
            raise UnreadableFile(f"{path}: JSON without a list of records (its keys: {keys})")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise UnreadableFile(f"{path}: JSON that is not a list of records (objects with the same keys)")
    if not records:
        raise UnreadableFile(f"{path}: the JSON answer holds no records")
    header = list(dict.fromkeys(key for record in records for key in record))
    rows = [header] + [[_json_cell(record.get(key)) for key in header] for record in records]
    grid = pd.DataFrame(rows, columns=range(len(header)), dtype=object)
    grid.index = pd.RangeIndex(1, len(grid) + 1)
    return grid


def _json_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return str(value)
    return value


# ---------------------------------------------------------------- layout


def _is_state_name(text: str) -> bool:
    match = geo.to_pcode(text) if text else None
    return match is not None and match.kind in ("exact", "alias")


def _header_score(cells: list[str]) -> int:
    return sum(1 for cell in cells if cell and (columns.known_header(cell) or _is_state_name(cell)))


def _is_hxl_row(cells: list[str]) -> bool:
    filled = [cell for cell in cells if cell]
    return bool(filled) and all(columns.is_hxl(cell) for cell in filled)


def _forward_fill(labels: list[str]) -> list[str]:
    out, current = [], ""
    for label in labels:
        current = label or current
        out.append(current)
    return out


def layout(grid: pd.DataFrame, path: Path) -> dict:
    """Find the header, HXL, group and title rows of a grid (positions are the grid's row numbers)."""
    top = grid.head(HEADER_SEARCH_ROWS)
    texts = {
        number: _row_texts(row) for number, row in zip(top.index, top.itertuples(index=False), strict=True)
    }
    filled = {number: sum(1 for cell in cells if cell) for number, cells in texts.items()}
    nonblank = [number for number in texts if filled[number]]
    if not nonblank:
        raise UnreadableFile(f"{path}: no data in the first {HEADER_SEARCH_ROWS} rows")

    hxl_row = next((number for number in nonblank if _is_hxl_row(texts[number])), None)
    if hxl_row is not None:
        above = [number for number in nonblank if number < hxl_row]
        header_row = above[-1] if above else hxl_row
    else:
        scores = {number: _header_score(texts[number]) for number in nonblank}
        best = max(scores.values())
        if best >= MIN_HEADER_SCORE:
            header_row = min(number for number in nonblank if scores[number] == best)
        else:
            # No known column names: the first row as wide as the widest of the first rows.
            widest = max(filled[number] for number in nonblank)
            header_row = min(number for number in nonblank if filled[number] == widest)

    above = [number for number in nonblank if number < header_row]
    group_row = None
    # A group-label row sits right above the header with fewer cells: several labels, or one label that
    # does not start in the first column (a title does).
    if above and above[-1] == header_row - 1 and filled[above[-1]] < filled[header_row]:
        starts_late = not texts[above[-1]][0]
        if filled[above[-1]] >= 2 or starts_late:
            group_row = above[-1]
    title = [" ".join(cell for cell in texts[number] if cell) for number in above if number != group_row]
    header = texts[header_row] if header_row != hxl_row else [""] * len(texts[header_row])
    width = len(header)
    groups = _forward_fill(texts[group_row]) if group_row is not None else [""] * width
    hxl = texts[hxl_row] if hxl_row is not None else None
    first_data_row = max(header_row, hxl_row or 0) + 1
    return {
        "header_row": header_row,
        "hxl_row": hxl_row,
        "group_row": group_row,
        "first_data_row": first_data_row,
        "header": header,
        "hxl": hxl,
        "groups": groups,
        "title": title,
    }


def _blank_rows(data: pd.DataFrame) -> pd.Series:
    blank = pd.Series(True, index=data.index)
    for position in data.columns:
        column = data[position]
        if column.dtype == object:
            blank &= column.map(lambda v: v is None or (isinstance(v, str) and not v.strip()), na_action=None)
        else:
            blank &= column.str.strip().eq("")
    return blank


def _cells_beyond(data: pd.DataFrame, width: int) -> list[dict]:
    """Rows with cells right of the last header: a stray delimiter shifts every cell, so they are rejected."""
    extra = data[list(data.columns[width:])]
    if extra.empty:
        return []
    filled = ~_blank_rows(extra)
    problems = []
    for row in extra.index[filled.to_numpy()]:
        cells = [values_text for values_text in (_cell_text(v) for v in extra.loc[row]) if values_text]
        problems.append(
            {
                "row": int(row),
                "column": None,
                "value": ", ".join(cells),
                "reason": f"cells right of the last header column ({width} columns): a stray delimiter?",
            }
        )
    return problems


def read_raw(path: str | os.PathLike, sheet: str | None = None) -> RawTable:
    """Read one file (one sheet of a workbook) into a laid-out :class:`RawTable`."""
    path = Path(path)
    grid, info = read_grid(path, sheet)
    found = layout(grid, path)
    data = grid.loc[found["first_data_row"] :]
    data = data.loc[~_blank_rows(data)]
    header = (
        found["header"]
        if found["hxl"] is None
        else [h or t for h, t in zip(found["header"], found["hxl"], strict=True)]
    )
    width = max((i + 1 for i, text in enumerate(header) if text), default=0)
    problems = info["problems"] + _cells_beyond(data, width)
    data = data[list(data.columns[:width])]
    problem_rows = {problem["row"] for problem in problems}
    if problem_rows:
        data = data.loc[~data.index.isin(problem_rows)]
    return RawTable(
        path=path,
        sheet=info["sheet"],
        encoding=info["encoding"],
        header=found["header"],
        hxl=found["hxl"],
        groups=found["groups"],
        title=found["title"],
        header_row=found["header_row"],
        data=data,
        problems=problems,
        sheets=info["sheets"],
    )


def unique_labels(header: list[str]) -> list[str]:
    """Header texts made usable as column labels: blanks named by position, repeats numbered."""
    seen: Counter = Counter()
    out = []
    for position, text in enumerate(header, start=1):
        label = text or f"column {position}"
        seen[label] += 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def read_table(path: str | os.PathLike, sheet: str | None = None) -> pd.DataFrame:
    """The data rows of a CSV or XLSX export under their own headers, indexed by the user's row numbers.

    For notebooks: title rows, group labels and the HXL row are found and left out of the rows, and kept in
    ``df.attrs`` (``title``, ``groups``, ``hxl``, ``sheet``, ``encoding``, ``header_row``).
    """
    raw = read_raw(path, sheet)
    table = raw.data.copy()
    table.columns = unique_labels(raw.header)
    table.index.name = "row"
    table.attrs.update(
        title=raw.title,
        groups=raw.groups,
        hxl=raw.hxl,
        sheet=raw.sheet,
        encoding=raw.encoding,
        header_row=raw.header_row,
    )
    return table
