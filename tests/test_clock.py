"""The suite's date-sensitive parts under a faked clock: the tests pass in any month.

The demo fixtures end in a fixed month (``DEMO_UNTIL``); this runs the parts that touch dates (the demo, the
dashboard's default period, the exports) with the system clock set to another month by libfaketime
(Debian's ``faketime``, which CI installs), in a process of their own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATE_SENSITIVE = [
    "tests/test_demo.py",
    "tests/test_app.py",
    "tests/test_export_csv.py",
    "tests/test_export_html.py",
]

pytestmark = pytest.mark.slow


def faketime() -> str:
    found = shutil.which("faketime")
    if found is None:
        message = "Debian's faketime is needed to run the suite under another date (apt-get install faketime)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.mark.parametrize("when", ["2027-03-15 12:00:00", "2031-01-02 08:00:00"])
def test_date_sensitive_tests_pass_in_another_month(when, tmp_path):
    command = [faketime(), when, sys.executable, "-m", "pytest", "-q", "-m", "not ui",
               "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "pytest"), *DATE_SENSITIVE]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def test_the_default_demo_ends_the_month_before_the_faked_date(tmp_path):
    code = "import flowmon.demo as d; print(d.demo_months()[-1])"
    result = subprocess.run([faketime(), "2027-03-15 12:00:00", sys.executable, "-c", code], cwd=REPO,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.stdout.strip() == "2027-02", result.stderr
