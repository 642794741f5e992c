"""The project's own files agree with each other."""

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[;]", spec, maxsplit=1)[0].strip().lower().replace("_", "-")


def _normalise(spec: str) -> str:
    return spec.replace(" ", "").lower().replace("_", "-")


def test_environment_yml_lists_the_runtime_dependencies_of_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = [d for d in environment["dependencies"] if isinstance(d, str)]
    conda_specs = {_name(d): _normalise(d) for d in conda if _name(d) not in {"python", "pip"}}
    pip_specs = {_name(d): _normalise(d) for d in project["dependencies"]}
    assert conda_specs == pip_specs
    python = next(d for d in conda if _name(d) == "python")
    assert _normalise(python) == "python" + project["requires-python"].replace(" ", "")
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section
    assert environment["channels"][0] == "conda-forge"


def test_the_cli_entry_point_is_declared():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"flowmon": "flowmon.cli:main"}


def test_data_folder_is_ignored_but_its_readme():
    ignore = (REPO / ".gitignore").read_text().splitlines()
    assert "/data/*" in ignore
    assert "!/data/README.md" in ignore
