"""``flowmon geo import FILE | fetch | status``: install official boundaries into a data folder, or show
what is installed."""

from __future__ import annotations

import argparse
import sys

from flowmon import store
from flowmon.geo.boundaries import (
    DATASET_ID,
    DEFAULT_TOLERANCE,
    HDX_URL,
    boundaries_info,
    boundaries_path,
    fetch_boundaries,
    import_boundaries,
)
from flowmon.geo.gazetteer import states


def register(subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "geo",
        parents=[common],
        help="official admin-1 boundaries: import a file, fetch from HDX, show what is installed",
        description="Install Sudan's official COD-AB admin-1 boundaries into the data folder, or show them.",
    )
    actions = parser.add_subparsers(dest="geo_command", required=True, metavar="ACTION")
    # --data-dir may also follow the action; SUPPRESS keeps an absent one from undoing `geo --data-dir DIR`.
    after_action = argparse.ArgumentParser(add_help=False)
    after_action.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS, help="the data folder")

    importing = actions.add_parser(
        "import",
        parents=[after_action],
        help="install boundaries from a file (GeoJSON, TopoJSON, shapefile or zip, GeoPackage, GeoParquet)",
        description="Check, simplify and install admin-1 boundaries (OCHA COD-AB for Sudan, SD01-SD19) from "
        "a GeoJSON, TopoJSON, shapefile (or zip), GeoPackage or GeoParquet file into the data folder; an "
        "admin-2 file is dissolved to states.",
    )
    importing.add_argument("file", help="the admin-1 (or admin-2, dissolved to states) boundary file")
    importing.add_argument("--layer", default=None, help="the admin-1 layer (default: found automatically)")
    importing.add_argument(
        "--tolerance",
        type=float,
        metavar="DEGREES",
        default=DEFAULT_TOLERANCE,
        help=f"simplification tolerance in degrees (default {DEFAULT_TOLERANCE})",
    )
    importing.set_defaults(func=run)

    fetching = actions.add_parser(
        "fetch",
        parents=[after_action],
        help="download and install from HDX (CKAN API)",
        description="Download Sudan's COD-AB admin-1 boundaries from HDX and install them (needs the "
        "internet).",
    )
    fetching.add_argument(
        "--base-url", default=HDX_URL, metavar="URL", help=f"the CKAN portal (default {HDX_URL})"
    )
    fetching.add_argument(
        "--dataset", default=DATASET_ID, metavar="ID", help=f"the dataset (default {DATASET_ID})"
    )
    fetching.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="seconds to wait for an answer (default 30)",
    )
    fetching.add_argument(
        "--tolerance", type=float, metavar="DEGREES", default=DEFAULT_TOLERANCE, help="as for import"
    )
    fetching.set_defaults(func=run)

    status = actions.add_parser(
        "status", parents=[after_action], help="show the installed boundaries",
        description="Show which boundaries the data folder holds: official (source, date) or the schematic "
        "map.",
    )  # fmt: skip
    status.set_defaults(func=run)


def describe(info: dict | None, data_dir) -> str:
    """The lines ``flowmon geo status`` prints."""
    if info is None:
        return (
            f"no official boundaries installed in {data_dir}: the dashboard draws the schematic tile map.\n"
            "Install them with `flowmon geo import FILE` or `flowmon geo fetch`."
        )
    pcodes = info.get("pcodes", [])
    vertices = (
        f"{info.get('vertices'):,} (from {info.get('vertices_before'):,}, tolerance {info.get('tolerance')})"
    )
    shared = "valid, borders shared, no overlaps" if info.get("coverage_valid") else "valid; borders overlap"
    lines = [
        f"official boundaries in {boundaries_path(data_dir)}",
        f"source:    {info.get('source')}",
        f"installed: {info.get('installed')}",
        f"areas:     {info.get('areas')} {shared}: {', '.join(pcodes)}",
        f"vertices:  {vertices}",
        f"repaired:  {'; '.join(info.get('repaired') or []) or 'nothing'}",
    ]
    lines += [f"note:      {note}" for note in info.get("notes", [])]
    missing = info.get("missing") or []
    if missing:
        names = states().set_index("pcode")["name_en"]
        listed = ", ".join(f"{pcode} {names.get(pcode, '')}".strip() for pcode in missing)
        lines.append(
            f"warning:   no boundary in this file for {listed}: the map marks "
            f"{'it' if len(missing) == 1 else 'them'} so; figures stay in tables and KPIs"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    data_dir = store.resolve_data_dir(args.data_dir)
    try:
        if args.geo_command == "import":
            info = import_boundaries(args.file, data_dir, layer=args.layer, tolerance=args.tolerance)
        elif args.geo_command == "fetch":
            info = fetch_boundaries(
                data_dir,
                base_url=args.base_url,
                timeout=args.timeout,
                dataset=args.dataset,
                tolerance=args.tolerance,
            )
        else:
            print(describe(boundaries_info(data_dir), data_dir))
            return 0
    except (OSError, ValueError) as error:
        # One clear line, no traceback; the previous boundaries stay installed.
        print(f"flowmon geo {args.geo_command}: {error}", file=sys.stderr)
        return 2
    print(describe(info, data_dir))
    return 0
