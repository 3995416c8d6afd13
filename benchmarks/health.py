"""Health: sustained throughput through ingest + health, and raw-topic-to-alert latency, each beside
a baseline measured in the same run; both as two jobs (ingest, then health over the clean topic)
and as one submission (jobs/pipeline.py: one read of the raw topic).

    python benchmarks/health.py [--records 100000] [--vehicles 50] [--rate 5000] [--latency-s 60]

Throughput: simulator telemetry (accelerated, clean) pre-loaded on a raw topic; ingest reads it
(bounded) into a clean topic, then the health job reads that (bounded), each to its real sinks
(Kafka exactly-once, PostgreSQL). events/s = records / job wall time, less the job's fixed
start-up (measured on a tiny topic, after an unmeasured warm-up run of the same job).
Baseline: a SQL pass-through of the same clean topic to a blackhole. On shared CPUs the two jobs
running side by side sustain about the harmonic combination of their rates (each record costs the
CPU of both), reported as pipeline_events_per_s.

Latency: ingest and health run unbounded on MiniClusters while this script produces --rate
records/s in real time (event time = send time; a tenth of the vehicles run with a dead motor, so
each raises a critical every cooldown); latency = when an alert becomes visible to a
read_committed consumer of the alerts topic minus its record's send time. Baseline: a SQL
pass-through raw topic -> topic (exactly-once, same checkpointing), measured the same way.
Needs the local stack (`aegis stack up`). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

# run as a script, benchmarks/ would be first on sys.path and benchmarks/sim.py would shadow `sim`
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import orjson  # noqa: E402
import psycopg  # noqa: E402
from confluent_kafka import TopicPartition  # noqa: E402

from aegis.config import settings  # noqa: E402
from connectors.kafka import KeyedSender, ensure_topics, make_consumer  # noqa: E402
from jobs.health import health, health_vars  # noqa: E402
from jobs.ingest import ingest  # noqa: E402
from jobs.pipeline import pipeline  # noqa: E402
from jobs.runtime import create_tables, stream_env  # noqa: E402

FAIL_FAST = {"restart-strategy.type": "none"}
TOPICS = ("telemetry", "telemetry.clean", "telemetry.dlq", "health", "alerts", "battery", "aggregated",
          "tiny", "tiny.clean", "passthrough")


def log(msg: str) -> None:
    print(f"health-bench: {msg}", file=sys.stderr, flush=True)


def load_topic(topic: str, records: int, vehicles: int, cfg) -> int:
    """Pre-load simulator telemetry so the jobs measure only themselves."""
    from sim import SimConfig, generate

    sender = KeyedSender(topic, cfg=cfg)
    gen = generate(SimConfig(vehicles=vehicles, duration_s=max(1, records // vehicles), seed=11,
                             scenario="default", clean=True))
    for key, ts, payload in gen:
        sender.send(key, payload, ts)
    sender.flush(300)
    return sender.sent


def timed(fn, *args, **kwargs) -> float:
    t0 = time.monotonic()
    fn(*args, **kwargs)
    return time.monotonic() - t0


def passthrough(cfg, variables: dict[str, str]) -> None:
    """The baseline: the clean topic, parsed by the same JSON DDL, into a blackhole."""
    t_env = stream_env("bench-health-passthrough", cfg, extra=FAIL_FAST)
    create_tables(t_env, ["telemetry_clean"], variables)
    t_env.execute_sql("CREATE TEMPORARY TABLE sink WITH ('connector' = 'blackhole') "
                      "LIKE telemetry_clean (EXCLUDING ALL)")
    columns = ", ".join(f"`{c}`" for c in t_env.from_path("sink").get_schema().get_field_names())
    t_env.execute_sql(f"INSERT INTO sink SELECT {columns} FROM telemetry_clean").wait()


def rate(n: int, wall_s: float, startup_s: float) -> float:
    return n / max(wall_s - startup_s, 1e-3)


def phase(n: int, wall_s: float, startup_s: float) -> dict[str, float]:
    """One timed run as the report shows it."""
    return {"wall_s": round(wall_s, 1), "startup_s": round(startup_s, 1),
            "events_per_s": round(rate(n, wall_s, startup_s))}


# --- latency --------------------------------------------------------------------------------------

def synthetic(vid: int, seq: int, ts: int) -> dict:
    """A valid quadcopter record; every tenth vehicle flies with a dead motor."""
    dead = vid % 10 == 0
    return {"schema_version": 1, "vehicle_id": f"lat-{vid:05d}", "vehicle_type": "quadcopter", "fleet_id": "bench",
            "swarm_id": f"bench-s{vid % 20}", "ts": ts, "seq": seq, "lat": 52.5 + vid * 1e-4, "lon": 13.4,
            "alt_m": 60.0, "speed_mps": 0.0, "battery_percent": 80.0, "battery_voltage_v": 15.6,
            "motor_rpm": [6000.0, 6000.0, 6000.0, 0.0 if dead else 6000.0], "motor_temp_c": [45.0] * 4,
            "signal_dbm": -70.0, "cpu_temp_c": 50.0}


class Watcher(threading.Thread):
    """Reads a topic (read_committed) and records visible-time minus the record's event time."""

    def __init__(self, topic: str, cfg, since_ms: int):
        super().__init__(daemon=True)
        self.topic, self.cfg, self.since_ms = topic, cfg, since_ms
        self.latencies_ms: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        consumer = make_consumer(f"bench-watch-{uuid.uuid4().hex[:6]}", self.cfg)
        md = consumer.list_topics(self.topic, timeout=10)
        consumer.assign([TopicPartition(self.topic, p, 0) for p in md.topics[self.topic].partitions])
        while not self.stop.is_set():
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            now = int(time.time() * 1000)
            ts = orjson.loads(msg.value())["ts"]
            if ts >= self.since_ms:
                self.latencies_ms.append(now - ts)
        consumer.close()


def produce_real_time(topic: str, cfg, rate_per_s: int, seconds: int) -> int:
    """`rate_per_s` vehicles at 1 Hz for `seconds`, event time = send time; returns records sent."""
    sender = KeyedSender(topic, cfg=cfg)
    t0 = time.monotonic()
    for second in range(seconds):
        for vid in range(rate_per_s):
            record = synthetic(vid, second, int(time.time() * 1000))
            sender.send(record["vehicle_id"], orjson.dumps(record))
        sender.producer.poll(0)
        delay = t0 + second + 1 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    sender.flush(120)
    return sender.sent


def percentiles(values: list[int]) -> dict[str, float | int | None]:
    if len(values) < 2:
        return {"n": len(values), "p50_ms": None, "p99_ms": None}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"n": len(values), "p50_ms": round(q[49]), "p99_ms": round(q[98]), "max_ms": max(values)}


def measure(cfg, raw: str, watch: str, start_jobs, rate_per_s: int, seconds: int, warmup_s: int) -> dict:
    """Start the jobs, feed `raw` in real time, watch `watch`; cancel the jobs afterwards."""
    results = start_jobs()
    try:
        time.sleep(warmup_s)             # the jobs' start-up (JVM, Python workers, first checkpoint)
        since = int(time.time() * 1000) + 10_000     # the first 10 s of feed warm the pipeline
        watcher = Watcher(watch, cfg, since)
        watcher.start()
        sent = produce_real_time(raw, cfg, rate_per_s, seconds)
        time.sleep(float(cfg.get("flink.checkpoint_interval_ms")) / 1000 * 2 + 5)  # the last commits
        watcher.stop.set()
        watcher.join(10)
    finally:
        for result in results:
            try:
                result.get_job_client().cancel().result()
            except Exception as e:        # noqa: BLE001 - a job that already failed has nothing to cancel
                log(f"cancel: {e}")
    return {"sent": sent, **percentiles(watcher.latencies_ms)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--vehicles", type=int, default=50)
    parser.add_argument("--rate", type=int, default=5_000, help="records/s fed in the latency phase")
    parser.add_argument("--latency-s", type=int, default=60)
    parser.add_argument("--warmup-s", type=int, default=45)
    parser.add_argument("--checkpoint-ms", type=int, default=None,
                        help="checkpoint interval for the latency phase (default: flink.checkpoint_interval_ms)")
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    cfg = settings()
    uid = uuid.uuid4().hex[:8]
    topics = {n: f"bench.{uid}.{n}" for n in TOPICS}
    ensure_topics([(t, 4) for t in topics.values()], cfg)
    tables = {base: f"{base}_bench_{uid}" for base in ("telemetry", "health", "alerts")}
    with psycopg.connect(cfg.pg_dsn(), autocommit=True) as conn:
        for base, table in tables.items():
            conn.execute(f"CREATE TABLE {table} (LIKE {base} INCLUDING ALL)")

    def ingest_vars(raw: str, clean: str) -> dict[str, str]:
        return dict(TOPIC_TELEMETRY=raw, TOPIC_TELEMETRY_CLEAN=clean, TOPIC_TELEMETRY_DLQ=topics["telemetry.dlq"],
                    PG_TABLE_TELEMETRY=tables["telemetry"], TXN_PREFIX=f"bench-{uid}-i{uuid.uuid4().hex[:6]}",
                    STARTUP_MODE="earliest-offset", GROUP_ID=f"bench-{uid}-ingest")

    def health_overrides(clean: str) -> dict[str, str]:
        return dict(TOPIC_TELEMETRY_CLEAN=clean, TOPIC_HEALTH=topics["health"], TOPIC_ALERTS=topics["alerts"],
                    TOPIC_BATTERY=topics["battery"], TOPIC_AGGREGATED=topics["aggregated"],
                    PG_TABLE_HEALTH=tables["health"], PG_TABLE_ALERTS=tables["alerts"],
                    TXN_PREFIX=f"bench-{uid}-h{uuid.uuid4().hex[:6]}", GROUP_ID=f"bench-{uid}-health")

    try:
        log(f"loading {args.records:,} records ...")
        n = load_topic(topics["telemetry"], args.records, args.vehicles, cfg)
        load_topic(topics["tiny"], args.vehicles * 2, args.vehicles, cfg)
        log("ingest: a warm-up run, the tiny topic (start-up cost), then the full topic ...")
        timed(ingest, cfg, bounded=True, flink_extra=FAIL_FAST, **ingest_vars(topics["tiny"], topics["tiny.clean"]))
        ingest_startup = timed(ingest, cfg, bounded=True, flink_extra=FAIL_FAST,
                               **ingest_vars(topics["tiny"], topics["tiny.clean"]))
        ingest_s = timed(ingest, cfg, bounded=True, flink_extra=FAIL_FAST,
                         **ingest_vars(topics["telemetry"], topics["telemetry.clean"]))
        log("baseline: SQL pass-through of the clean topic ...")
        base_vars = health_vars(cfg, BOUNDED_MODE="latest-offset", GROUP_ID=f"bench-{uid}-base")
        base_startup = timed(passthrough, cfg, {**base_vars, "TOPIC_TELEMETRY_CLEAN": topics["tiny.clean"]})
        base_s = timed(passthrough, cfg, {**base_vars, "TOPIC_TELEMETRY_CLEAN": topics["telemetry.clean"]})
        log("health: a warm-up run, the tiny clean topic (start-up cost), then the full clean topic ...")
        timed(health, cfg, bounded=True, flink_extra=FAIL_FAST, **health_overrides(topics["tiny.clean"]))
        health_startup = timed(health, cfg, bounded=True, flink_extra=FAIL_FAST,
                               **health_overrides(topics["tiny.clean"]))
        with psycopg.connect(cfg.pg_dsn(), autocommit=True) as conn:
            conn.execute(f"TRUNCATE {tables['health']}")       # the tiny runs' rows
        health_s = timed(health, cfg, bounded=True, flink_extra=FAIL_FAST,
                         **health_overrides(topics["telemetry.clean"]))
        with psycopg.connect(cfg.pg_dsn()) as conn:
            scored = conn.execute(f"SELECT count(*) FROM {tables['health']}").fetchone()[0]
        log("one submission: a warm-up run, the tiny raw topic (start-up cost), then the full raw topic ...")

        def one_job(raw: str) -> None:
            pipeline(cfg, bounded=True, flink_extra=FAIL_FAST, **{
                **ingest_vars(raw, topics["telemetry.clean"]), **health_overrides(topics["telemetry.clean"]),
                "GROUP_ID": f"bench-{uid}-pipeline", "TXN_PREFIX": f"bench-{uid}-p{uuid.uuid4().hex[:6]}"})

        timed(one_job, topics["tiny"])
        one_startup = timed(one_job, topics["tiny"])
        with psycopg.connect(cfg.pg_dsn(), autocommit=True) as conn:
            conn.execute(f"TRUNCATE {tables['health']}")
        one_s = timed(one_job, topics["telemetry"])
        with psycopg.connect(cfg.pg_dsn()) as conn:
            scored_one = conn.execute(f"SELECT count(*) FROM {tables['health']}").fetchone()[0]

        ingest_rate = rate(n, ingest_s, ingest_startup)
        health_rate = rate(n, health_s, health_startup)
        out: dict = {
            "benchmark": "health",
            "records": n,
            "scored_rows": scored,
            "ingest": phase(n, ingest_s, ingest_startup),
            "health": phase(n, health_s, health_startup),
            "pipeline_events_per_s": round(1 / (1 / ingest_rate + 1 / health_rate)),
            "one_submission": {**phase(n, one_s, one_startup), "scored_rows": scored_one},
            "baseline_sql_passthrough": phase(n, base_s, base_startup),
            "aim_events_per_s": 20_000,
        }

        if not args.skip_latency:
            checkpoint_ms = args.checkpoint_ms or int(cfg.get("flink.checkpoint_interval_ms"))
            # exactly-once output is visible at the checkpoint that commits it: the interval is the floor
            extra = {**FAIL_FAST, "execution.checkpointing.interval": f"{checkpoint_ms}ms"}
            log(f"latency: ingest + health at {args.rate:,} records/s for {args.latency_s} s ...")
            raw, clean = f"bench.{uid}.live", f"bench.{uid}.live.clean"
            ensure_topics([(raw, 4), (clean, 4)], cfg)

            def start_pipeline() -> list:
                return [ingest(cfg, wait=False, flink_extra=extra, **ingest_vars(raw, clean)),
                        health(cfg, wait=False, flink_extra=extra, **{**health_overrides(clean),
                                                                      "STARTUP_MODE": "latest-offset"})]

            two_jobs = measure(cfg, raw, topics["alerts"], start_pipeline, args.rate, args.latency_s, args.warmup_s)
            log(f"latency: one submission at {args.rate:,} records/s for {args.latency_s} s ...")
            raw_one = f"bench.{uid}.live.one"
            ensure_topics([(raw_one, 4)], cfg)

            def start_one() -> list:
                return [pipeline(cfg, wait=False, flink_extra=extra, **{
                    **ingest_vars(raw_one, clean), **health_overrides(clean), "STARTUP_MODE": "latest-offset",
                    "GROUP_ID": f"bench-{uid}-live-one"})]

            one = measure(cfg, raw_one, topics["alerts"], start_one, args.rate, args.latency_s, args.warmup_s)
            log("latency baseline: SQL pass-through raw topic -> topic, exactly-once ...")
            base_raw = f"bench.{uid}.live.base"
            ensure_topics([(base_raw, 4)], cfg)

            def start_passthrough() -> list:
                t_env = stream_env("bench-health-latency-baseline", cfg, extra=extra)
                create_tables(t_env, ["telemetry_raw"], health_vars(cfg, TOPIC_TELEMETRY=base_raw,
                                                                    STARTUP_MODE="latest-offset"))
                t_env.execute_sql(f"""CREATE TEMPORARY TABLE sink (payload BYTES) WITH ('connector' = 'kafka',
                    'topic' = '{topics["passthrough"]}', 'properties.bootstrap.servers' = '{cfg.bootstrap}',
                    'properties.transaction.timeout.ms' = '900000', 'format' = 'raw',
                    'sink.delivery-guarantee' = 'exactly-once',
                    'sink.transactional-id-prefix' = 'bench-{uid}-pass')""")
                return [t_env.execute_sql("INSERT INTO sink SELECT payload FROM telemetry_raw")]

            baseline = measure(cfg, base_raw, topics["passthrough"], start_passthrough, args.rate,
                               args.latency_s, args.warmup_s)
            out["latency_raw_to_alert"] = {"rate_per_s": args.rate, "checkpoint_interval_ms": checkpoint_ms,
                                           "two_jobs": two_jobs, "one_submission": one, "aim_p99_ms": 1000}
            out["latency_baseline_sql_passthrough"] = {"rate_per_s": args.rate, "checkpoint_interval_ms": checkpoint_ms,
                                                       **baseline}
        out.update({
            "checkpoint_interval_ms": int(cfg.get("flink.checkpoint_interval_ms")),
            "watermark_delay_ms": int(cfg.get("flink.watermark_delay_ms")),
            "parallelism": int(cfg.get("flink.parallelism")),
            "python_execution_mode": cfg.get("flink.python_execution_mode"),
            "cpus": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        })
        print(json.dumps(out))
        return 0 if scored == scored_one == n else 1
    finally:
        with psycopg.connect(cfg.pg_dsn(), autocommit=True) as conn:
            for table in tables.values():
                conn.execute(f"DROP TABLE IF EXISTS {table}")


if __name__ == "__main__":
    sys.exit(main())
