"""``flowmon profile --period 2025 [--office KRT] [--lang ar] --out profile.pdf`` (or ``.html``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from flowmon import store
from flowmon.profile.builder import build_profile, write_html
from flowmon.profile.pdf import write_pdf


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "profile",
        parents=[common],
        help="a migration profile (A4 briefing pack, PDF or HTML) for one period, from the store",
        description="Print a migration profile of Sudan for one calendar period: key figures, displacement, "
        "returns, counter-trafficking, cross-border movements, TRQN, sources and gaps, with the dashboard's "
        "published numbers.",
    )
    parser.add_argument(
        "--period", required=True, help="a month (2025-07), quarter (2025-Q3), half (2025-H1) or year (2025)"
    )
    parser.add_argument("--office", default=None, help="one office code (KRT); default all offices")
    parser.add_argument(
        "--lang", choices=("en", "ar"), default="en", help="English or Arabic (right to left)"
    )
    parser.add_argument("--out", required=True, metavar="FILE", help="profile.pdf or profile.html")
    parser.add_argument("--k", type=int, default=None, help="the operator's k (never below the floors)")
    parser.add_argument(
        "--chromium", default=None, help="the Chromium to print with (default /usr/bin/chromium)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in (".pdf", ".html"):
        raise ValueError(f"--out {out}: the file must end in .pdf or .html")
    data_dir = store.resolve_data_dir(args.data_dir)
    if not (data_dir / store.MANIFEST).exists():
        raise FileNotFoundError(
            f"{data_dir}: no flowmon store here (run flowmon ingest or flowmon demo first)"
        )
    profile = build_profile(data_dir, args.period, office=args.office, language=args.lang, operator_k=args.k)
    if out.suffix.lower() == ".html":
        write_html(profile, out)
    else:
        write_pdf(profile, out, args.chromium)
    print(f"{out}: {len(profile.pages)} pages, {profile.view.title}")
    return 0
