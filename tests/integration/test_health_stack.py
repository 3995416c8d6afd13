"""The health job over the real broker and database: every clean record scored once into
aegis.health and `health`, the same alerts on aegis.alerts and in `alerts`, valid battery and
fleet records, and a replay that changes nothing in PostgreSQL."""

from __future__ import annotations

import json
import re
import time

import orjson
import psycopg
import pytest

from aegis.contracts import Alert, BatteryStatus, FleetAggregate, Health
from aegis.sqlfiles import read
from connectors.kafka import KeyedSender, read_topic
from tests.integration.conftest import FAIL_FAST, make_topics, pg_rows
from udfs.health_alerts import reference_alerts
from udfs.health_config import HealthConfig

pytestmark = pytest.mark.integration



def simulated_records() -> list[dict]:
    from sim import MemorySink, SimConfig, run

    # recent event times: the broker deletes records whose timestamp is past the topic's retention
    start_ms = (int(time.time()) - 3600) // 60 * 60_000
    sink = MemorySink()
    run(SimConfig(vehicles=12, duration_s=300, seed=3, scenario="demo", start_ms=start_ms, clean=True), sink)
    return [json.loads(payload) for _, _, payload, kind in sink.records if kind == "valid"]


def create_tables(cfg, uid: str) -> dict[str, str]:
    """sql/health/schema.sql under private table names (plain tables: no partitions to manage)."""
    names = {"health": f"health_{uid}", "alerts": f"alerts_{uid}"}
    ddl = read("health/schema.sql").replace("/*PARTITION*/", "")
    for base, table in names.items():
        ddl = re.sub(rf"\b{base}\b(?= \(|_)", table, ddl)
    with psycopg.connect(cfg.pg_dsn(), autocommit=True) as conn:
        conn.execute(ddl)
    return names


def test_health_job_writes_every_output_and_replays_idempotently(names) -> None:
    from jobs.health import health

    cfg = names.cfg
    topics = make_topics(names, "telemetry.clean", "health", "alerts", "battery", "aggregated")
    tables = create_tables(cfg, names.uid)
    records = simulated_records()
    sender = KeyedSender(topics["telemetry.clean"], cfg=cfg)
    for r in sorted(records, key=lambda r: r["ts"]):
        sender.send(r["vehicle_id"], orjson.dumps(r), r["ts"])
    sender.flush()

    overrides = dict(TOPIC_TELEMETRY_CLEAN=topics["telemetry.clean"], TOPIC_HEALTH=topics["health"],
                     TOPIC_ALERTS=topics["alerts"], TOPIC_BATTERY=topics["battery"],
                     TOPIC_AGGREGATED=topics["aggregated"], PG_TABLE_HEALTH=tables["health"],
                     PG_TABLE_ALERTS=tables["alerts"], TXN_PREFIX=f"test-{names.uid}")
    health(cfg, bounded=True, flink_extra=FAIL_FAST, **overrides)

    scored = [Health.model_validate_json(v) for _, v in read_topic(topics["health"], cfg, expect=len(records))]
    assert len({(h.vehicle_id, h.ts) for h in scored}) == len(scored) == len(records)
    assert pg_rows(cfg, f"SELECT count(*), count(DISTINCT (vehicle_id, ts)) FROM {tables['health']}")[0] == (
        len(records), len(records))

    alerts = [Alert.model_validate_json(v) for _, v in read_topic(topics["alerts"], cfg, idle_s=3)]
    expected = reference_alerts(records, HealthConfig.from_settings(cfg))
    assert expected
    got = {(a.vehicle_id, a.alert_type, a.ts, a.severity, a.alert_id) for a in alerts}
    want = {(a["vehicle_id"], a["alert_type"], a["ts"], a["severity"], a["alert_id"]) for a in expected}
    assert got == want, f"only in Flink: {sorted(got - want)}; only in the reference: {sorted(want - got)}"
    stored = {(r[0], int(r[1].timestamp() * 1000)) for r in
              pg_rows(cfg, f"SELECT alert_id, ts FROM {tables['alerts']}")}
    assert stored == {(a.alert_id, a.ts) for a in alerts}

    battery = [BatteryStatus.model_validate_json(v) for _, v in read_topic(topics["battery"], cfg, idle_s=3)]
    assert {b.vehicle_id for b in battery} == {r["vehicle_id"] for r in records if r.get("battery_percent") is not None}
    fleet = [FleetAggregate.model_validate_json(v) for _, v in read_topic(topics["aggregated"], cfg, idle_s=3)]
    assert {(a.fleet_id, a.swarm_id) for a in fleet} == {(r["fleet_id"], r.get("swarm_id")) for r in records}

    # replay from the start: the upserts land on the same keys, the alert ids are the same
    health(cfg, bounded=True, flink_extra=FAIL_FAST,
           **{**overrides, "TXN_PREFIX": f"test-{names.uid}-replay", "STARTUP_MODE": "earliest-offset"})
    assert pg_rows(cfg, f"SELECT count(*) FROM {tables['health']}")[0][0] == len(records)
    assert {(r[0], int(r[1].timestamp() * 1000)) for r in
            pg_rows(cfg, f"SELECT alert_id, ts FROM {tables['alerts']}")} == stored
