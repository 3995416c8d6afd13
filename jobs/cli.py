"""`aegis job run | submit | list`: run a job on a local MiniCluster, or submit it to the local
standalone cluster with PyFlink's bundled `flink run -py`."""

from __future__ import annotations

import argparse
import subprocess
import sys

from aegis import ROOT

JOBS = {
    "ingest": "parse, validate, dedupe raw telemetry -> clean topic, DLQ, PostgreSQL",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("job", help="run or submit a Flink job")
    js = p.add_subparsers(dest="job_command", required=True)
    run = js.add_parser("run", help="run a job on a local MiniCluster (blocks until it ends)")
    run.add_argument("name", help=f"one of: {', '.join(JOBS)}")
    run.add_argument("--bounded", action="store_true", help="process what is on the topics now, then stop")
    run.add_argument("--parallelism", type=int)
    run.set_defaults(func=_run)
    submit = js.add_parser("submit", help="submit a job to the local cluster (flink run -py, detached)")
    submit.add_argument("name", help=f"one of: {', '.join(JOBS)}")
    submit.add_argument("--bounded", action="store_true")
    submit.set_defaults(func=_submit)
    js.add_parser("list", help="the jobs this project has").set_defaults(func=_list)


def _check(name: str) -> None:
    from aegis.cli import CliError

    if name not in JOBS:
        raise CliError(f"unknown job '{name}'; jobs: {', '.join(JOBS)} (aegis job list)")


def _run(args: argparse.Namespace) -> int:
    _check(args.name)
    cmd = [sys.executable, "-m", f"jobs.{args.name}"]
    cmd += ["--bounded"] if args.bounded else []
    cmd += ["--parallelism", str(args.parallelism)] if args.parallelism else []
    return subprocess.call(cmd, cwd=ROOT)


def flink_run_command(name: str, *job_args: str) -> list[str]:
    from aegis.stack import flinkenv

    return ["bash", str(flinkenv.flink_home() / "bin" / "flink"), "run", "-d",
            "-py", str(ROOT / "jobs" / f"{name}.py"), *job_args]


def _submit(args: argparse.Namespace) -> int:
    from aegis.stack import flinkenv

    _check(args.name)
    cmd = flink_run_command(args.name, "--detach", *(["--bounded"] if args.bounded else []))
    return subprocess.call(cmd, cwd=ROOT, env=flinkenv.flink_env())


def _list(args: argparse.Namespace) -> int:
    for name, what in JOBS.items():
        print(f"{name:12s} {what}")
    return 0
