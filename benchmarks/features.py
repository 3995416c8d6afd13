"""Features: backfill throughput and streaming feature latency, each beside a baseline measured in
the same run.

    python benchmarks/features.py [--vehicles 50] [--duration-s 86400] [--parallelism 2] [--latency-s 90]

Backfill: a 50-vehicle fleet's simulator Parquet (1 Hz; a full fleet-day, the default, is
50 x 86400 = 4.32M rows; --duration-s takes a stated fraction of one) -> `aegis features backfill`'s
own code path (jobs.features.backfill: staging to CSV, sql/features.sql in batch mode, the feature
rows collected and written to Parquet), timed end to end with every fixed cost (planning, code
generation, job start) included; only the JVM's own start, paid once per process, is left out and
reported. Baseline: the same staged CSV through a batch SQL pass-through to a blackhole sink, so the
feature SQL's own cost is the difference. The JVM's CPU seconds and the load average are reported
beside the wall times: the machine is shared.

Latency: the streaming job on a MiniCluster reading a topic fed in real time (event time = now,
--latency-vehicles at 1 Hz, 10 s slide); latency = when a feature record becomes visible to a
read_committed consumer of aegis.features minus its window end. Baseline (the floor the design
sets): the watermark delay plus, for exactly-once output, up to one checkpoint interval.
Needs the local stack (`aegis stack up`) for the latency part only. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

# run as a script, benchmarks/ would be first on sys.path and benchmarks/sim.py would shadow `sim`
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import orjson  # noqa: E402
import psycopg  # noqa: E402

from aegis.config import settings  # noqa: E402
from jobs.features import backfill, backfill_settings, batch_env, features_vars, stage_parquet  # noqa: E402
from jobs.runtime import create_tables  # noqa: E402

FAIL_FAST = {"restart-strategy.type": "none"}
FLEET_DAY_ROWS = 50 * 86_400


def log(msg: str) -> None:
    print(f"features-bench: {msg}", file=sys.stderr, flush=True)


def jvm_cpu_s() -> float:
    """CPU seconds used so far by this process's child processes (the PyFlink gateway JVM)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def pass_through(staged: Path, cfg, extra: dict[str, str]) -> float:
    """The baseline: read and parse the same staged telemetry, write it to a blackhole (batch)."""
    variables = features_vars(cfg, TELEMETRY_FILES_PATH=str(staged))
    t_env = batch_env("aegis-features-baseline", cfg, extra)
    create_tables(t_env, ["telemetry_files"], variables)
    t_env.execute_sql("CREATE TABLE sink WITH ('connector' = 'blackhole') LIKE telemetry_files (EXCLUDING ALL)")
    columns = ", ".join(f"`{c}`" for c in t_env.from_path("sink").get_schema().get_field_names())
    t0 = time.monotonic()
    t_env.execute_sql(f"INSERT INTO sink SELECT {columns} FROM telemetry_files").wait()
    return time.monotonic() - t0


def backfill_bench(vehicles: int, duration_s: int, parallelism: int | None, cfg, sim_dir: Path | None = None) -> dict:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from sim import SimConfig, open_sink, run

    extra = {"parallelism.default": str(parallelism)} if parallelism else {}
    p = parallelism or int(backfill_settings(cfg)["parallelism.default"])
    with tempfile.TemporaryDirectory(prefix="aegis-features-bench-") as tmp:
        root = Path(tmp)
        sim = sim_dir or root / "sim"
        if sim_dir is None:
            log(f"simulating {vehicles} vehicles x {duration_s} s ...")
            run(SimConfig(vehicles=vehicles, duration_s=duration_s, seed=7, scenario="default", clean=True,
                          start_ms=1_790_000_000_000), open_sink(f"parquet:{sim}"))
        ts = pq.read_table(sim / "telemetry", columns=["ts", "vehicle_id"])
        start_ms = int(pc.min(ts["ts"]).as_py()) // 1000 * 1000
        duration_s = (int(pc.max(ts["ts"]).as_py()) - start_ms) // 1000 + 1
        vehicles = pc.count_distinct(ts["vehicle_id"]).as_py()
        t0 = time.monotonic()
        rows = stage_parquet(sim, root / "staged", None, None)
        base_stage_s = time.monotonic() - t0
        log(f"staged {rows:,} rows in {base_stage_s:.1f} s; starting the JVM ...")
        t0 = time.monotonic()
        batch_env("aegis-jvm-start", cfg)
        jvm_start_s = time.monotonic() - t0
        log("baseline pass-through ...")
        cpu0 = jvm_cpu_s()
        base_s = pass_through(root / "staged", cfg, {**backfill_settings(cfg), **extra})
        base_cpu = jvm_cpu_s() - cpu0
        log(f"baseline {base_s:.1f} s; backfill ...")
        load0, cpu0 = os.getloadavg()[0], jvm_cpu_s()
        stats = backfill(cfg, f"parquet:{sim}", root / "out", start_ms, start_ms + duration_s * 1000,
                         progress=log, extra=extra)
        cpu = jvm_cpu_s() - cpu0
        load1 = os.getloadavg()[0]
    total = stats["total_s"]
    return {
        "fleet_vehicles": vehicles, "simulated_s": duration_s, "telemetry_rows": stats["telemetry_rows"],
        "feature_rows": stats["feature_rows"], "parallelism": p,
        "fraction_of_fleet_day": round(stats["telemetry_rows"] / FLEET_DAY_ROWS, 4),
        "backfill_s": round(total, 2), "stage_s": round(stats["stage_s"], 2),
        "features_sql_s": round(stats["features_s"], 2),
        "backfill_rows_per_s": round(stats["telemetry_rows"] / total),
        "backfill_jvm_cpu_s": round(cpu, 1),
        "fleet_day_estimate_s": round(total * FLEET_DAY_ROWS / stats["telemetry_rows"], 1),
        "baseline_pass_through_s": round(base_s, 2), "baseline_stage_s": round(base_stage_s, 2),
        "baseline_pass_through_rows_per_s": round(rows / base_s), "baseline_jvm_cpu_s": round(base_cpu, 1),
        "jvm_start_s_not_counted": round(jvm_start_s, 2),
        "load_average_1m": [round(load0, 2), round(load1, 2)], "cpus": os.cpu_count(),
    }


def latency_bench(seconds: int, vehicles: int, cfg) -> dict:
    from confluent_kafka import TopicPartition

    from connectors.kafka import KeyedSender, admin, ensure_topics, make_consumer
    from jobs.features import features

    uid = uuid.uuid4().hex[:8]
    topics = {n: f"bench.{uid}.{n}" for n in ("telemetry.clean", "features", "features.dlq")}
    ensure_topics([(t, 2) for t in topics.values()], cfg)
    table = f"features_bench_{uid}"
    with psycopg.connect(cfg.pg_dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (LIKE features INCLUDING ALL)")
    windows = {"FEATURES_SLIDE_S": 10, "FEATURES_SHORT_S": 30, "FEATURES_LONG_S": 60}
    arrivals: list[tuple[int, int]] = []
    stop = threading.Event()

    def consume() -> None:
        consumer = make_consumer(f"bench-{uid}", cfg)
        md = consumer.list_topics(topics["features"], timeout=10)
        consumer.assign([TopicPartition(topics["features"], p, 0) for p in md.topics[topics["features"]].partitions])
        while not stop.is_set():
            msg = consumer.poll(0.1)
            if msg is not None and not msg.error():
                arrivals.append((int(time.time() * 1000), orjson.loads(msg.value())["window_end"]))
        consumer.close()

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    result = features(cfg, bounded=False, parallelism=1, wait=False, flink_extra=FAIL_FAST,
                      TOPIC_TELEMETRY_CLEAN=topics["telemetry.clean"], TOPIC_FEATURES=topics["features"],
                      TOPIC_FEATURES_DLQ=topics["features.dlq"], PG_TABLE_FEATURES=table,
                      STARTUP_MODE="earliest-offset", GROUP_ID=f"bench-{uid}", TXN_PREFIX=f"bench-{uid}", **windows)
    try:
        sender = KeyedSender(topics["telemetry.clean"])
        template = {"schema_version": 1, "vehicle_type": "machine", "fleet_id": "bench", "seq": 0,
                    "vib_x_g": 0.01, "vib_y_g": 0.02, "vib_z_g": 0.03, "power_kw": 5.0, "bearing_temp_c": 40.0}
        log(f"latency: {vehicles} vehicles at 1 Hz in real time for {seconds} s ...")
        t_start = time.time()
        for sec in range(seconds):
            now = int(time.time() * 1000)
            for v in range(vehicles):
                rec = {**template, "vehicle_id": f"b{v:03d}", "ts": now, "seq": sec}
                sender.send(rec["vehicle_id"], orjson.dumps(rec), now)
            sender.flush()
            time.sleep(max(0.0, t_start + sec + 1 - time.time()))
        time.sleep(15)   # the last windows: watermark delay + a checkpoint
    finally:
        stop.set()
        reader.join(10)
        result.get_job_client().cancel().result()
        with psycopg.connect(cfg.pg_dsn(), autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        admin(cfg).delete_topics(list(topics.values()))
    # the first windows close while the job is still starting: judge the steady state
    steady = [a - e for a, e in arrivals if e > int(t_start * 1000) + 30_000]
    if not steady:
        return {"error": "no feature records in the steady state", "records": len(arrivals)}
    steady.sort()
    return {
        "vehicles": vehicles, "seconds": seconds, "slide_s": 10, "records": len(steady),
        "latency_ms_p50": statistics.median(steady), "latency_ms_p95": steady[int(0.95 * (len(steady) - 1))],
        "latency_ms_max": steady[-1],
        "baseline_floor_ms": {"watermark_delay": int(cfg.get("flink.watermark_delay_ms")),
                              "plus_checkpoint_interval_up_to": int(cfg.get("flink.checkpoint_interval_ms"))},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vehicles", type=int, default=50)
    parser.add_argument("--duration-s", type=int, default=86_400, help="simulated seconds (86400: a fleet-day)")
    parser.add_argument("--parallelism", type=int, default=None, help="backfill parallelism (default: config)")
    parser.add_argument("--sim-dir", type=Path, default=None,
                        help="reuse simulator output (`aegis sim --to parquet:DIR`) instead of simulating")
    parser.add_argument("--latency-s", type=int, default=90, help="real-time seconds fed to the streaming job")
    parser.add_argument("--latency-vehicles", type=int, default=20)
    args = parser.parse_args()
    cfg = settings()
    backfill = backfill_bench(args.vehicles, args.duration_s, args.parallelism, cfg, args.sim_dir)
    latency = latency_bench(args.latency_s, args.latency_vehicles, cfg) if args.latency_s > 0 else None
    print(json.dumps({"benchmark": "features", "backfill": backfill, "streaming_latency": latency}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
