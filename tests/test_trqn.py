"""TRQN assignments: ingest with the usual row-level report and exit codes, atomic store, demo rows."""

from __future__ import annotations

import json

from flowmon import store, trqn
from flowmon.cli import main

HEADER = "Assignment ID,Phase,State,Sector,Host institution,Sex,Country of residence,Start,End\n"
GOOD = [
    "Q-001,TRQN IV,SD10,health,Port Sudan Teaching Hospital,F,SAU,2025-02-01,2025-05-30\n",
    "Q-002,TRQN IV,sd16,Education,University of Shendi,male,United Kingdom,2025-03-10,\n",
]
BAD = [
    "Q-003,TRQN IV,SD99,health,Kassala Hospital,F,SAU,2025-02-01,2025-04-01\n",  # row 4: state
    "Q-004,TRQN IV,SD11,tourism,Kassala Hospital,F,SAU,2025-02-01,2025-01-01\n",  # row 5: sector and end
]


def test_ingest_reports_rows_and_stores_the_good_ones(data_dir, tmp_path, capsys):
    file = tmp_path / "trqn.csv"
    file.write_text(HEADER + "".join(GOOD + BAD), encoding="utf-8")
    report = tmp_path / "report.json"
    code = main(["trqn", "ingest", str(file), "--data-dir", str(data_dir), "--report", str(report)])
    assert code == 1
    files = json.loads(report.read_text())["files"]
    assert files[0]["rows"] == 4 and files[0]["accepted"] == 2 and files[0]["rejected"] == 2
    cells = {(r["row"], r["column"]) for r in files[0]["rejections"]}
    assert cells == {(4, "State"), (5, "Sector"), (5, "End")}
    stored = trqn.load(data_dir)
    assert list(stored["assignment_id"]) == ["Q-001", "Q-002"]
    assert list(stored["country_of_residence"].astype(str)) == ["SAU", "GBR"]
    assert stored["end"].isna().tolist() == [False, True]
    assert store.read_manifest(data_dir)["sources"][-1]["stream"] == "trqn"
    out = capsys.readouterr().out
    assert "row 4, column 'State': 'SD99'" in out

    # The same file again: skipped. Another file repeating a stored row: a note, exit 0.
    assert main(["trqn", "ingest", str(file), "--data-dir", str(data_dir)]) == 0
    again = tmp_path / "again.csv"
    again.write_text(HEADER + GOOD[0], encoding="utf-8")
    assert main(["trqn", "ingest", str(again), "--data-dir", str(data_dir)]) == 0
    assert "already stored" in capsys.readouterr().out
    assert len(trqn.load(data_dir)) == 2


def test_unusable_file_stores_nothing(data_dir, tmp_path, capsys):
    file = tmp_path / "bad.csv"
    file.write_text("Name,Sector\nAhmed,health\n", encoding="utf-8")
    assert main(["trqn", "ingest", str(file), "--data-dir", str(data_dir)]) == 2
    assert "no column for assignment_id" in capsys.readouterr().out
    assert not trqn.table_path(data_dir).exists()


def test_demo_writes_synthetic_assignments(demo_dir):
    table = trqn.load(demo_dir)
    assert len(table) > 100
    assert table["host_institution"].str.startswith("SYNTHETIC").all()
    sources = [s for s in store.read_manifest(demo_dir)["sources"] if s["stream"] == "trqn"]
    assert len(sources) == 1 and sources[0]["synthetic"]
