"""`aegis demo`: a small simulated fleet through the jobs for about a minute, then what happened.

Starts (or reuses) the stack, submits the streaming jobs to the local Flink cluster once (a job
already running is reused), runs the simulator in real time into aegis.telemetry, and prints rows
stored, records dead-lettered by reason, consumer lag, and where to look next.
"""

from __future__ import annotations

import argparse
import collections
import time

import requests

#: streaming jobs the demo runs, in submission order (later issues add theirs); ingest and health
#: as one submission: one exactly-once hop from the raw topic to the results (jobs/pipeline.py)
DEMO_JOBS = ["pipeline"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run a simulated fleet through the jobs and show the result")
    p.add_argument("--vehicles", type=int, default=20, help="fleet size (default 20)")
    p.add_argument("--seconds", type=int, default=60, help="real-time seconds to simulate (default 60)")
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=_run)


def running_jobs(rest: str) -> dict[str, str]:
    """name -> job id of the RUNNING jobs on the cluster."""
    jobs = requests.get(f"{rest}/jobs/overview", timeout=5).json()["jobs"]
    return {j["name"]: j["jid"] for j in jobs if j["state"] == "RUNNING"}


def submit(name: str, rest: str) -> str:
    from aegis.cli import CliError
    from jobs.cli import SubmitError, submit_detached

    job_name = f"aegis-{name}"
    already = running_jobs(rest)
    if job_name in already:
        print(f"  {job_name}: already running ({already[job_name]})")
        return already[job_name]
    print(f"  {job_name}: submitting with flink run -py jobs/{name}.py ...", flush=True)
    try:
        submit_detached(name)
    except SubmitError as e:
        raise CliError(str(e)) from e
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        jobs = running_jobs(rest)
        if job_name in jobs:
            return jobs[job_name]
        time.sleep(1)
    raise CliError(f"{job_name} did not reach RUNNING; see `aegis stack logs flink`")


def end_offsets(topic: str) -> dict[int, int]:
    from confluent_kafka import TopicPartition

    from aegis.config import settings
    from connectors.kafka import make_consumer

    consumer = make_consumer("aegis-demo-probe", settings())
    try:
        parts = consumer.list_topics(topic, timeout=5).topics[topic].partitions
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)[1] for p in parts}
    finally:
        consumer.close()


def consumer_lag(group: str, topic: str) -> int | None:
    from confluent_kafka import TopicPartition

    from aegis.config import settings
    from connectors.kafka import make_consumer

    consumer = make_consumer(group, settings())
    try:
        parts = consumer.list_topics(topic, timeout=5).topics[topic].partitions
        tps = [TopicPartition(topic, p) for p in parts]
        committed = consumer.committed(tps, timeout=10)
        lag = 0
        for tp in committed:
            _, high = consumer.get_watermark_offsets(tp, timeout=5)
            lag += high - (tp.offset if tp.offset >= 0 else 0)
        return lag
    except Exception:
        return None
    finally:
        consumer.close()


def _run(args: argparse.Namespace) -> int:
    import orjson
    import psycopg

    from aegis.cli import CliError
    from aegis.config import settings
    from connectors.kafka import read_topic
    from sim import SimConfig, open_sink, run

    cfg = settings()
    rest = f"http://127.0.0.1:{cfg.get('flink.rest_port')}"
    try:
        requests.get(f"{rest}/overview", timeout=3)
    except requests.RequestException as e:
        raise CliError("the local Flink cluster is not up: run `aegis stack up` (or `make demo`)") from e

    print("1. jobs on the local Flink cluster")
    for name in DEMO_JOBS:
        submit(name, rest)

    start_offsets = end_offsets(cfg.topic("telemetry"))
    print(f"2. simulating {args.vehicles} vehicles for {args.seconds} s in real time -> {cfg.topic('telemetry')}")
    report = run(SimConfig(vehicles=args.vehicles, duration_s=args.seconds, seed=args.seed, scenario="demo",
                           speed=1.0, progress=True), open_sink("kafka", cfg), cfg=cfg)
    print(f"   {report.summary()}")

    print("3. waiting for the jobs to catch up ...", flush=True)
    deadline = time.monotonic() + 90
    while True:
        with psycopg.connect(cfg.pg_dsn()) as conn:
            stored, vehicles = conn.execute(
                "SELECT count(*), count(DISTINCT vehicle_id) FROM telemetry "
                "WHERE ts BETWEEN to_timestamp(%s / 1000.0) AND to_timestamp(%s / 1000.0)",
                (report.start_ts - 5_000, report.end_ts + 5_000)).fetchone()
            total = conn.execute("SELECT count(*) FROM telemetry").fetchone()[0]
            window = (report.start_ts - 5_000, report.end_ts + 5_000)
            scored = conn.execute("SELECT count(*), round(avg(health_score)::numeric, 1) FROM health "
                                  "WHERE ts BETWEEN to_timestamp(%s / 1000.0) AND to_timestamp(%s / 1000.0)",
                                  window).fetchone()
            alerts = dict(conn.execute(
                "SELECT alert_type || '/' || severity, count(*) FROM alerts "
                "WHERE ts BETWEEN to_timestamp(%s / 1000.0) AND to_timestamp(%s / 1000.0) GROUP BY 1", window))
        if (stored >= report.valid and scored[0] >= report.valid) or time.monotonic() > deadline:
            break
        time.sleep(2)
    reasons: collections.Counter[str] = collections.Counter()
    for _, value in read_topic(cfg.topic("telemetry.dlq"), cfg, idle_s=2):
        rec = orjson.loads(value)
        if rec["source_offset"] >= start_offsets.get(rec["source_partition"], 0):
            reasons[rec["reason"]] += 1
    group = "aegis-pipeline"
    lag = consumer_lag(group, cfg.topic("telemetry"))

    print("\nWhat happened")
    print(f"  produced            {report.sent:,} records ({report.valid:,} valid, "
          f"{sum(report.dead_letters.values())} bad or duplicate by design)")
    print(f"  stored in telemetry {stored:,} rows from {vehicles} vehicles this run ({total:,} in all)")
    print(f"  dead-lettered       {sum(reasons.values())} {dict(reasons) or ''}")
    print(f"  expected            {report.valid:,} stored, {sum(report.dead_letters.values())} dead-lettered")
    print(f"  health scores       {scored[0]:,} rows, mean health {scored[1]}")
    print(f"  alerts (cooldown)   {sum(alerts.values())} {alerts or ''}")
    print(f"  consumer lag        {lag if lag is not None else 'n/a'} (group {group} on {cfg.topic('telemetry')})")
    print("\nWhere to look")
    print(f"  Flink UI            {rest}")
    print(f"  Prometheus          http://127.0.0.1:{cfg.get('prometheus.port')}  (alerts: /alerts)")
    print(f"  exporter metrics    http://127.0.0.1:{cfg.get('prometheus.exporter_port')}/metrics")
    print("  SQL                 aegis sql   (e.g. SELECT vehicle_id, battery_percent FROM telemetry_clean;)")
    print("  dead letters        aegis consume telemetry.dlq")
    print("\nStop everything with  aegis stack down   (or make down); jobs keep running until then.")
    return 0 if stored else 1
