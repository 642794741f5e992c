"""``flowmon export csv|html|png --out FILE [filters]``: a view of the dashboard as a file.

Filters take the dashboard URL's names and formats, as options (``--office KRT,PZU --start 2024-01``) or as
a copied query or URL (``--query "office=KRT&start=2024-01"``); an option given both ways wins over the query.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flowmon.export import view as views

FORMATS = ("csv", "html", "png")
# Option -> URL name (DataStore.to_query).
FILTER_OPTIONS = {
    "office": "office codes, comma-separated (KRT,PZU)",
    "start": "first month (YYYY-MM)",
    "end": "last month (YYYY-MM)",
    "stream": "streams: caseload, return, referral, displacement (comma-separated)",
    "nationality": "ISO3 codes, comma-separated",
    "sex": "female, male, unknown",
    "age_group": "0-17, 18-59, 60+, unknown",
    "state": "state pcodes, comma-separated (SD01,SD02)",
    "granularity": "trend periods: month, quarter or year",
    "indicator": "what the map shows: caseload, return, referral, displacement_in, displacement_out",
}


def filter_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("view (the dashboard URL's names and formats)")
    group.add_argument("--query", metavar="QUERY", help='a URL or its query: "office=KRT&start=2024-01"')
    for name, text in FILTER_OPTIONS.items():
        group.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar="VALUE", help=text)
    group.add_argument("--k", type=int, default=None, help="suppression threshold (default $FLOWMON_K)")
    return options


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a view as CSV, self-contained HTML or PNG",
        description="Export exactly one view of the dashboard: aggregated and suppressed, offline.",
    )
    formats = parser.add_subparsers(dest="format", required=True, metavar="FORMAT")
    filters = filter_options()
    descriptions = {
        "csv": "the figures of the view (totals, states, offices, periods), suppressed cells empty",
        "html": "one self-contained file: the map, its selectors and month player; no server, no internet",
        "png": "a picture of the map view (headless Chromium, offline)",
    }
    for name in FORMATS:
        sub = formats.add_parser(
            name, parents=[common, filters], help=descriptions[name], description=descriptions[name]
        )
        sub.add_argument("--out", required=True, metavar="FILE", help="the file to write")
        if name == "png":
            sub.add_argument("--width", type=int, default=1920, help="pixels (default 1920)")
            sub.add_argument("--height", type=int, default=1080, help="pixels (default 1080)")
            sub.add_argument("--chromium", metavar="PATH", default=None, help="the Chromium to draw with")
        sub.set_defaults(func=run)


def query_from_args(args: argparse.Namespace) -> dict[str, str]:
    query = views.parse_query(args.query) if args.query else {}
    for name in FILTER_OPTIONS:
        value = getattr(args, name, None)
        if value is not None:
            query[name] = value
    return query


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    session = views.session(args.data_dir, query_from_args(args), args.k)
    if args.format == "csv":
        from flowmon.export.csv import write_csv

        write_csv(session, out)
    elif args.format == "html":
        from flowmon.export.html import write_html

        write_html(session, out)
    else:
        from flowmon.export.png import write_png

        write_png(session, out, width=args.width, height=args.height, chromium=args.chromium)
    print(f"flowmon export {args.format}: {session.describe()} -> {out}", file=sys.stderr)
    return 0
