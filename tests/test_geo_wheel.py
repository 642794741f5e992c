"""The reference files of geo/ travel inside the wheel and are found from an installed copy."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE_FILES = sorted(p.name for p in (REPO / "geo").glob("*.csv"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(REPO)]
    if importlib.util.find_spec("hatchling") is not None:
        command.insert(4, "--no-build-isolation")  # no need to fetch the build backend
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    (built,) = out.glob("flowmon-*.whl")
    return built


@pytest.mark.slow
def test_wheel_carries_the_reference_files(wheel: Path) -> None:
    assert {"states.csv", "aliases.csv", "name_tokens.csv", "tiles.csv", "offices.csv"} <= set(
        REFERENCE_FILES
    )
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for name in REFERENCE_FILES:
            assert f"flowmon/_geo/{name}" in names
            assert archive.read(f"flowmon/_geo/{name}") == (REPO / "geo" / name).read_bytes()


@pytest.mark.slow
def test_an_installed_wheel_reads_its_own_reference_files(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    install = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--quiet",
        "--target",
        str(target),
        str(wheel),
    ]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import flowmon._resources as r, flowmon.geo as g; "
        "print(r.reference_dir()); print(len(g.states()), g.to_pcode('Gezira').pcode, len(g.tiles()), "
        "g.office_code('Port Sudan'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(target)], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    folder, summary = result.stdout.strip().splitlines()
    assert Path(folder) == target / "flowmon" / "_geo"
    assert summary == "19 SD15 19 PZU"
