"""``flowmon ingest STREAM FILE... [--report REPORT.json] [--sheet NAME] [--period YYYY-MM]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from flowmon import schema, store
from flowmon.ingest.pipeline import CROSSINGS, ingest_files
from flowmon.ingest.report import dumps

TRQN = "trqn"  # Temporary Return of Qualified Nationals: assignments of experts (flowmon.trqn)
EPILOG = """exit status: 0 every row stored; 1 some rows rejected (the others stored); 2 a file
unreadable or with nothing usable (nothing stored). Rejected rows are listed with their row number in the
file, the column, the value and the reason."""


def register(subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "ingest",
        parents=[common],
        help="validate exports (CSV, XLSX) and add them to the store",
        description="Validate case exports, DTM master lists or flow monitoring registry exports (crossings) "
        "and add them to the store.",
        epilog=EPILOG,
    )
    streams = (*schema.ALL_STREAMS, CROSSINGS, TRQN)
    parser.add_argument("stream", choices=streams, metavar="STREAM", help=", ".join(streams))
    parser.add_argument("files", nargs="+", metavar="FILE", help="CSV, XLSX or JSON (DTM API) exports")
    parser.add_argument("--report", metavar="REPORT.json", help="write the report as JSON")
    parser.add_argument(
        "--sheet", metavar="NAME", help="the workbook sheet to read (default: the first data sheet)"
    )
    parser.add_argument(
        "--period",
        metavar="DATE",
        help="the round of a DTM file, YYYY-MM or YYYY-MM-DD (or the month of a case file without dates)",
    )
    parser.add_argument(
        "--operation",
        metavar="NAME",
        help="the DTM operation to store from a file that holds several (the message lists them)",
    )
    parser.add_argument(
        "--date-order",
        choices=("DMY", "MDY"),
        help="read dates like 03/04/2024 as day/month or month/day (default: found from the data)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.stream == TRQN:  # a table of its own (flowmon.trqn), one file at a time
        from flowmon import trqn

        codes = [trqn.run_ingest(argparse.Namespace(**{**vars(args), "file": file})) for file in args.files]
        return max(codes)
    for file in args.files:  # before any note about the store: a typo in a name is the whole story
        if not Path(file).is_file():
            raise FileNotFoundError(
                f"{file}: no such file" if not Path(file).exists() else f"{file} is a folder"
            )
    result = ingest_files(
        args.stream,
        args.files,
        store.resolve_data_dir(args.data_dir),
        period=args.period,
        sheet=args.sheet,
        date_order=args.date_order,
        operation=args.operation,
    )
    print(result.summary())
    if args.report:
        store.write_text_atomic(args.report, dumps(result.files))
    return result.exit_code
