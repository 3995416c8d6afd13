"""Simulator throughput: records/s generated in accelerated mode (to memory, JSONL, Parquet and
Kafka) and the CPU share of a real-time fleet, beside baselines measured in the same run.

    python benchmarks/sim.py [--vehicles 1000] [--duration 120] [--realtime-vehicles 50]
                             [--realtime-seconds 20] [--scenario default] [--quick]

Baselines: bare orjson encoding of the same records as precomputed dicts (what "encode a record"
costs without the simulation), and KeyedSender.send of the same precomputed bytes (the Kafka
client's own ceiling on this machine). Kafka is measured when a broker answers at the configured
bootstrap (into throw-away topics, deleted afterwards); otherwise reported as skipped with the
reason. Prints one JSON object on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

# this file is called sim.py: keep its own folder off the import path, or `import sim` finds it
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import orjson  # noqa: E402

from aegis.config import settings  # noqa: E402
from sim import JsonlSink, KafkaSink, MemorySink, ParquetSink, SimConfig, Simulation  # noqa: E402

AIM_KAFKA_RPS = 100_000
AIM_REALTIME_CPU_SHARE = 0.05


class NullSink(MemorySink):
    """Counts and drops: the cost of generating and encoding alone."""

    description = "null"

    def send(self, key: bytes, ts: int, payload: bytes, kind: str) -> None:
        pass

    def send_valid(self, keys: list[bytes], ts: list[int], payloads: list[bytes]) -> None:
        pass


def log(msg: str) -> None:
    print(f"bench sim: {msg}", file=sys.stderr, flush=True)


def timed_run(config: SimConfig, sink) -> dict:
    sim = Simulation(config)
    t0, c0 = time.perf_counter(), time.process_time()
    report = sim.run(sink)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    # records per CPU second (this process, all its threads) reads through a busy, shared machine
    return {"records": report.sent, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
            "records_per_s": round(report.sent / wall), "records_per_cpu_s": round(report.sent / max(cpu, 1e-9))}


def baseline_encoding(config: SimConfig) -> tuple[dict, list[tuple[bytes, int, bytes]]]:
    """orjson.dumps of the run's records as ready-made dicts: the floor for "encode one record"."""
    sink = MemorySink()
    Simulation(config).run(sink)
    records = [(k, ts, p) for k, ts, p, _ in sink.records]
    dicts = [orjson.loads(p) for _, _, p, kind in sink.records if kind in ("valid", "duplicate_seq")]
    dumps = orjson.dumps
    t0 = time.perf_counter()
    for d in dicts:
        dumps(d)
    wall = time.perf_counter() - t0
    return {"records": len(dicts), "wall_s": round(wall, 3), "records_per_s": round(len(dicts) / wall)}, records


def kafka_reachable(cfg) -> str | None:
    try:
        from connectors.kafka import admin

        admin(cfg).list_topics(timeout=5)
        return None
    except Exception as e:  # noqa: BLE001 - the reason is reported, not raised
        return f"no broker at {cfg.bootstrap}: {str(e).splitlines()[0][:200]}"


def kafka_runs(cfg, config: SimConfig, precomputed: list[tuple[bytes, int, bytes]]) -> tuple[dict, dict]:
    from connectors.kafka import KeyedSender, ensure_topics

    run_id = uuid.uuid4().hex[:8]
    topics = [f"aegis.bench.sim.{run_id}.{name}" for name in ("telemetry", "groundtruth", "baseline")]
    partitions = int(cfg.get("kafka.topics", {}).get("telemetry", cfg.get("kafka.default_partitions", 4)))
    ensure_topics([(t, partitions) for t in topics], cfg)
    try:
        log(f"kafka baseline: KeyedSender.send of {len(precomputed)} precomputed records")
        sender = KeyedSender(topics[2], cfg=cfg)
        t0 = time.perf_counter()
        for key, ts, payload in precomputed:
            sender.send(key, payload, ts)
        sender.flush(300)
        wall = time.perf_counter() - t0
        baseline = {"records": len(precomputed), "wall_s": round(wall, 3),
                    "records_per_s": round(len(precomputed) / wall)}
        log(f"kafka: {config.vehicles} vehicles x {config.duration_s:.0f} s")
        run = timed_run(config, KafkaSink(topics[0], topics[1], cfg=cfg, create_topics=False))
        run["topic_partitions"] = partitions
        return run, baseline
    finally:
        delete_topics(cfg, topics)


def delete_topics(cfg, topics: list[str]) -> None:
    """Best-effort clean-up of the benchmark's throw-away topics."""
    from connectors.kafka import admin

    client = admin(cfg)   # keep the client alive until its futures are done
    for name, fut in client.delete_topics(topics, operation_timeout=30).items():
        try:
            fut.result()
        except Exception as e:  # noqa: BLE001 - reported, not raised
            log(f"could not delete topic {name}: {e}")


def realtime_share(cfg, vehicles: int, seconds: int, scenario: str, use_kafka: bool) -> dict:
    """Run a fleet paced on the wall clock and measure the process's CPU time (all threads)."""
    config = SimConfig(vehicles=vehicles, duration_s=seconds, seed=5, scenario=scenario, speed=1.0)
    if use_kafka:
        topic = f"aegis.bench.sim.rt.{uuid.uuid4().hex[:8]}"
        sink = KafkaSink(topic, topic + ".groundtruth", cfg=cfg)
        target = "kafka"
    else:
        tmp = tempfile.mkdtemp(prefix="aegis-bench-sim-")
        sink = JsonlSink(Path(tmp) / "realtime.jsonl")
        target = "jsonl"
    run = timed_run(config, sink)
    if use_kafka:
        delete_topics(cfg, [topic, topic + ".groundtruth"])
    run.update(vehicles=vehicles, sink=target, cpu_share_of_one_core=round(run["cpu_s"] / run["wall_s"], 4))
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vehicles", type=int, default=1000, help="fleet size of the accelerated runs")
    parser.add_argument("--duration", type=int, default=120, help="simulated seconds of the accelerated runs")
    parser.add_argument("--realtime-vehicles", type=int, default=50)
    parser.add_argument("--realtime-seconds", type=int, default=20)
    parser.add_argument("--scenario", default="default")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test of the benchmark itself")
    args = parser.parse_args()
    if args.quick:
        args.vehicles, args.duration, args.realtime_seconds = 100, 30, 3

    cfg = settings()
    config = SimConfig(vehicles=args.vehicles, duration_s=args.duration, seed=7, scenario=args.scenario)
    result: dict = {
        "benchmark": "sim",
        "machine": {"cpus": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2)},
        "accelerated_config": {"vehicles": args.vehicles, "duration_s": args.duration, "scenario": args.scenario,
                               "records": args.vehicles * args.duration},
    }
    log("baseline: orjson.dumps of precomputed dicts")
    enc_baseline, precomputed = baseline_encoding(config)
    result["baseline"] = {"orjson_dumps_precomputed_dicts": enc_baseline}

    accelerated: dict = {}
    log("accelerated, generate only (null sink)")
    accelerated["generate_only"] = timed_run(config, NullSink())
    with tempfile.TemporaryDirectory(prefix="aegis-bench-sim-") as tmp:
        log("accelerated to JSONL")
        accelerated["jsonl"] = timed_run(config, JsonlSink(Path(tmp) / "t.jsonl"))
        log("accelerated to Parquet")
        accelerated["parquet"] = timed_run(config, ParquetSink(Path(tmp) / "parquet", cfg=cfg))
    skipped = kafka_reachable(cfg)
    if skipped:
        accelerated["kafka"] = {"skipped": skipped}
        result["baseline"]["kafka_keyedsender_precomputed"] = {"skipped": skipped}
    else:
        accelerated["kafka"], result["baseline"]["kafka_keyedsender_precomputed"] = kafka_runs(cfg, config,
                                                                                                precomputed)
    result["accelerated"] = accelerated

    log(f"real time: {args.realtime_vehicles} vehicles for {args.realtime_seconds} s")
    result["realtime"] = realtime_share(cfg, args.realtime_vehicles, args.realtime_seconds, args.scenario,
                                        use_kafka=skipped is None)
    kafka_rps = accelerated["kafka"].get("records_per_s")
    result["aims"] = {
        "kafka_records_per_s": {"aim": AIM_KAFKA_RPS, "measured": kafka_rps,
                                "met": None if kafka_rps is None else kafka_rps >= AIM_KAFKA_RPS},
        "realtime_cpu_share": {"aim": AIM_REALTIME_CPU_SHARE,
                               "measured": result["realtime"]["cpu_share_of_one_core"],
                               "met": result["realtime"]["cpu_share_of_one_core"] < AIM_REALTIME_CPU_SHARE},
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
