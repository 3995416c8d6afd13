"""DragonSync end to end: emulated kits -> collector -> Kafka -> jobs/dragonsync.py -> PostgreSQL,
records/s and the delay from the kit's observation time to the row being queryable, beside a
baseline measured in the same run (the same responses normalised in-process and COPYed).

    python benchmarks/dragonsync.py [--duration 60] [--kits 10] [--drones 120] [--aircraft 10]

The Flink job runs unbounded while the collector polls (POLL_INTERVAL 1 s) in its own process, so
the delay includes polling, Kafka, the job and the JDBC flush. Delay = ingested_at (the database's
now() at first insert) - time (the kit's observation time). Measured over a window of observation
times that starts `--warmup` s after the first row is queryable; the collector starts once the job
has stored a probe response, so the job's start-up is not counted as delay. CPU: utime+stime from
/proc of the collector and of the whole process tree (this process with the emulator, the JVM and
its Python workers) over the window's wall time; 1.0 = one core busy. Prints one JSON object.
Needs the local stack (`aegis stack up`); uses its own topics and PostgreSQL schema, removes them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing as mp
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

# run as a script, benchmarks/ would be first on sys.path and benchmarks/sim.py would shadow `sim`
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import psycopg  # noqa: E402

from aegis import ROOT  # noqa: E402
from aegis.config import settings  # noqa: E402
from connectors.dragonsync import columns, world  # noqa: E402
from connectors.dragonsync.settings import CollectorSettings  # noqa: E402

DATA_TABLES = ("drones", "signals", "system_health")
CLK_TCK = os.sysconf("SC_CLK_TCK")
AIM_ROWS_PER_S, AIM_DELAY_S = 1000, 10.0
PROBE_KIT = "bench-probe"


def collector_settings(status_interval_s: float) -> CollectorSettings:
    return CollectorSettings(
        kits_config=Path("unused"), poll_interval_s=1, status_poll_interval_s=status_interval_s,
        request_timeout_s=5, max_retries=1, retry_delay_s=0.2, initial_backoff_s=1, max_backoff_s=5,
        stale_threshold_s=30, stats_interval_s=3600, shutdown_grace_s=10)


# --- the collector, in its own process so its CPU time is its own ---------------------------------

def run_collector(kits, topics: dict[str, str], status_interval_s: float, stop, out) -> None:
    from connectors.dragonsync.kafka_sink import KafkaSink
    from connectors.dragonsync.poller import Poller

    sink = KafkaSink(settings(), list(topics.values()))
    poller = Poller(kits, collector_settings(status_interval_s), topics, sink.send)

    async def collect() -> None:
        done = asyncio.Event()
        loop = asyncio.get_running_loop()
        waiter = loop.run_in_executor(None, stop.wait)
        waiter.add_done_callback(lambda _: loop.call_soon_threadsafe(done.set))
        pump = asyncio.create_task(sink.pump(done))
        await poller.run(done)
        await pump

    t0 = time.monotonic()
    asyncio.run(collect())
    delivered = sink.flush()
    out.put({"envelopes": poller.sent, "delivered": delivered, "wall_s": time.monotonic() - t0,
             "cpu_s": sum(os.times()[:2])})


# --- CPU time of a process tree from /proc -------------------------------------------------------

def proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (ppid, utime+stime seconds) for every live process."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        out[int(entry)] = (int(rest[1]), (int(rest[11]) + int(rest[12])) / CLK_TCK)
    return out


def subtree_cpu(table: dict[int, tuple[int, float]], root: int) -> float:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            total += table[pid][1]
        todo.extend(children.get(pid, []))
    return total


def cpu_sample(collector_pid: int) -> dict[str, float]:
    table = proc_table()
    return {"tree": subtree_cpu(table, os.getpid()), "collector": subtree_cpu(table, collector_pid),
            "main": table.get(os.getpid(), (0, 0.0))[1]}


# --- measurements in the database ---------------------------------------------------------------

def send_probe(topic: str, profile, n_kits: int) -> None:
    """One /drones response from a kit no one polls, to see when the job is processing."""
    from connectors.dragonsync.envelope import ParsedBody, encode, make_envelope
    from connectors.kafka import KeyedSender

    now = time.time()
    env = make_envelope(kind="drones", kit_id=PROBE_KIT, poll_time_ms=int(now * 1000), kit_state="online",
                        parsed=ParsedBody(world.drones_body(profile, now, n_kits), None), http_status=200)
    sender = KeyedSender(topic)
    sender.send(PROBE_KIT, encode(env), int(now * 1000))
    sender.flush(30)


def wait_for_row(conn, schema: str, where: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if conn.execute(f"SELECT EXISTS (SELECT 1 FROM {schema}.drones WHERE {where})").fetchone()[0]:
            return
        time.sleep(0.5)
    raise RuntimeError(f"no row ({where}) in {schema}.drones after {timeout_s:.0f} s: is the job running?")


def job_lag(consumer, topics: list[str]) -> int:
    """Records on the raw topics past the job's committed offsets. The Kafka source commits on
    checkpoint completion, after the JDBC sinks flushed, so 0 means every row is in the database."""
    from confluent_kafka import TopicPartition

    parts = [TopicPartition(t, p) for t in topics
             for p in consumer.list_topics(t, timeout=10).topics[t].partitions]
    lag = 0
    for tp in consumer.committed(parts, timeout=10):
        high = consumer.get_watermark_offsets(tp, timeout=10)[1]
        lag += high - max(tp.offset, 0)
    return lag


def wait_until_drained(consumer, topics: list[str], timeout_s: float) -> int:
    """Until the job has committed everything on the raw topics; returns the lag left (0: drained)."""
    deadline = time.monotonic() + timeout_s
    while (lag := job_lag(consumer, topics)) and time.monotonic() < deadline:
        time.sleep(1.0)
    return lag


def window_stats(conn, schema: str, w0: float, w1: float) -> dict:
    union = " UNION ALL ".join(
        f"SELECT '{t}' AS tbl, time, ingested_at FROM {schema}.{t} "
        f"WHERE time >= to_timestamp({w0}) AND time < to_timestamp({w1})" for t in DATA_TABLES)
    delay = "extract(epoch FROM ingested_at - time)"
    count, p50, p95, p99, dmax = conn.execute(
        f"SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY {delay}), "
        f"percentile_cont(0.95) WITHIN GROUP (ORDER BY {delay}), "
        f"percentile_cont(0.99) WITHIN GROUP (ORDER BY {delay}), max({delay}) FROM ({union}) r").fetchone()
    by_table = dict(conn.execute(f"SELECT tbl, count(*) FROM ({union}) r GROUP BY tbl").fetchall())
    inserted = sum(conn.execute(
        f"SELECT count(*) FROM {schema}.{t} WHERE ingested_at >= to_timestamp({w0}) "
        f"AND ingested_at < to_timestamp({w1})").fetchone()[0] for t in DATA_TABLES)
    # the kits serve their current tick only: a tick no poll landed in is never served, not lost
    ticks = conn.execute(f"SELECT count(DISTINCT (kit_id, time)) FROM {schema}.drones "
                         f"WHERE time >= to_timestamp({w0}) AND time < to_timestamp({w1})").fetchone()[0]
    return {"rows": count, "by_table": {t: by_table.get(t, 0) for t in DATA_TABLES}, "kit_ticks": ticks,
            "inserted_in_window": inserted,
            "delay_s": {k: None if v is None else round(float(v), 2)
                        for k, v in (("p50", p50), ("p95", p95), ("p99", p99), ("max", dmax))}}


# --- the baseline: the window's responses, normalised in-process and COPYed -----------------------

def baseline(conn, schema: str, profiles: list, n_kits: int, w0: int, w1: int) -> dict:
    """What the kits served in the window (world.py is a pure function of kit and time), through the
    collector's envelope and the job's normalisation, deduplicated and COPYed: no HTTP, Kafka, Flink."""
    import orjson

    from connectors.dragonsync.envelope import encode, make_envelope, parse_body
    from connectors.dragonsync.normalize import Row, dedupe_key, normalize_envelope

    served = []
    for t in range(w0, w1):
        for p in profiles:
            poll_ms = int((t + 0.5) * 1000)
            served.append((p.kit_id, "drones", poll_ms, orjson.dumps(world.drones_body(p, t + 0.5, n_kits))))
            served.append((p.kit_id, "signals", poll_ms, orjson.dumps(world.signals_body(p, t + 0.5))))
    t0 = time.monotonic()
    rows: dict[str, dict[tuple, Row]] = {"drones": {}, "signals": {}}
    for kit_id, kind, poll_ms, data in served:
        env = encode(make_envelope(kind=kind, kit_id=kit_id, poll_time_ms=poll_ms, kit_state="online",
                                   parsed=parse_body(data), http_status=200))
        for r in normalize_envelope(env):
            if isinstance(r, Row) and r.table in rows:
                rows[r.table].setdefault(dedupe_key(r), r)
    normalise_s = time.monotonic() - t0

    def pg(value, kind: str):
        return datetime.fromtimestamp(value / 1000, UTC) if kind == "ts" and value is not None else value

    t0 = time.monotonic()
    with conn.cursor() as cur:
        for table, keyed in rows.items():
            cur.execute(f"CREATE TABLE {schema}.copy_{table} (LIKE {schema}.{table} INCLUDING ALL)")
            cols = columns.TABLES[table]
            with cur.copy(f"COPY {schema}.copy_{table} ({', '.join(n for n, _ in cols)}) FROM STDIN") as copy:
                for r in keyed.values():
                    copy.write_row(tuple(pg(r.values[n], k) for n, k in cols))
    conn.commit()
    copy_s = time.monotonic() - t0
    n = sum(len(v) for v in rows.values())
    return {"rows": n, "by_table": {t: len(v) for t, v in rows.items()},
            "normalise_s": round(normalise_s, 3), "copy_s": round(copy_s, 3),
            "rows_per_s": round(n / max(normalise_s + copy_s, 1e-6)),
            "normalise_rows_per_s": round(n / max(normalise_s, 1e-6))}


def delete_topics(cfg, topics: list[str]) -> None:
    from connectors.kafka import admin

    client = admin(cfg)   # held: the futures fail if the client is collected before they resolve
    for fut in client.delete_topics(topics, operation_timeout=30).values():
        try:
            fut.result(30)
        except Exception as e:   # cleanup only: a leftover topic costs nothing but disk
            print(f"could not delete a topic: {e}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="measurement window, seconds")
    parser.add_argument("--warmup", type=float, default=10, help="after the first row is queryable")
    parser.add_argument("--kits", type=int, default=10)
    parser.add_argument("--drones", type=int, default=120, help="Remote ID drones per kit")
    parser.add_argument("--aircraft", type=int, default=10, help="ADS-B aircraft per kit")
    parser.add_argument("--signals", type=int, default=2, help="FPV signals per kit")
    parser.add_argument("--status-interval", type=float, default=5, help="STATUS_POLL_INTERVAL, s")
    parser.add_argument("--checkpoint", default="1s", help="Flink checkpoint interval")
    parser.add_argument("--drain-timeout", type=float, default=180,
                        help="how long the job may take to catch up after collection stops, s")
    args = parser.parse_args()

    from connectors.dragonsync.emulator import EmulatorConfig, EmulatorThread
    from connectors.kafka import ensure_topics
    from jobs.dragonsync import dragonsync

    cfg = settings()
    uid = uuid.uuid4().hex[:8]
    schema = f"bench_dragonsync_{uid}"
    topics = {k: f"bench.{uid}.dragonsync.{k}" for k in ("drones", "signals", "status", "dlq", "alerts")}
    ensure_topics([(t, int(cfg.get("kafka.default_partitions"))) for t in topics.values()], cfg)
    conn = psycopg.connect(cfg.pg_dsn())
    conn.execute(f"CREATE SCHEMA {schema}")
    conn.execute(f"SET search_path TO {schema}")
    conn.execute((ROOT / "connectors" / "dragonsync" / "schema.sql").read_text().replace("/*PARTITION*/", ""))
    conn.execute("SET search_path TO public")
    conn.commit()
    conn.autocommit = True

    job = collector = None
    started = time.monotonic()
    try:
        print("starting the Flink job ...", file=sys.stderr)
        overrides = {f"TOPIC_DRAGONSYNC_{k.upper()}": v for k, v in topics.items() if k != "alerts"}
        overrides.update({f"PG_TABLE_{t.upper()}": f"{schema}.{t}" for t in (*DATA_TABLES, "kits")})
        result = dragonsync(cfg, bounded=False, wait=False, TOPIC_ALERTS=topics["alerts"],
                            TXN_PREFIX=f"bench-{uid}", GROUP_ID=f"bench-{uid}",
                            flink_extra={"execution.checkpointing.interval": args.checkpoint,
                                         "restart-strategy.type": "none"}, **overrides)
        job = result.get_job_client()

        emu_cfg = EmulatorConfig(n_kits=args.kits, n_drones=args.drones, n_aircraft=args.aircraft,
                                 n_signals=args.signals, rate_limit_per_min=0, ledger=False, serial_delay_s=0)
        with EmulatorThread(emu_cfg) as emu:
            # polling only once the job processes: a start-up backlog would be measured as delay
            send_probe(topics["drones"], emu.emulator.kits[0].profile, args.kits)
            wait_for_row(conn, schema, f"kit_id = '{PROBE_KIT}'", timeout_s=240)
            job_ready_s = time.monotonic() - started
            print(f"collecting from {args.kits} emulated kits ...", file=sys.stderr)
            ctx = mp.get_context("spawn")
            stop, out = ctx.Event(), ctx.Queue()
            raw = {k: topics[k] for k in ("drones", "signals", "status")}
            collector = ctx.Process(target=run_collector, name="dragonsync-collector",
                                    args=(emu.kits(), raw, args.status_interval, stop, out))
            collector.start()
            wait_for_row(conn, schema, f"kit_id <> '{PROBE_KIT}'", timeout_s=120)
            first_row_s = time.monotonic() - started
            # on 5 s boundaries: signals are observed every 5 s, so the baseline covers the same ones
            w0 = 5 * math.ceil((time.time() + args.warmup) / 5)
            w1 = w0 + 5 * math.ceil(args.duration / 5)
            time.sleep(max(0.0, w0 - time.time()))
            cpu0, load0, t_cpu0 = cpu_sample(collector.pid), os.getloadavg(), time.monotonic()
            print(f"measuring for {w1 - w0} s ...", file=sys.stderr)
            time.sleep(max(0.0, w1 - time.time()))
            cpu1, load1, t_cpu1 = cpu_sample(collector.pid), os.getloadavg(), time.monotonic()
            # the window's last tick is polled up to a poll interval after it ends
            time.sleep(1.5)
            stop.set()
            collected = out.get(timeout=60)
            collector.join(timeout=30)
            profiles = [k.profile for k in emu.emulator.kits]
        print("waiting for the job to catch up ...", file=sys.stderr)
        from connectors.kafka import make_consumer

        watcher = make_consumer(f"bench-{uid}", cfg)
        lag_left = wait_until_drained(watcher, list(raw.values()), timeout_s=args.drain_timeout)
        drain_s = time.monotonic() - t_cpu1
        watcher.close()
        measured = window_stats(conn, schema, w0, w1)
        job.cancel().result()
        job = None
        print("baseline: normalise in-process + COPY ...", file=sys.stderr)
        base = baseline(conn, schema, profiles, args.kits, w0, w1)
        not_online = conn.execute(f"SELECT count(*) FROM {schema}.kits WHERE status <> 'online'").fetchone()[0]
    finally:
        if job is not None:
            job.cancel().result()
        if collector is not None and collector.is_alive():
            collector.terminate()
            collector.join(10)
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.close()
        delete_topics(cfg, list(topics.values()))

    wall = t_cpu1 - t_cpu0
    window_s = w1 - w0
    rate = measured["rows"] / window_s
    compared = sum(measured["by_table"][t] for t in ("drones", "signals"))

    def share(key: str) -> float:
        return round((cpu1[key] - cpu0[key]) / wall, 3)

    print(json.dumps({
        "benchmark": "dragonsync",
        "kits": args.kits, "drones_per_kit": args.drones, "aircraft_per_kit": args.aircraft,
        "signals_per_kit": args.signals, "poll_interval_s": 1, "status_poll_interval_s": args.status_interval,
        "checkpoint_interval": args.checkpoint, "window_s": window_s,
        "job_processing_after_s": round(job_ready_s, 1), "first_kit_row_after_s": round(first_row_s, 1),
        "pipeline": {
            "rows_stored": measured["rows"], "by_table": measured["by_table"],
            "rows_per_s": round(rate),
            "inserted_per_s_during_window": round(measured["inserted_in_window"] / window_s),
            "delay_observation_to_queryable_s": measured["delay_s"],
            "drones_signals_stored_vs_served": round(compared / max(base["rows"], 1), 4),
            "kit_ticks_polled": round(measured["kit_ticks"] / (args.kits * window_s), 4),
            # records the job had not committed when the drain timed out (0: every row counted)
            "raw_records_not_processed": lag_left, "caught_up_after_collection_s": round(drain_s, 1),
            "kits_not_online": not_online,
            "collector": {"envelopes": collected["envelopes"], "delivered": collected["delivered"]},
        },
        "baseline_inprocess_normalise_copy": base,
        "ratio_pipeline_to_baseline": round(rate / max(base["rows_per_s"], 1), 4),
        "cpu_share_of_one_core": {
            "collector": share("collector"), "benchmark_main_process_incl_emulator": share("main"),
            "whole_benchmark_tree": share("tree"),
            "flink_jvm_and_python_workers": round(((cpu1["tree"] - cpu1["collector"] - cpu1["main"])
                                                   - (cpu0["tree"] - cpu0["collector"] - cpu0["main"])) / wall, 3),
            "collector_lifetime": round(collected["cpu_s"] / max(collected["wall_s"], 1e-6), 3),
        },
        "cpu_count": os.cpu_count(),
        "load_average_window_start": [round(x, 2) for x in load0],
        "load_average_window_end": [round(x, 2) for x in load1],
        "aim": {"rows_per_s": AIM_ROWS_PER_S, "p99_delay_s": AIM_DELAY_S,
                "met": rate >= AIM_ROWS_PER_S and (measured["delay_s"]["p99"] or math.inf) < AIM_DELAY_S},
        "wall_s": round(time.monotonic() - started, 1),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
