"""`aegis job run | submit | list`: run a job on a local MiniCluster, or submit it to the local
standalone cluster with PyFlink's bundled `flink run -py`."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

from aegis import ROOT

JOBS = {
    "ingest": "parse, validate, dedupe raw telemetry -> clean topic, DLQ, PostgreSQL",
    "health": "health score, anomaly rules, alert cooldown, battery view, fleet aggregates",
    "pipeline": "ingest + health in one submission (one read of the raw topic, no clean-topic hop)",
    "dragonsync": "normalise DragonSync kit data -> drones, signals, system_health, kits; detections -> alerts",
    "features": "per-vehicle window features (5 min / 1 h) -> aegis.features, features table, late-record DLQ",
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


def submit_detached(name: str, *job_args: str, timeout_s: float = 180) -> str:
    """`flink run -d -py jobs/<name>.py`; returns the JobID once the cluster has accepted the job.

    PyFlink's client can linger after a detached submission (its Python driver does not exit while
    an unbounded job runs), so the client is stopped once the JobID is printed: the job lives on the
    cluster, not in the client."""
    import select
    import time

    from aegis.stack import flinkenv

    proc = subprocess.Popen(flink_run_command(name, "--detach", *job_args), cwd=ROOT, env=flinkenv.flink_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if ready:
                line = proc.stdout.readline()
                if not line and proc.poll() is not None:
                    break
                lines.append(line)
                m = re.search(r"JobID ([0-9a-f]{32})", line)
                if m:
                    return m.group(1)
            elif proc.poll() is not None:
                break
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    raise SubmitError(f"flink run did not report a JobID for {name}:\n" + "".join(lines[-40:]))


class SubmitError(RuntimeError):
    pass


def _submit(args: argparse.Namespace) -> int:
    from aegis.cli import CliError

    _check(args.name)
    try:
        job_id = submit_detached(args.name, *(["--bounded"] if args.bounded else []))
    except SubmitError as e:
        raise CliError(str(e)) from e
    print(f"submitted {args.name}: JobID {job_id}")
    return 0


def _list(args: argparse.Namespace) -> int:
    for name, what in JOBS.items():
        print(f"{name:12s} {what}")
    return 0
