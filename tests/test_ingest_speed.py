"""A million rows of CSV ingest in well under a minute (issue 4)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from flowmon import store
from flowmon.ingest import ingest_files

ROWS = 1_000_000


@pytest.mark.slow
def test_a_million_row_export_ingests_in_well_under_a_minute(tmp_path):
    rng = np.random.default_rng(1)
    dates = pd.date_range("2021-01-01", "2024-12-31", freq="D")
    export = pd.DataFrame(
        {
            "Case No": [f"MRRC-{i:07d}" for i in range(ROWS)],
            "Date of Registration": dates[rng.integers(0, len(dates), ROWS)].strftime("%d/%m/%Y"),
            "Office": rng.choice(["KRT", "Port Sudan", "Kassala", "GDF"], ROWS),
            "State": rng.choice(["Khartoum", "Red Sea", "Kasala", "القضارف", "Gezira", "SD09"], ROWS),
            "Nationality": rng.choice(["ERI", "Ethiopian", "SO", "South Sudan", "-99"], ROWS),
            "Gender": rng.choice(["F", "M", "أنثى", ""], ROWS),
            "Age": rng.integers(0, 90, ROWS).astype(str),
            "Service": rng.choice(["Counselling", "Medical", "screening", "Info session"], ROWS),
        }
    )
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as file:
        file.write("MRRC caseload export, all offices\n\n")
        export.to_csv(file, index=False)

    start = time.perf_counter()
    result = ingest_files("caseload", [path], tmp_path / "store", progress=False)
    elapsed = time.perf_counter() - start
    assert result.exit_code == 0, result.report["files"][0]["rejections"][:5]
    assert result.files[0].rows == ROWS and len(store.load(tmp_path / "store")["events"]) == ROWS
    assert elapsed < 45, f"{ROWS:,} rows took {elapsed:.1f} s"
    print(f"\n{ROWS:,} rows ingested in {elapsed:.1f} s")
