"""The one CLI: `aegis <command> ...`. Each command lives in its own module with a
`register(subparsers)` function; add a line to COMMANDS to add a command. Modules keep heavy
imports (PyFlink, numpy) inside their handlers so `aegis --help` stays fast."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from aegis.errors import CliError

COMMANDS: list[str] = [
    "aegis.stack.cli",        # aegis stack up|down|status|logs
    "aegis.db.cli",           # aegis db migrate|status
    "connectors.produce",     # aegis produce
    "connectors.consume",     # aegis consume
    "jobs.cli",               # aegis job run|submit
    "aegis.catalog",          # aegis sql
    "aegis.demo",             # aegis demo
    "exporters.cli",          # aegis exporter
    "connectors.dragonsync.cli",  # aegis dragonsync collect|emulate
    "sim.cli",                # aegis sim
    "jobs.features_cli",      # aegis features backfill
]


__all__ = ["CliError", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aegis", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return int(args.func(args) or 0)
    except CliError as e:
        print(f"aegis {args.command}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
