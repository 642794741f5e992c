"""The ``flowmon`` command: ``demo | ingest | geo | serve | users | access-log | export | bench``.

Each subcommand lives with the code it drives: a module in ``SUBCOMMANDS`` has ``register(subparsers,
common)``, which adds its parser (with ``common`` as a parent, so every subcommand takes ``--data-dir``) and
sets ``func(args) -> int`` as the parser's default.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from flowmon import __version__

SUBCOMMANDS = (
    "flowmon.demo",
    "flowmon.serve",
    "flowmon.users",
    "flowmon.access_log",
    "flowmon.ingest.cli",
    "flowmon.geo.cli",
    "flowmon.bench",
    "flowmon.export.cli",
    "flowmon.audit",
    "flowmon.profile.cli",
    "flowmon.trqn",
)


def common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        metavar="DIR",
        default=None,
        help="the data folder (default: $FLOWMON_DATA_DIR, else ./data)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flowmon",
        description="MRRC caseloads, AVRR returns, trafficking referrals and DTM displacement, by state.",
    )
    parser.add_argument("--version", action="version", version=f"flowmon {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = common_options()
    for name in SUBCOMMANDS:
        importlib.import_module(name).register(subparsers, common)
    return parser


def _innermost(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)parser that parsed the chosen (sub)command, so an error shows that command's usage."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = getattr(args, action.dest, None)
            if chosen in action.choices:
                return _innermost(action.choices[chosen], args)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        _innermost(parser, args).error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except (FileNotFoundError, ValueError, OSError) as error:
        # Users get one clear line, not a traceback (FLOWMON_DEBUG=1 shows it, for developers).
        if os.environ.get("FLOWMON_DEBUG"):
            raise
        print(f"flowmon {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
