"""``flowmon export csv|html|png --out FILE [filters]``: a view of the dashboard as a file.

Filters take the dashboard URL's names and formats, as options (``--office KRT --period 2024-Q1``) or as
a copied query or URL (``--query "office=KRT&period=2024-Q1"``); an option given both ways wins over
the query.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flowmon import filters, i18n
from flowmon.export import view as views

FORMATS = ("csv", "html", "png")


def filter_options() -> argparse.ArgumentParser:
    """One option per filter of ``flowmon.filters.FIELDS`` (the URL's names), plus --query and --k."""
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("view (the dashboard URL's names and formats)")
    group.add_argument("--query", metavar="QUERY", help='a URL or its query: "office=KRT&period=2024-Q1"')
    for field in filters.FIELDS:
        group.add_argument(
            f"--{field.name.replace('_', '-')}", dest=field.name, metavar="VALUE", help=field.help
        )
    for name in filters.LEGACY_NAMES:  # old links' month range: mapped to the calendar period holding it
        group.add_argument(f"--{name}", dest=name, metavar="YYYY-MM", help=argparse.SUPPRESS)
    group.add_argument("--k", type=int, default=None, help="protection threshold (default $FLOWMON_K)")
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
        sub.add_argument("--lang", choices=tuple(i18n.LANGUAGES), default="en",
                         help="language of names, headers and notes (ar: Arabic; default en)")  # fmt: skip
        if name == "png":
            sub.add_argument("--width", type=int, default=1920, help="pixels (default 1920)")
            sub.add_argument("--height", type=int, default=1080, help="pixels (default 1080)")
            sub.add_argument("--chromium", metavar="PATH", default=None, help="the Chromium to draw with")
        sub.set_defaults(func=run)


def query_from_args(args: argparse.Namespace) -> dict[str, str]:
    query = views.parse_query(args.query) if args.query else {}
    options = {name: getattr(args, name) for name in filters.NAMES if getattr(args, name, None) is not None}
    filters.Filters.from_query(options)  # options are strict; a pasted old link (--query) is mapped leniently
    query.update(options)
    for name in filters.LEGACY_NAMES:
        if getattr(args, name, None) is not None:
            query[name] = getattr(args, name)
    return query


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    session = views.session(args.data_dir, query_from_args(args), args.k, language=args.lang)
    for notice in session.notices:
        print(f"flowmon export: {notice}", file=sys.stderr)
    if args.format == "csv":
        from flowmon.export.csv import write_csv

        write_csv(session, out)
    elif args.format == "html":
        from flowmon.export.html import write_html

        write_html(session, out)
    else:
        from flowmon.export.png import write_png

        write_png(session, out, width=args.width, height=args.height, chromium=args.chromium)
    print(f"flowmon export {args.format}: {session.view.title} -> {out}", file=sys.stderr)
    return 0
