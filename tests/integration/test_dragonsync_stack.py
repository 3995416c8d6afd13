"""DragonSync end to end over the live stack: 10 emulated kits, two failing in different ways ->
`aegis dragonsync collect`'s poller -> Kafka -> jobs/dragonsync.py -> PostgreSQL, DLQ and alerts.

Uses the session's shared stack (tests/integration/conftest.py); about 1.5 minutes. It uses its own
topics and its own PostgreSQL schema
made from connectors/dragonsync/schema.sql, so it sees no other data and leaves the real tables alone.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path

import orjson
import pytest

from aegis import ROOT
from connectors.dragonsync.emulator import EmulatorConfig, EmulatorThread, parse_faults
from connectors.dragonsync.kit_state import KitState, Outcome, backoff_delay
from connectors.dragonsync.settings import CollectorSettings

pytestmark = pytest.mark.integration

HANGING, GARBLING = "kit-03", "kit-07"     # the two failing kits
FAULTS = ["3=timeout", "7=malformed:0.4"]
SETTINGS = CollectorSettings(
    kits_config=Path("unused"), poll_interval_s=1, status_poll_interval_s=2, request_timeout_s=0.5,
    max_retries=1, retry_delay_s=0.1, initial_backoff_s=0.5, max_backoff_s=4, stale_threshold_s=10,
    shutdown_grace_s=5)
COLLECT_S = 15



@pytest.fixture(scope="module")
def run(stack):
    cfg = stack
    import psycopg

    from connectors.dragonsync.kafka_sink import KafkaSink
    from connectors.dragonsync.poller import Poller
    from connectors.kafka import read_topic
    from jobs.dragonsync import dragonsync

    uid = uuid.uuid4().hex[:8]
    schema = f"dragonsync_{uid}"
    topics = {k: f"test.{uid}.dragonsync.{k}" for k in ("drones", "signals", "status", "dlq")}
    topics["alerts"] = f"test.{uid}.alerts"
    with psycopg.connect(cfg.pg_dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"SET search_path TO {schema}")
        conn.execute((ROOT / "connectors" / "dragonsync" / "schema.sql").read_text().replace("/*PARTITION*/", ""))

    sink = KafkaSink(cfg, list(topics.values()))
    with EmulatorThread(EmulatorConfig(n_kits=10, faults=parse_faults(FAULTS), serial_delay_s=1, hang_s=3)) as emu:
        poller = Poller(emu.kits(), SETTINGS, {k: topics[k] for k in ("drones", "signals", "status")}, sink.send,
                        keep_events=100_000)

        async def collect() -> None:
            stop = asyncio.Event()
            asyncio.get_running_loop().call_later(COLLECT_S, stop.set)
            pump = asyncio.create_task(sink.pump(stop))
            await poller.run(stop)
            await pump

        asyncio.run(collect())
        served = {k.id: emu.served_keys(k.id) for k in emu.kits()}
        counts = {k.id: emu.status_counts(k.id) for k in emu.kits()}
    sink.flush()

    overrides = {f"TOPIC_DRAGONSYNC_{k.upper()}": v for k, v in topics.items() if k != "alerts"}
    overrides.update({f"PG_TABLE_{t.upper()}": f"{schema}.{t}" for t in ("drones", "signals", "system_health", "kits")})
    dragonsync(cfg, bounded=True, flink_extra={"restart-strategy.type": "none"}, TOPIC_ALERTS=topics["alerts"],
               TXN_PREFIX=f"test-{uid}", GROUP_ID=f"test-{uid}", **overrides)

    with psycopg.connect(cfg.pg_dsn()) as conn:
        def rows(sql: str) -> list[tuple]:
            return conn.execute(sql.format(s=schema)).fetchall()

        stored = {
            "drones": rows("SELECT (extract(epoch FROM time) * 1000)::bigint, kit_id, drone_id FROM {s}.drones"),
            "signals": rows("SELECT (extract(epoch FROM time) * 1000)::bigint, kit_id, freq_mhz FROM {s}.signals"),
            "system_health": rows("SELECT (extract(epoch FROM time) * 1000)::bigint, kit_id FROM {s}.system_health"),
        }
        kits = {r[0]: r[1:] for r in rows("SELECT kit_id, status, last_error FROM {s}.kits")}
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.commit()
    dlq = [orjson.loads(v) for _, v in read_topic(topics["dlq"], cfg, idle_s=3)]
    alerts = [orjson.loads(v) for _, v in read_topic(topics["alerts"], cfg, idle_s=3)]
    return {"poller": poller, "served": served, "counts": counts, "stored": stored, "kits": kits,
            "dlq": dlq, "alerts": alerts}


def test_every_record_the_healthy_kits_served_is_stored_exactly_once(run):
    for table, keys in run["stored"].items():
        copies = Counter(tuple(k) for k in keys)
        assert set(copies.values()) == {1}, table
        for kit, served in run["served"].items():
            if kit != HANGING:
                assert {k for k in copies if k[1] == kit} == served[table], (kit, table)
    assert sum(len(s["drones"]) for s in run["served"].values()) > 500


def test_failing_kits_show_their_states_and_back_off_on_schedule(run):
    poller = run["poller"]
    hanging = [e for e in poller.events if e.kit_id == HANGING]
    assert hanging and {e.outcome for e in hanging} == {Outcome.UNREACHABLE}
    for e in hanging:
        assert e.not_before - e.at == pytest.approx(backoff_delay(e.failures, 0.5, 4))
    for before, after in zip(hanging, hanging[1:], strict=False):
        assert after.at >= before.not_before
    assert run["kits"][HANGING][0] == "offline"
    assert any(e.outcome is Outcome.MALFORMED and e.state is KitState.ERROR
               for e in poller.events if e.kit_id == GARBLING)
    healthy = {k: v for k, v in run["kits"].items() if k not in (HANGING, GARBLING)}
    assert len(healthy) == 8 and {v[0] for v in healthy.values()} == {"online"}


def test_malformed_responses_are_in_the_dlq(run):
    garbled = sum(n for (path, code), n in run["counts"][GARBLING].items() if code == -200)
    assert garbled and Counter((d["reason"], d["vehicle_id"]) for d in run["dlq"]) == {
        ("invalid_json", GARBLING): garbled}


def test_detections_reach_the_alerts_topic(run):
    types = Counter(a["alert_type"] for a in run["alerts"])
    assert types["dragonsync_multi_kit"] > 0      # the emulator's shared drones
    assert all(a["source"] == "dragonsync" for a in run["alerts"])
