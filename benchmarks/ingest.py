"""Ingest throughput: Kafka -> parse/validate/dedupe -> clean topic + DLQ + PostgreSQL, beside a
baseline measured in the same run (a SQL pass-through from the same raw topic to a blackhole).

    python benchmarks/ingest.py [--records 200000] [--vehicles 50]

Both jobs read the same pre-loaded topic in bounded mode; events/s = records / job wall time, with
the job's fixed start-up cost (measured on a tiny topic) subtracted. Prints one JSON object.
Needs the local stack (`aegis stack up`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

# run as a script, benchmarks/ would be first on sys.path and benchmarks/sim.py would shadow `sim`
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import psycopg  # noqa: E402

from aegis.config import settings  # noqa: E402
from connectors.kafka import KeyedSender, ensure_topics  # noqa: E402
from jobs.ingest import ingest  # noqa: E402
from jobs.runtime import create_tables, sql_vars, stream_env  # noqa: E402

FAIL_FAST = {"restart-strategy.type": "none"}


def load_topic(topic: str, records: int, vehicles: int) -> int:
    """Pre-load simulator telemetry (accelerated, no imperfections) so the jobs measure only themselves."""
    from sim import SimConfig, generate

    sender = KeyedSender(topic)
    seconds = max(1, records // vehicles)
    gen = generate(SimConfig(vehicles=vehicles, duration_s=seconds, seed=11, scenario="default", clean=True))
    for key, ts, payload in gen:
        sender.send(key, payload, ts)
    sender.flush(300)
    return sender.sent


def passthrough(cfg, variables: dict[str, str]) -> float:
    t_env = stream_env("bench-passthrough", cfg, extra=FAIL_FAST)
    create_tables(t_env, ["telemetry_raw"], variables)
    t_env.execute_sql("CREATE TEMPORARY TABLE sink (payload BYTES, kafka_offset BIGINT) "
                      "WITH ('connector' = 'blackhole')")
    t0 = time.monotonic()
    t_env.execute_sql("INSERT INTO sink SELECT payload, kafka_offset FROM telemetry_raw").wait()
    return time.monotonic() - t0


def parse_only(cfg, variables: dict[str, str]) -> float:
    """The ingest job's Python stage alone (raw -> parse UDTF -> blackhole): what bounds ingest."""
    from udfs.ingest_udf import RESULT_COLUMNS, parse_telemetry
    from udfs.telemetry_validate import Rules

    t_env = stream_env("bench-parse-only", cfg, extra=FAIL_FAST)
    create_tables(t_env, ["telemetry_raw"], variables)
    t_env.create_temporary_function("parse_telemetry", parse_telemetry(Rules.from_config(cfg.get("validation"))))
    cols = ", ".join(name for name, _ in RESULT_COLUMNS)
    t_env.execute_sql("CREATE TEMPORARY TABLE sink (vehicle_id STRING, seq BIGINT, reason STRING) "
                      "WITH ('connector' = 'blackhole')")
    t0 = time.monotonic()
    t_env.execute_sql(f"INSERT INTO sink SELECT vehicle_id, seq, reason FROM telemetry_raw AS t, "
                      f"LATERAL TABLE(parse_telemetry(t.payload)) AS r({cols})").wait()
    return time.monotonic() - t0


def timed_ingest(cfg, overrides: dict[str, str]) -> float:
    t0 = time.monotonic()
    ingest(cfg, bounded=True, flink_extra=FAIL_FAST, **overrides)
    return time.monotonic() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--vehicles", type=int, default=50)
    args = parser.parse_args()
    cfg = settings()
    uid = uuid.uuid4().hex[:8]
    topics = {n: f"bench.{uid}.{n}" for n in ("telemetry", "telemetry.clean", "telemetry.dlq", "tiny")}
    ensure_topics([(t, 4) for t in topics.values()], cfg)
    table = f"telemetry_bench_{uid}"
    with psycopg.connect(cfg.pg_dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (LIKE telemetry INCLUDING ALL)")

    print(f"loading {args.records:,} records ...", file=sys.stderr)
    n = load_topic(topics["telemetry"], args.records, args.vehicles)
    tiny = load_topic(topics["tiny"], args.vehicles * 2, args.vehicles)

    def overrides(raw: str) -> dict[str, str]:
        return dict(TOPIC_TELEMETRY=raw, TOPIC_TELEMETRY_CLEAN=topics["telemetry.clean"],
                    TOPIC_TELEMETRY_DLQ=topics["telemetry.dlq"], PG_TABLE_TELEMETRY=table,
                    TXN_PREFIX=f"bench-{uid}-{uuid.uuid4().hex[:6]}", STARTUP_MODE="earliest-offset",
                    GROUP_ID=f"bench-{uid}")

    base_vars = sql_vars(cfg, TOPIC_TELEMETRY=topics["telemetry"], BOUNDED_MODE="latest-offset",
                         STARTUP_MODE="earliest-offset", GROUP_ID=f"bench-{uid}")
    print("baseline: SQL pass-through ...", file=sys.stderr)
    base_s = passthrough(cfg, base_vars)
    base_startup_s = passthrough(cfg, {**base_vars, "TOPIC_TELEMETRY": topics["tiny"]})
    print("stage: parse UDTF only ...", file=sys.stderr)
    parse_s = parse_only(cfg, base_vars)
    parse_startup_s = parse_only(cfg, {**base_vars, "TOPIC_TELEMETRY": topics["tiny"]})
    print("ingest: startup cost on a tiny topic ...", file=sys.stderr)
    startup_s = timed_ingest(cfg, overrides(topics["tiny"]))
    with psycopg.connect(cfg.pg_dsn(), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {table}")
    print("ingest: full topic ...", file=sys.stderr)
    ingest_s = timed_ingest(cfg, overrides(topics["telemetry"]))
    with psycopg.connect(cfg.pg_dsn(), autocommit=True) as conn:
        stored = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        conn.execute(f"DROP TABLE {table}")

    ingest_rate = n / max(ingest_s - startup_s, 1e-3)
    base_rate = n / max(base_s - base_startup_s, 1e-3)
    print(json.dumps({
        "benchmark": "ingest",
        "records": n,
        "stored": stored,
        "tiny_records": tiny,
        "ingest": {"wall_s": round(ingest_s, 1), "startup_s": round(startup_s, 1),
                   "events_per_s": round(ingest_rate)},
        "baseline_sql_passthrough": {"wall_s": round(base_s, 1), "startup_s": round(base_startup_s, 1),
                                     "events_per_s": round(base_rate)},
        "stage_parse_udtf_only": {"wall_s": round(parse_s, 1), "startup_s": round(parse_startup_s, 1),
                                  "events_per_s": round(n / max(parse_s - parse_startup_s, 1e-3))},
        "ratio_ingest_to_baseline": round(ingest_rate / base_rate, 3),
        "parallelism": int(cfg.get("flink.parallelism")),
        "python_execution_mode": cfg.get("flink.python_execution_mode"),
        "aim_events_per_s": 20_000,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }))
    return 0 if stored == n else 1


if __name__ == "__main__":
    sys.exit(main())
