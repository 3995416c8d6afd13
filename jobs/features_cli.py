"""`aegis features backfill`: the streaming feature SQL in batch mode over stored telemetry -> a
Parquet feature dataset for training.

    aegis features backfill --from 2026-11-20 --to 2026-11-21 --input parquet:sim-out/ --output feats/
    aegis features backfill --from 2026-11-20T06:00 --to 2026-11-20T18:00 --input db --output feats/
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path


def parse_time(text: str) -> int:
    """An ISO date/time (UTC unless it says otherwise) or epoch milliseconds -> epoch ms."""
    if text.isdigit():
        return int(text)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as e:
        raise ValueError(f"{text!r} is neither an ISO date/time (2026-11-20, 2026-11-20T06:00) nor epoch ms") from e
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("features", help="feature engineering: backfill a Parquet feature dataset")
    fs = p.add_subparsers(dest="features_command", required=True)
    b = fs.add_parser("backfill", help="features for windows ending in (--from, --to] from stored telemetry")
    b.add_argument("--from", dest="t_from", required=True, help="ISO date/time (UTC) or epoch ms")
    b.add_argument("--to", dest="t_to", required=True, help="ISO date/time (UTC) or epoch ms")
    b.add_argument("--input", default="db", help="parquet:DIR (simulator output) or db (the telemetry table)")
    b.add_argument("--output", required=True, help="directory for features.parquet")
    b.add_argument("--parallelism", type=int, default=None)
    b.set_defaults(func=_backfill)


def _backfill(args: argparse.Namespace) -> int:
    from aegis.cli import CliError
    from aegis.config import settings

    try:
        t_from, t_to = parse_time(args.t_from), parse_time(args.t_to)
    except ValueError as e:
        raise CliError(str(e)) from e
    if t_to <= t_from:
        raise CliError(f"--to ({args.t_to}) must be after --from ({args.t_from})")
    if not (args.input == "db" or args.input.startswith("parquet:")):
        raise CliError(f"--input {args.input!r}: use parquet:DIR (simulator output) or db")
    if args.input.startswith("parquet:") and not Path(args.input[8:]).is_dir():
        raise CliError(f"--input {args.input}: no such directory (write one with `aegis sim --to parquet:DIR`)")

    from jobs.features import backfill

    extra = {"parallelism.default": str(args.parallelism)} if args.parallelism else None
    try:
        stats = backfill(settings(), args.input, Path(args.output), t_from, t_to,
                         progress=lambda line: print(line, file=sys.stderr, flush=True), extra=extra)
    except FileNotFoundError as e:
        raise CliError(str(e)) from e
    rate = stats["telemetry_rows"] / stats["total_s"] if stats["total_s"] else 0.0
    print(f"{stats['feature_rows']:,} feature rows from {stats['telemetry_rows']:,} telemetry rows "
          f"in {stats['total_s']:.1f} s ({rate:,.0f} telemetry rows/s) -> {Path(args.output) / 'features.parquet'}")
    return 0
