"""Ingest and health in one submission (jobs/pipeline.py) over the real broker and database: one
read of the raw topic gives everything the two jobs give apart: the clean topic, dead letters,
`telemetry`, every valid record scored once, and the alerts of the Python reference."""

from __future__ import annotations

import collections
import json
import time

import orjson
import pytest

from aegis.contracts import Alert, Health
from connectors.kafka import KeyedSender, read_topic
from tests.integration.conftest import FAIL_FAST, make_table_like, make_topics, pg_rows
from tests.integration.test_health_stack import create_tables
from udfs.health_alerts import reference_alerts
from udfs.health_config import HealthConfig

pytestmark = pytest.mark.integration


def simulated_records() -> list[dict]:
    from sim import MemorySink, SimConfig, run

    # recent event times: the broker deletes records whose timestamp is past the topic's retention
    start_ms = (int(time.time()) - 3600) // 60 * 60_000
    sink = MemorySink()
    run(SimConfig(vehicles=20, duration_s=240, seed=8, scenario="demo", start_ms=start_ms, clean=True), sink)
    return sorted((json.loads(payload) for _, _, payload, kind in sink.records if kind == "valid"),
                  key=lambda r: r["ts"])


def test_one_submission_gives_what_ingest_and_health_give_apart(names) -> None:
    from jobs.pipeline import pipeline

    cfg = names.cfg
    topics = make_topics(names, "telemetry", "telemetry.clean", "telemetry.dlq", "health", "alerts",
                         "battery", "aggregated")
    tables = {**create_tables(cfg, names.uid), "telemetry": make_table_like(names, "telemetry")}
    records = simulated_records()
    sender = KeyedSender(topics["telemetry"], cfg=cfg)
    resent = records[::200]
    for r in records:
        sender.send(r["vehicle_id"], orjson.dumps(r), r["ts"])
        if r in resent:                  # a retry after a lost ack: the same record again
            sender.send(r["vehicle_id"], orjson.dumps(r), r["ts"])
    sender.send("qc-0001", b'{"vehicle_id": "qc-0001", "ts": ', records[-1]["ts"])
    sender.flush()

    pipeline(cfg, bounded=True, flink_extra=FAIL_FAST,
             TOPIC_TELEMETRY=topics["telemetry"], TOPIC_TELEMETRY_CLEAN=topics["telemetry.clean"],
             TOPIC_TELEMETRY_DLQ=topics["telemetry.dlq"], TOPIC_HEALTH=topics["health"],
             TOPIC_ALERTS=topics["alerts"], TOPIC_BATTERY=topics["battery"],
             TOPIC_AGGREGATED=topics["aggregated"], PG_TABLE_TELEMETRY=tables["telemetry"],
             PG_TABLE_HEALTH=tables["health"], PG_TABLE_ALERTS=tables["alerts"],
             TXN_PREFIX=f"test-{names.uid}", STARTUP_MODE="earliest-offset")

    clean = list(read_topic(topics["telemetry.clean"], cfg, expect=len(records)))
    assert len(clean) == len(records)
    dlq = collections.Counter(orjson.loads(v)["reason"] for _, v in read_topic(topics["telemetry.dlq"], cfg, idle_s=3))
    assert dlq == {"duplicate_seq": len(resent), "invalid_json": 1}
    assert pg_rows(cfg, f"SELECT count(*) FROM {tables['telemetry']}")[0][0] == len(records)

    scored = [Health.model_validate_json(v) for _, v in read_topic(topics["health"], cfg, expect=len(records))]
    assert len({(h.vehicle_id, h.ts) for h in scored}) == len(scored) == len(records)
    assert pg_rows(cfg, f"SELECT count(*) FROM {tables['health']}")[0][0] == len(records)
    alerts = [Alert.model_validate_json(v) for _, v in read_topic(topics["alerts"], cfg, idle_s=3)]
    expected = reference_alerts(records, HealthConfig.from_settings(cfg))
    assert {a["alert_type"] for a in expected} >= {"battery_drain", "motor_imbalance", "gps_drift"}
    got = {(a.vehicle_id, a.alert_type, a.ts, a.severity, a.alert_id) for a in alerts}
    want = {(a["vehicle_id"], a["alert_type"], a["ts"], a["severity"], a["alert_id"]) for a in expected}
    assert got == want, f"only in Flink: {sorted(got - want)}; only in the reference: {sorted(want - got)}"
