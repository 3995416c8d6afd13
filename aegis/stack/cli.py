"""`aegis stack up | down | status | logs`: the local stack, installed and started by the project."""

from __future__ import annotations

import argparse
import shutil
import sys
import time

ORDER = ["kafka", "postgres", "prometheus", "flink", "exporter"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stack", help="the local stack: Kafka, PostgreSQL, Prometheus, Flink cluster, exporter")
    ss = p.add_subparsers(dest="stack_command", required=True)
    up = ss.add_parser("up", help="install what is missing and start every component (idempotent)")
    up.add_argument("components", nargs="*", metavar="COMPONENT",
                    help=f"only these ({', '.join(ORDER)}); default all")
    up.add_argument("--no-flink", action="store_true", help="skip the standalone Flink cluster "
                    "(jobs can still run on a MiniCluster)")
    up.set_defaults(func=_up)
    down = ss.add_parser("down", help="stop every component")
    down.add_argument("--purge", action="store_true", help="also delete their data (topics, database)")
    down.set_defaults(func=_down)
    ss.add_parser("status", help="each component's version, address and health; "
                  "exit 1 when one is down").set_defaults(func=_status)
    logs = ss.add_parser("logs", help="show a component's log")
    logs.add_argument("component", choices=ORDER)
    logs.add_argument("-n", "--lines", type=int, default=50)
    logs.add_argument("-f", "--follow", action="store_true")
    logs.set_defaults(func=_logs)


def _services(names: list[str] | None = None):
    from aegis.config import settings
    from aegis.stack.services import SERVICES

    cfg = settings()
    return [SERVICES[n](cfg) for n in (names or ORDER)]


def _up(args: argparse.Namespace) -> int:
    from aegis.cli import CliError
    from aegis.config import settings
    from aegis.db.migrate import migrate
    from aegis.stack.services import StackError, connector_jars

    names = args.components or [n for n in ORDER if not (args.no_flink and n == "flink")]
    try:
        t0 = time.monotonic()
        connector_jars(settings())
        for svc in _services(names):
            print(f"  {svc.name:11s} installing ...", end="\r", file=sys.stderr, flush=True)
            svc.install()
            print(f"  {svc.name:11s} starting ...  ", end="\r", file=sys.stderr, flush=True)
            svc.start()
            if svc.name == "postgres":
                migrate()
            print(f"  {svc.name:11s} up            ", file=sys.stderr)
    except StackError as e:
        raise CliError(str(e)) from e
    print(f"stack up in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    return _status(args)


def _down(args: argparse.Namespace) -> int:
    from aegis.config import settings

    for svc in reversed(_services()):
        stopped = svc.stop()
        print(f"  {svc.name:11s} {'stopped' if stopped else 'not running'}")
    if args.purge:
        state = settings().state_dir
        for sub in ("kafka", "postgres", "prometheus", "flink"):
            shutil.rmtree(state / sub, ignore_errors=True)
        print(f"  purged data under {state}")
    return 0


def _status(args: argparse.Namespace) -> int:
    rows = [svc.status() for svc in _services()]
    print(f"{'component':11s} {'health':7s} {'version':10s} {'address':32s} detail")
    for s in rows:
        print(f"{s.name:11s} {'up' if s.ok else 'DOWN':7s} {s.version:10s} {s.address:32s} {s.detail}")
    down = [s.name for s in rows if not s.ok]
    if down:
        print(f"\n{', '.join(down)} down: run `aegis stack up` (logs: `aegis stack logs {down[0]}`)",
              file=sys.stderr)
    return 1 if down else 0


def _logs(args: argparse.Namespace) -> int:
    import subprocess

    from aegis.config import settings

    state = settings().state_dir
    if args.component == "flink":
        files = sorted((state / "logs" / "flink").glob("*.log"))
    else:
        files = [state / "logs" / f"{args.component}.log"]
    files = [f for f in files if f.exists()]
    if not files:
        print(f"no log for {args.component} yet under {state / 'logs'}", file=sys.stderr)
        return 1
    return subprocess.call(["tail", f"-n{args.lines}", *(["-F"] if args.follow else []), *map(str, files)])
